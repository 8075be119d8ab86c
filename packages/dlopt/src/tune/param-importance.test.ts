import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../errors.js';
import { Random } from '../util/random.js';
import type { Distribution, ParamValue } from './distributions.js';
import { paramImportances, type ParamImportance } from './param-importance.js';
import type { FrozenTrial, TrialState } from './trial-state.js';

const float = (low: number, high: number, log = false): Distribution => ({ type: 'float', low, high, log });
const int = (low: number, high: number, log = false): Distribution => ({ type: 'int', low, high, log, step: 1 });
const categorical = (...choices: ParamValue[]): Distribution => ({ type: 'categorical', choices });

function makeTrial(
  number: number,
  params: Record<string, [Distribution, ParamValue]>,
  value: number | null,
  state: TrialState = 'COMPLETE',
): FrozenTrial {
  return {
    id: number,
    number,
    state,
    value,
    params: Object.fromEntries(Object.entries(params).map(([name, [, v]]) => [name, v])),
    distributions: Object.fromEntries(Object.entries(params).map(([name, [d]]) => [name, d])),
    intermediate: {},
    userAttrs: {},
    systemAttrs: {},
    startedAt: null,
    completedAt: null,
  };
}

/** n trials whose params come from `sample` and whose value is `objective` of them. */
function study(
  n: number,
  sample: (rng: Random) => Record<string, [Distribution, ParamValue]>,
  objective: (p: Record<string, ParamValue>) => number,
  seed = 1,
): FrozenTrial[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, (_, i) => {
    const params = sample(rng);
    const values = Object.fromEntries(Object.entries(params).map(([name, [, v]]) => [name, v]));
    return makeTrial(i, params, objective(values));
  });
}

const byName = (result: ParamImportance[]): Record<string, number> => Object.fromEntries(result.map((r) => [r.name, r.importance]));
const sum = (result: ParamImportance[]): number => result.reduce((s, r) => s + r.importance, 0);

const quadratic = study(
  200,
  (rng) => ({ x: [float(-1, 1), rng.uniform(-1, 1)], z: [float(-1, 1), rng.uniform(-1, 1)] }),
  (p) => (p.x as number) ** 2,
);

describe('paramImportances', () => {
  it('gives almost everything to the only param the value depends on', () => {
    const result = paramImportances(quadratic);
    assert.deepEqual(
      result.map((r) => r.name),
      ['x', 'z'],
    );
    assert.ok(byName(result).x! > 0.9, JSON.stringify(result));
    assert.ok(Math.abs(sum(result) - 1) < 1e-9);
  });

  it('sums a one-hot categorical back to its param, and handles log-scale params', () => {
    const offsets: Record<string, number> = { adam: 0, sgd: 5, rmsprop: 10 };
    const trials = study(
      150,
      (rng) => ({
        optimizer: [categorical('adam', 'sgd', 'rmsprop'), ['adam', 'sgd', 'rmsprop'][rng.int(3)]!],
        noise: [float(0, 1), rng.next()],
        lr: [float(1e-5, 1e-1, true), Math.exp(rng.uniform(Math.log(1e-5), Math.log(1e-1)))],
        units: [int(8, 512, true), Math.round(Math.exp(rng.uniform(Math.log(8), Math.log(512))))],
      }),
      (p) => offsets[p.optimizer as string]! + 0.1 * (p.noise as number),
    );
    const result = paramImportances(trials);
    const imp = byName(result);
    assert.equal(result[0]!.name, 'optimizer');
    assert.ok(imp.optimizer! > 0.95, JSON.stringify(result));
    assert.ok(imp.noise! < 0.05 && imp.lr! < 0.05 && imp.units! < 0.05, JSON.stringify(result));
    for (const r of result) assert.ok(Number.isFinite(r.importance) && r.importance >= 0);
    assert.ok(Math.abs(sum(result) - 1) < 1e-9);

    const logTrials = study(
      150,
      (rng) => ({
        lr: [float(1e-5, 1e-1, true), Math.exp(rng.uniform(Math.log(1e-5), Math.log(1e-1)))],
        noise: [float(0, 1), rng.next()],
      }),
      (p) => Math.log10(p.lr as number) ** 2 + 0.1 * (p.noise as number),
    );
    const logResult = paramImportances(logTrials);
    assert.ok(byName(logResult).lr! > 0.9, JSON.stringify(logResult));
    // Trees only see the order of a feature's values, which log keeps: the same trials scored on a linear scale match.
    const linear = logTrials.map((t) => ({ ...t, distributions: { ...t.distributions, lr: float(1e-5, 1e-1) } }));
    assert.deepEqual(paramImportances(linear), logResult);
  });

  it('gives 0 to a param that never varies', () => {
    const trials = study(
      100,
      (rng) => ({
        x: [float(0, 1), rng.next()],
        c: [float(0, 10), 3],
        only: [categorical('a'), 'a'],
        k: [categorical('p', 'q'), 'q'],
      }),
      (p) => Math.sin(6 * (p.x as number)),
    );
    const imp = byName(paramImportances(trials));
    assert.equal(imp.c, 0);
    assert.equal(imp.only, 0);
    assert.equal(imp.k, 0);
    assert.equal(imp.x, 1);
  });

  it('uses only COMPLETE trials with a finite value, and needs two of them', () => {
    assert.deepEqual(paramImportances([]), []);
    assert.deepEqual(paramImportances(quadratic.slice(0, 1)), []);
    const x = float(-1, 1);
    const z = float(-1, 1);
    const noisy = [
      makeTrial(0, { x: [x, 0.5], z: [z, 0.1] }, 1),
      makeTrial(1, { x: [x, 0.5], z: [z, 0.2] }, 1000, 'PRUNED'),
      makeTrial(2, { x: [x, 0.5], z: [z, 0.3] }, -1000, 'FAIL'),
      makeTrial(3, { x: [x, 0.5], z: [z, 0.4] }, 7, 'RUNNING'),
      makeTrial(4, { x: [x, 0.5], z: [z, 0.5] }, NaN),
      makeTrial(5, { x: [x, 0.5], z: [z, 0.6] }, Infinity),
      makeTrial(6, { x: [x, 0.5], z: [z, 0.7] }, null),
    ];
    assert.deepEqual(paramImportances(noisy), []);

    // The ignored trials vary z with the value; were they used, z would score.
    const mixed = [...quadratic.slice(0, 100), ...noisy.slice(1).map((t, i) => ({ ...t, number: 1000 + i }))];
    assert.deepEqual(paramImportances(mixed), paramImportances(quadratic.slice(0, 100)));
  });

  it('is deterministic for a seed and sums to 1', () => {
    const trials = study(
      120,
      (rng) => ({ a: [float(0, 1), rng.next()], b: [float(0, 1), rng.next()], c: [int(0, 9), rng.int(10)] }),
      (p) => 3 * (p.a as number) + (p.b as number) + 0.1 * (p.c as number),
    );
    const first = paramImportances(trials, { seed: 7, nTrees: 16 });
    assert.deepEqual(paramImportances(trials, { seed: 7, nTrees: 16 }), first);
    for (const seed of [0, 1, 7]) {
      const result = paramImportances(trials, { seed, nTrees: 16 });
      assert.ok(Math.abs(sum(result) - 1) < 1e-9, `seed ${seed}: ${JSON.stringify(result)}`);
      for (let i = 1; i < result.length; i++) assert.ok(result[i - 1]!.importance >= result[i]!.importance);
    }
    assert.deepEqual(
      first.map((r) => r.name),
      ['a', 'b', 'c'],
    );
  });

  it('gives every param 0 when all values are equal', () => {
    const trials = study(
      30,
      (rng) => ({ b: [float(0, 1), rng.next()], a: [categorical('u', 'v'), rng.int(2) ? 'u' : 'v'] }),
      () => 42,
    );
    assert.deepEqual(paramImportances(trials), [
      { name: 'a', importance: 0 },
      { name: 'b', importance: 0 },
    ]);
  });

  it('scores by default only params every usable trial has with one distribution', () => {
    const trials = quadratic.slice(0, 60).map((t, i) => ({
      ...t,
      params: { ...t.params, ...(i % 2 ? { extra: 1 } : {}), w: i % 3 },
      distributions: { ...t.distributions, ...(i % 2 ? { extra: float(0, 2) } : {}), w: i < 30 ? int(0, 2) : int(0, 5) },
    }));
    assert.deepEqual(
      paramImportances(trials)
        .map((r) => r.name)
        .sort(),
      ['x', 'z'],
    );
  });

  it('takes an explicit list of params', () => {
    const only = paramImportances(quadratic, { params: ['z', 'z'] });
    assert.deepEqual(only, [{ name: 'z', importance: 1 }]);
    assert.deepEqual(paramImportances(quadratic, { params: [] }), []);
    assert.throws(() => paramImportances(quadratic, { params: ['y'] }), UsageError);
    const dynamic = quadratic.map((t, i) => (i === 5 ? { ...t, distributions: { ...t.distributions, x: float(-2, 2) } } : t));
    assert.throws(() => paramImportances(dynamic, { params: ['x'] }), /different distributions/);
    assert.throws(() => paramImportances(quadratic, { nTrees: 0 }), UsageError);
    assert.throws(() => paramImportances(quadratic, { maxDepth: 1.5 }), UsageError);
  });

  it('stops at maxDepth', () => {
    // Depth 1 leaves one split per tree, so each tree gives all its weight to one param.
    const result = paramImportances(quadratic, { maxDepth: 1, nTrees: 8, params: ['x', 'z'] });
    for (const r of result) assert.ok(Math.abs(r.importance * 8 - Math.round(r.importance * 8)) < 1e-9, JSON.stringify(result));
    const deep = paramImportances(quadratic, { nTrees: 8 });
    assert.ok(deep.some((r) => Math.abs(r.importance * 8 - Math.round(r.importance * 8)) > 1e-6), JSON.stringify(deep));
  });
});
