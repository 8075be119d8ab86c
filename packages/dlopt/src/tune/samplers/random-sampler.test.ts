import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSamplerConformance, samplingContext } from '../../test-support/sampler-conformance.js';
import type { Distribution, ParamValue } from '../distributions.js';
import { RandomSampler } from './random-sampler.js';

describeSamplerConformance('RandomSampler', (seed) => new RandomSampler({ seed }));

const N = 20000;

function draws(d: Distribution, n = N): ParamValue[] {
  const sampler = new RandomSampler({ seed: 42 });
  return Array.from({ length: n }, (_, number) => sampler.sampleIndependent(samplingContext({ seed: sampler.seed, number, name: 'p' }), 'p', d));
}

function counts(values: readonly ParamValue[]): Map<ParamValue, number> {
  const c = new Map<ParamValue, number>();
  for (const v of values) c.set(v, (c.get(v) ?? 0) + 1);
  return c;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('RandomSampler', () => {
  it('records the seed it was given, and draws a different one per instance otherwise', () => {
    assert.equal(new RandomSampler({ seed: 7 }).seed, 7);
    const seeds = new Set(Array.from({ length: 5 }, () => new RandomSampler().seed));
    assert.ok(seeds.size >= 4);
    for (const s of seeds) assert.ok(Number.isInteger(s) && s >= 0);
    assert.throws(() => new RandomSampler({ seed: 1.5 }), /integer/);
  });

  it('floats are uniform: mean and quartiles of U(−2, 6)', () => {
    const xs = draws({ type: 'float', low: -2, high: 6, log: false }) as number[];
    // Standard error of the mean: 8/√12/√N ≈ 0.016.
    assert.ok(Math.abs(mean(xs) - 2) < 0.06, `mean ${mean(xs)}`);
    const below0 = xs.filter((x) => x < 0).length / N;
    assert.ok(Math.abs(below0 - 0.25) < 0.015, `P(x < 0) = ${below0}`);
  });

  it('log floats are log-uniform: the mean of ln x is the middle of [ln low, ln high]', () => {
    const xs = draws({ type: 'float', low: 1e-4, high: 1, log: true }) as number[];
    const logs = xs.map(Math.log);
    assert.ok(Math.abs(mean(logs) - Math.log(1e-2)) < 0.06, `mean ln x ${mean(logs)}`);
    // Each decade equally likely.
    const decade = xs.filter((x) => x >= 1e-3 && x < 1e-2).length / N;
    assert.ok(Math.abs(decade - 0.25) < 0.015, `P(1e-3 ≤ x < 1e-2) = ${decade}`);
  });

  it('ints hit both endpoints, every value about equally often', () => {
    const c = counts(draws({ type: 'int', low: 1, high: 6, log: false, step: 1 }));
    assert.deepEqual([...c.keys()].sort(), [1, 2, 3, 4, 5, 6]);
    for (const [v, n] of c) assert.ok(Math.abs(n / N - 1 / 6) < 0.015, `${v}: ${n / N}`);
  });

  it('stepped ints and floats stay on the grid, endpoints included, uniformly', () => {
    const ints = counts(draws({ type: 'int', low: 0, high: 10, log: false, step: 5 }));
    assert.deepEqual([...ints.keys()].sort((a, b) => Number(a) - Number(b)), [0, 5, 10]);
    for (const [v, n] of ints) assert.ok(Math.abs(n / N - 1 / 3) < 0.02, `${v}: ${n / N}`);
    const floats = counts(draws({ type: 'float', low: 0, high: 0.3, log: false, step: 0.1 }));
    assert.deepEqual([...floats.keys()].sort(), [0, 0.1, 0.2, 0.3]);
    for (const [v, n] of floats) assert.ok(Math.abs(n / N - 1 / 4) < 0.02, `${v}: ${n / N}`);
  });

  it('log ints: each value in proportion to the log-width of its bin', () => {
    const c = counts(draws({ type: 'int', low: 1, high: 8, log: true, step: 1 }));
    const total = Math.log(8.5 / 0.5);
    for (let v = 1; v <= 8; v++) {
      const expected = Math.log((v + 0.5) / (v - 0.5)) / total;
      assert.ok(Math.abs((c.get(v) ?? 0) / N - expected) < 0.015, `${v}: ${(c.get(v) ?? 0) / N} vs ${expected}`);
    }
  });

  it('categorical choices of mixed types come out equally often', () => {
    const choices = ['a', 1, true, null];
    const c = counts(draws({ type: 'categorical', choices }));
    assert.equal(c.size, 4);
    for (const choice of choices) assert.ok(Math.abs((c.get(choice) ?? 0) / N - 0.25) < 0.015, `${String(choice)}: ${c.get(choice)}`);
  });

  it('single-value ranges return that value', () => {
    assert.deepEqual(new Set(draws({ type: 'float', low: 2.5, high: 2.5, log: false }, 50)), new Set([2.5]));
    assert.deepEqual(new Set(draws({ type: 'int', low: 3, high: 3, log: true, step: 1 }, 50)), new Set([3]));
  });

  it('rejects invalid distributions with a clear message', () => {
    const sampler = new RandomSampler({ seed: 1 });
    const ctx = samplingContext({ seed: 1, number: 0, name: 'p' });
    assert.throws(() => sampler.sampleIndependent(ctx, 'p', { type: 'float', low: 1, high: 0, log: false }), /low must be ≤ high/);
    assert.throws(() => sampler.sampleIndependent(ctx, 'p', { type: 'float', low: 0, high: 1, log: true }), /log needs low > 0/);
    assert.throws(() => sampler.sampleIndependent(ctx, 'p', { type: 'int', low: 0, high: 1.5, log: false, step: 1 }), /integers/);
    assert.throws(() => sampler.sampleIndependent(ctx, 'p', { type: 'categorical', choices: [] }), /at least one choice/);
  });
});
