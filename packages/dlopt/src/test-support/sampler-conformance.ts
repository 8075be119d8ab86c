import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Distribution, ParamValue } from '../tune/distributions.js';
import type { Sampler, SamplingContext } from '../tune/samplers/sampler.js';
import type { Direction, FrozenTrial, TrialState } from '../tune/trial-state.js';
import { trialRandom } from '../tune/distribution-utils.js';
import { Random, deriveSeed } from '../util/random.js';

/**
 * One parameter of each kind a sampler must handle. Samplers that only accept
 * values given up front (grid) build their space from this table.
 */
export const CONFORMANCE_DISTRIBUTIONS: Readonly<Record<string, Distribution>> = Object.freeze({
  float: { type: 'float', low: -2, high: 3, log: false },
  floatLog: { type: 'float', low: 1e-5, high: 0.1, log: true },
  // 0.1 is not exact in binary, and 1.05 is off the grid: the top value is 1.
  floatStep: { type: 'float', low: 0, high: 1.05, log: false, step: 0.1 },
  int: { type: 'int', low: -3, high: 7, log: false, step: 1 },
  intLog: { type: 'int', low: 1, high: 1024, log: true, step: 1 },
  intStep: { type: 'int', low: 2, high: 21, log: false, step: 3 },
  categorical: { type: 'categorical', choices: ['adam', 3, true, null, 0.5, false] },
  singleFloat: { type: 'float', low: 0.25, high: 0.25, log: false },
  singleInt: { type: 'int', low: 4, high: 4, log: false, step: 1 },
  singleCategorical: { type: 'categorical', choices: ['only'] },
});

/** Why `value` is not a value of `d`, or undefined when it is (written apart from the samplers' own helpers). */
export function whyNotInside(d: Distribution, value: ParamValue): string | undefined {
  if (d.type === 'categorical') return d.choices.some((c) => Object.is(c, value)) ? undefined : `${JSON.stringify(value)} is not one of the choices`;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${JSON.stringify(value)} is not a finite number`;
  if (d.type === 'int' && !Number.isInteger(value)) return `${value} is not an integer`;
  if (value < d.low || value > d.high) return `${value} is outside [${d.low}, ${d.high}]`;
  const step = d.step;
  if (step !== undefined) {
    const k = (value - d.low) / step;
    if (Math.abs(k - Math.round(k)) > 1e-9 * Math.max(1, Math.abs(k))) return `${value} is not on the grid ${d.low} + k·${step}`;
  }
  return undefined;
}

/** The study's own derivation of ctx.rng from (seed, trial number, parameter name or '#relative'). */
export { trialRandom };

export function frozenTrial(fields: Partial<FrozenTrial> & { number: number }): FrozenTrial {
  return {
    id: fields.number + 1,
    state: 'COMPLETE',
    value: null,
    params: {},
    distributions: {},
    intermediate: {},
    userAttrs: {},
    systemAttrs: {},
    startedAt: null,
    completedAt: null,
    ...fields,
  };
}

export interface ContextOptions {
  seed: number;
  /** The number of the trial being sampled. */
  number: number;
  /** The parameter being sampled ('#relative' for sampleRelative). */
  name: string;
  trials?: readonly FrozenTrial[];
  direction?: Direction;
  /** Params the trial already has. */
  params?: Record<string, ParamValue>;
  distributions?: Record<string, Distribution>;
}

export function samplingContext(o: ContextOptions): SamplingContext {
  return {
    direction: o.direction ?? 'minimize',
    trials: o.trials ?? [],
    trial: frozenTrial({ number: o.number, state: 'RUNNING', params: o.params ?? {}, distributions: o.distributions ?? {} }),
    rng: trialRandom(o.seed, o.number, o.name),
  };
}

/** A valid value of `d`, drawn with `rng` (for history fixtures). */
export function validValue(d: Distribution, rng: Random): ParamValue {
  if (d.type === 'categorical') return d.choices[rng.int(d.choices.length)]!;
  if (d.log) {
    const v = Math.exp(rng.uniform(Math.log(d.low), Math.log(d.high)));
    return d.type === 'int' ? Math.min(d.high, Math.max(d.low, Math.round(v))) : Math.min(d.high, Math.max(d.low, v));
  }
  if (d.step === undefined) return rng.uniform(d.low, d.high);
  const k = rng.int(Math.floor((d.high - d.low) / d.step + 1e-9) + 1);
  return d.type === 'int' ? d.low + k * d.step : Number((d.low + k * d.step).toPrecision(15));
}

/**
 * 40 trials of every state: COMPLETE (most), PRUNED (at several depths, one
 * with no report, one whose last report is NaN), RUNNING (with params, no
 * value), FAIL, WAITING; some lack parameters, some have a parameter with
 * another distribution or a value outside today's range. Deep-frozen, so a
 * sampler that writes to it throws.
 */
export function conformanceHistory(seed = 0): readonly FrozenTrial[] {
  const rng = new Random(deriveSeed(seed, 0x5eed));
  const trials: FrozenTrial[] = [];
  const states: TrialState[] = ['COMPLETE', 'COMPLETE', 'COMPLETE', 'PRUNED', 'COMPLETE', 'RUNNING', 'COMPLETE', 'FAIL', 'COMPLETE'];
  for (let number = 0; number < 40; number++) {
    const state: TrialState = number === 8 ? 'WAITING' : states[number % states.length]!;
    const params: Record<string, ParamValue> = {};
    const distributions: Record<string, Distribution> = {};
    if (state !== 'WAITING') {
      for (const [name, d] of Object.entries(CONFORMANCE_DISTRIBUTIONS)) {
        if (rng.next() < 0.15) continue;
        params[name] = validValue(d, rng);
        distributions[name] = d;
      }
    }
    const odd: Record<number, [string, Distribution, ParamValue]> = {
      2: ['float', { type: 'categorical', choices: ['a', 'b'] }, 'a'],
      4: ['int', { type: 'float', low: 0, high: 10, log: false }, 2.5],
      6: ['floatLog', { type: 'float', low: 1e-5, high: 10, log: true }, 5],
      10: ['categorical', { type: 'categorical', choices: ['x', 'y'] }, 'x'],
      11: ['intStep', { type: 'int', low: 0, high: 30, log: false, step: 1 }, 3],
      12: ['float', { type: 'float', low: -100, high: 100, log: false }, 50],
      13: ['intLog', { type: 'int', low: 1, high: 4096, log: true, step: 1 }, 4000],
    };
    const o = odd[number];
    if (o) {
      params[o[0]] = o[2];
      distributions[o[0]] = o[1];
    }
    let value: number | null = null;
    let intermediate: Record<number, number> = {};
    if (state === 'COMPLETE') value = number === 9 ? 1e300 : rng.normal();
    if (state === 'PRUNED') {
      const depth = number % 4;
      for (let step = 0; step < depth; step++) intermediate[step] = rng.normal();
      if (number === 21) intermediate = { 0: 1, 1: Number.NaN };
      if (depth > 0) value = intermediate[depth - 1]!;
    }
    trials.push(frozenTrial({ number, state, value, params, distributions, intermediate, startedAt: state === 'WAITING' ? null : 1000 * number, completedAt: state === 'COMPLETE' || state === 'PRUNED' || state === 'FAIL' ? 1000 * number + 500 : null }));
  }
  return deepFreeze(trials);
}

function deepFreeze<T>(x: T): T {
  if (x !== null && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

export type SamplerFactory = (seed: number) => Sampler;

const HISTORIES = { empty: (): readonly FrozenTrial[] => [], mixed: (): readonly FrozenTrial[] => conformanceHistory(3) };
type HistoryName = keyof typeof HISTORIES;

function sampleAt(sampler: Sampler, seed: number, trials: readonly FrozenTrial[], number: number, name: string, d: Distribution, direction: Direction = 'minimize'): ParamValue {
  return sampler.sampleIndependent(samplingContext({ seed, number, name, trials, direction }), name, d);
}

/** Every kind of distribution: each value is inside it, on its grid, of its type. */
export function checkValuesInside(factory: SamplerFactory, direction: Direction, history: HistoryName): void {
  const trials = HISTORIES[history]();
  const sampler = factory(11);
  for (const [name, d] of Object.entries(CONFORMANCE_DISTRIBUTIONS)) {
    for (let t = 0; t < 12; t++) {
      const v = sampleAt(sampler, sampler.seed, trials, trials.length + t, name, d, direction);
      const why = whyNotInside(d, v);
      assert.equal(why, undefined, `${name} (${JSON.stringify(d)}), trial ${trials.length + t}: ${why}`);
    }
  }
}

/** The same seed and the same trials give the same value, from the same instance or a new one. */
export function checkReproducible(factory: SamplerFactory): void {
  for (const history of Object.keys(HISTORIES) as HistoryName[]) {
    const trials = HISTORIES[history]();
    const a = factory(5);
    const b = factory(5);
    for (const [name, d] of Object.entries(CONFORMANCE_DISTRIBUTIONS)) {
      for (let t = 0; t < 4; t++) {
        const number = trials.length + t;
        const first = sampleAt(a, a.seed, trials, number, name, d);
        assert.deepEqual(sampleAt(a, a.seed, trials, number, name, d), first, `${name}, ${history} history: same instance, second call`);
        assert.deepEqual(sampleAt(b, b.seed, trials, number, name, d), first, `${name}, ${history} history: another instance with the same seed`);
      }
    }
  }
}

/** Different trial numbers (almost always) get different values of a continuous parameter. */
export function checkVariesWithTrialNumber(factory: SamplerFactory): void {
  for (const history of Object.keys(HISTORIES) as HistoryName[]) {
    const trials = HISTORIES[history]();
    const sampler = factory(9);
    const values = new Set<ParamValue>();
    for (let t = 0; t < 20; t++) values.add(sampleAt(sampler, sampler.seed, trials, trials.length + t, 'float', CONFORMANCE_DISTRIBUTIONS.float!));
    assert.ok(values.size >= 15, `${history} history: only ${values.size} distinct values in 20 trials: ${[...values].join(', ')}`);
  }
}

/** Different seeds give different sequences. */
export function checkVariesWithSeed(factory: SamplerFactory): void {
  const sequence = (seed: number): ParamValue[] => {
    const sampler = factory(seed);
    return Array.from({ length: 10 }, (_, t) => sampleAt(sampler, sampler.seed, [], t, 'float', CONFORMANCE_DISTRIBUTIONS.float!));
  };
  assert.notDeepEqual(sequence(1), sequence(2));
}

/** The trials (and the trial) in the context are left as they were. */
export function checkDoesNotMutate(factory: SamplerFactory): void {
  const trials = conformanceHistory(4);
  const before = JSON.stringify(trials);
  const sampler = factory(2);
  for (const direction of ['minimize', 'maximize'] as const) {
    for (const [name, d] of Object.entries(CONFORMANCE_DISTRIBUTIONS)) {
      const ctx = samplingContext({ seed: sampler.seed, number: trials.length, name, trials, direction, params: { other: 1 }, distributions: { other: { type: 'int', low: 0, high: 3, log: false, step: 1 } } });
      deepFreeze(ctx.trial);
      const ctxTrial = JSON.stringify(ctx.trial);
      sampler.sampleIndependent(ctx, name, d);
      if (sampler.sampleRelative) {
        sampler.sampleRelative({ ...ctx, rng: trialRandom(sampler.seed, trials.length, '#relative') }, CONFORMANCE_DISTRIBUTIONS);
      }
      assert.equal(JSON.stringify(ctx.trial), ctxTrial, `${name}: ctx.trial changed`);
    }
  }
  assert.equal(JSON.stringify(trials), before, 'ctx.trials changed');
}

/** sampleRelative, where there is one: only keys of the space, values inside it, reproducible. */
export function checkRelative(factory: SamplerFactory): void {
  const space = CONFORMANCE_DISTRIBUTIONS;
  for (const history of Object.keys(HISTORIES) as HistoryName[]) {
    for (const direction of ['minimize', 'maximize'] as const) {
      const trials = HISTORIES[history]();
      const a = factory(13);
      const b = factory(13);
      if (!a.sampleRelative) return;
      for (let t = 0; t < 5; t++) {
        const ctx = (): SamplingContext => samplingContext({ seed: a.seed, number: trials.length + t, name: '#relative', trials, direction });
        const values: Record<string, ParamValue> = a.sampleRelative(ctx(), space);
        for (const [name, v] of Object.entries(values)) {
          const d = space[name];
          assert.ok(d, `sampleRelative returned "${name}", which is not in the space`);
          assert.equal(whyNotInside(d, v), undefined, `${name}: ${whyNotInside(d, v)}`);
        }
        assert.deepEqual(b.sampleRelative!(ctx(), space), values, `${history} history: another instance with the same seed`);
      }
    }
  }
}

/**
 * The tests every sampler passes, each the same way (call it from the
 * sampler's own test file): for every kind of distribution (float, log, step,
 * int, int log, int step, categorical of mixed types, low == high) values are
 * inside it, on its grid, of its type, with no history and with a history of
 * trials in every state (including trials lacking the parameter or having it
 * with another distribution), minimizing and maximizing; the same seed and
 * trials give the same value; different trial numbers and seeds give
 * different values; ctx.trials is not touched; sampleRelative, where there is
 * one, stays inside its space.
 */
export function describeSamplerConformance(name: string, factory: SamplerFactory): void {
  describe(`${name} (sampler conformance)`, () => {
    for (const direction of ['minimize', 'maximize'] as const) {
      for (const history of Object.keys(HISTORIES) as HistoryName[]) {
        it(`values inside every kind of distribution (${direction}, ${history} history)`, () => checkValuesInside(factory, direction, history));
      }
    }
    it('same seed and same trials give the same value', () => checkReproducible(factory));
    it('different trial numbers give different values', () => checkVariesWithTrialNumber(factory));
    it('different seeds give different values', () => checkVariesWithSeed(factory));
    it('does not mutate ctx.trials or ctx.trial', () => checkDoesNotMutate(factory));
    it('sampleRelative (where implemented) stays inside its space and is reproducible', () => checkRelative(factory));
  });
}
