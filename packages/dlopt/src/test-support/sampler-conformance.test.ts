import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Distribution, ParamValue } from '../tune/distributions.js';
import type { Sampler, SamplingContext } from '../tune/samplers/sampler.js';
import {
  CONFORMANCE_DISTRIBUTIONS,
  checkDoesNotMutate,
  checkRelative,
  checkReproducible,
  checkValuesInside,
  checkVariesWithSeed,
  checkVariesWithTrialNumber,
  conformanceHistory,
  describeSamplerConformance,
  trialRandom,
  validValue,
  whyNotInside,
} from './sampler-conformance.js';

/** Known good: the fixture generator's own uniform draw, from ctx.rng only. */
class ReferenceSampler implements Sampler {
  readonly name = 'reference';
  constructor(readonly seed: number) {}
  sampleIndependent(ctx: SamplingContext, _name: string, d: Distribution): ParamValue {
    return validValue(d, ctx.rng);
  }
  sampleRelative(ctx: SamplingContext, space: Readonly<Record<string, Distribution>>): Record<string, ParamValue> {
    return Object.fromEntries(Object.entries(space).map(([k, d]) => [k, validValue(d, ctx.rng)]));
  }
}

describeSamplerConformance('ReferenceSampler', (seed) => new ReferenceSampler(seed));

/** A reference sampler with one method replaced. */
function broken(sampleIndependent: (ctx: SamplingContext, name: string, d: Distribution) => ParamValue, relative?: Sampler['sampleRelative']): (seed: number) => Sampler {
  return (seed) => {
    const s = new ReferenceSampler(seed) as Sampler & { sampleRelative?: Sampler['sampleRelative'] };
    s.sampleIndependent = sampleIndependent;
    if (relative) s.sampleRelative = relative;
    return s;
  };
}

describe('sampler conformance catches broken samplers', () => {
  it('values outside the range, off the grid, of the wrong type', () => {
    const shifted = broken((ctx, _n, d) => (d.type === 'categorical' ? validValue(d, ctx.rng) : d.high + 1));
    assert.throws(() => checkValuesInside(shifted, 'minimize', 'empty'), /outside/);
    const offGrid = broken((ctx, _n, d) => (d.type === 'float' && d.step !== undefined ? d.low + d.step / 3 : validValue(d, ctx.rng)));
    assert.throws(() => checkValuesInside(offGrid, 'minimize', 'empty'), /grid/);
    const fractional = broken((ctx, _n, d) => (d.type === 'int' ? d.low + 0.5 : validValue(d, ctx.rng)));
    assert.throws(() => checkValuesInside(fractional, 'maximize', 'mixed'), /integer/);
    const stringly = broken((ctx, _n, d) => (d.type === 'categorical' ? String(validValue(d, ctx.rng)) : validValue(d, ctx.rng)));
    assert.throws(() => checkValuesInside(stringly, 'minimize', 'empty'), /choices/);
  });

  it('randomness that does not come from ctx.rng', () => {
    const unseeded = broken((_ctx, _n, d) => (d.type === 'float' && !d.log && d.step === undefined ? d.low + Math.random() * (d.high - d.low) : d.type === 'categorical' ? d.choices[0]! : d.low));
    assert.throws(() => checkReproducible(unseeded), /same/);
  });

  it('constant values', () => {
    const constant = broken((_ctx, _n, d) => (d.type === 'categorical' ? d.choices[0]! : d.low));
    assert.throws(() => checkVariesWithTrialNumber(constant), /distinct/);
    assert.throws(() => checkVariesWithSeed(constant));
  });

  it('writing to the trials', () => {
    const writer = broken((ctx, name, d) => {
      (ctx.trials[0]!.params as Record<string, ParamValue>)[name] = 0;
      return validValue(d, ctx.rng);
    });
    assert.throws(() => checkDoesNotMutate(writer), TypeError);
  });

  it('sampleRelative returning names outside the space or values outside it', () => {
    const extra = broken((ctx, _n, d) => validValue(d, ctx.rng), () => ({ nope: 1 }));
    assert.throws(() => checkRelative(extra), /not in the space/);
    const outside = broken((ctx, _n, d) => validValue(d, ctx.rng), () => ({ int: 0.5 }));
    assert.throws(() => checkRelative(outside), /integer/);
  });
});

describe('sampler conformance fixtures', () => {
  it('the history holds every state, odd distributions, and trials lacking params', () => {
    const trials = conformanceHistory(3);
    const states = new Set(trials.map((t) => t.state));
    assert.deepEqual([...states].sort(), ['COMPLETE', 'FAIL', 'PRUNED', 'RUNNING', 'WAITING']);
    assert.ok(trials.filter((t) => t.state === 'COMPLETE').length >= 20);
    assert.ok(trials.some((t) => t.state === 'PRUNED' && Object.keys(t.intermediate).length === 0));
    assert.ok(trials.some((t) => t.state === 'PRUNED' && Object.values(t.intermediate).some(Number.isNaN)));
    assert.ok(trials.some((t) => t.state === 'RUNNING' && Object.keys(t.params).length > 0 && t.value === null));
    assert.ok(trials.some((t) => t.distributions.float?.type === 'categorical'));
    for (const name of Object.keys(CONFORMANCE_DISTRIBUTIONS)) {
      assert.ok(trials.some((t) => t.state !== 'WAITING' && !(name in t.params)), `some trial lacks ${name}`);
    }
    assert.ok(Object.isFrozen(trials) && Object.isFrozen(trials[0]!.params));
  });

  it('fixture values of the table are inside their distributions', () => {
    const rng = trialRandom(1, 2, 'x');
    for (const d of Object.values(CONFORMANCE_DISTRIBUTIONS)) {
      for (let i = 0; i < 200; i++) {
        const v = validValue(d, rng);
        assert.equal(whyNotInside(d, v), undefined);
      }
    }
  });

  it('the rng depends on seed, trial number and parameter name', () => {
    const first = (seed: number, n: number, name: string): number => trialRandom(seed, n, name).next();
    assert.equal(first(1, 2, 'lr'), first(1, 2, 'lr'));
    assert.notEqual(first(1, 2, 'lr'), first(2, 2, 'lr'));
    assert.notEqual(first(1, 2, 'lr'), first(1, 3, 'lr'));
    assert.notEqual(first(1, 2, 'lr'), first(1, 2, 'wd'));
  });
});
