import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFORMANCE_DISTRIBUTIONS, describeSamplerConformance, frozenTrial, samplingContext, trialRandom, validValue } from '../../test-support/sampler-conformance.js';
import type { Distribution, ParamValue } from '../distributions.js';
import type { FrozenTrial } from '../trial-state.js';
import { GridSampler } from './grid-sampler.js';

/** A grid of valid values of the conformance table: 100 for the continuous float (so trials differ), a few for the rest. */
function conformanceGrid(): Record<string, ParamValue[]> {
  const rng = trialRandom(0, 0, 'grid');
  const grid: Record<string, ParamValue[]> = {};
  for (const [name, d] of Object.entries(CONFORMANCE_DISTRIBUTIONS)) {
    if (d.type === 'categorical') grid[name] = [...d.choices];
    else grid[name] = [...new Set(Array.from({ length: name === 'float' ? 100 : 2 }, () => validValue(d, rng)))];
  }
  return grid;
}

describeSamplerConformance('GridSampler', (seed) => new GridSampler(conformanceGrid(), { seed }));

const lr: Distribution = { type: 'float', low: 1e-4, high: 1, log: true };
const depth: Distribution = { type: 'int', low: 1, high: 8, log: false, step: 1 };
const opt: Distribution = { type: 'categorical', choices: ['adam', 'sgd'] };
const space = { lr: [1e-3, 1e-2, 1e-1], depth: [2, 4], opt: ['adam', 'sgd'] };

/** Runs trials 0..n−1 sequentially as a study would, each seeing the ones before it. */
function run(sampler: GridSampler, n: number): Record<string, ParamValue>[] {
  const trials: FrozenTrial[] = [];
  for (let number = 0; number < n; number++) {
    const params: Record<string, ParamValue> = {};
    for (const [name, d] of [['opt', opt], ['lr', lr], ['depth', depth]] as const) {
      params[name] = sampler.sampleIndependent(samplingContext({ seed: sampler.seed, number, name, trials }), name, d);
    }
    trials.push(frozenTrial({ number, params, value: number }));
  }
  return trials.map((t) => t.params);
}

const key = (p: Record<string, ParamValue>): string => JSON.stringify([p.lr, p.depth, p.opt]);

describe('GridSampler', () => {
  it('visits every grid point exactly once in the first |grid| trials', () => {
    const sampler = new GridSampler(space, { seed: 3 });
    assert.equal(sampler.size, 12);
    const points = run(sampler, 12).map(key);
    assert.equal(new Set(points).size, 12);
    const all = space.lr.flatMap((l) => space.depth.flatMap((d) => space.opt.map((o) => JSON.stringify([l, d, o]))));
    assert.deepEqual([...points].sort(), all.sort());
  });

  it('repeats the grid in the same order once exhausted', () => {
    const points = run(new GridSampler(space, { seed: 3 }), 30).map(key);
    assert.deepEqual(points.slice(12, 24), points.slice(0, 12));
    assert.deepEqual(points.slice(24), points.slice(0, 6));
  });

  it('the order follows the seed, and not the order params are listed in', () => {
    const a = run(new GridSampler(space, { seed: 3 }), 12).map(key);
    assert.deepEqual(run(new GridSampler({ opt: space.opt, depth: space.depth, lr: space.lr }, { seed: 3 }), 12).map(key), a);
    assert.notDeepEqual(run(new GridSampler(space, { seed: 4 }), 12).map(key), a);
  });

  it('picks by trial number, whatever the snapshot holds', () => {
    const sampler = new GridSampler(space, { seed: 3 });
    const sequential = run(sampler, 12);
    // Trial 5 sampled while trials 6 and 7 (other workers) already exist.
    const snapshot = [0, 1, 2, 3, 4, 6, 7].map((number) => frozenTrial({ number, state: number > 4 ? 'RUNNING' : 'COMPLETE' }));
    const v = sampler.sampleIndependent(samplingContext({ seed: 3, number: 5, name: 'lr', trials: snapshot }), 'lr', lr);
    assert.equal(v, sequential[5]!.lr);
    // A filtered view (say one Hyperband bracket) holding no earlier trial at all.
    assert.equal(sampler.sampleIndependent(samplingContext({ seed: 3, number: 7, name: 'lr', trials: [] }), 'lr', lr), sequential[7]!.lr);
  });

  it('a parameter not in the grid is a clear error', () => {
    const sampler = new GridSampler(space, { seed: 1 });
    assert.throws(
      () => sampler.sampleIndependent(samplingContext({ seed: 1, number: 0, name: 'wd' }), 'wd', lr),
      /parameter "wd" is not in the grid \(grid parameters: depth, lr, opt\)/,
    );
  });

  it('a grid value outside the distribution is a clear error', () => {
    const at = (values: ParamValue[], d: Distribution): (() => ParamValue) => {
      const sampler = new GridSampler({ x: values }, { seed: 1 });
      return () => sampler.sampleIndependent(samplingContext({ seed: 1, number: 0, name: 'x' }), 'x', d);
    };
    assert.throws(at([5], { type: 'float', low: 0, high: 1, log: false }), /grid value 5 of "x" is not a value of its distribution \(float \[0, 1\]\)/);
    assert.throws(at([0.25], { type: 'float', low: 0, high: 1, log: false, step: 0.1 }), /not a value of its distribution \(float \[0, 1\] step 0.1\)/);
    assert.throws(at([2.5], depth), /grid value 2.5/);
    assert.throws(at([3], { type: 'int', low: 0, high: 10, log: false, step: 2 }), /grid value 3/);
    assert.throws(at(['rmsprop'], opt), /grid value "rmsprop"/);
    assert.throws(at(['1'], { type: 'float', low: 0, high: 2, log: false }), /grid value "1"/);
    assert.equal(at([0.3], { type: 'float', low: 0, high: 1, log: false, step: 0.1 })(), 0.3);
  });

  it('rejects an empty list of values', () => {
    assert.throws(() => new GridSampler({ lr: [] }), /"lr" needs a non-empty list of values/);
  });

  it('huge grids are never materialised', () => {
    const values = Array.from({ length: 40 }, (_, i) => i);
    const big = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`p${i}`, values]));
    const sampler = new GridSampler(big, { seed: 1 });
    assert.equal(sampler.size, 40 ** 9);
    const d: Distribution = { type: 'int', low: 0, high: 39, log: false, step: 1 };
    const seen = new Set<string>();
    for (let number = 0; number < 200; number++) {
      const trials = Array.from({ length: number }, (_, i) => frozenTrial({ number: i }));
      const point = Object.keys(big).map((name) => sampler.sampleIndependent(samplingContext({ seed: 1, number, name, trials }), name, d));
      seen.add(point.join(','));
    }
    assert.equal(seen.size, 200);
  });
});
