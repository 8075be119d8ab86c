import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pruner, PruningContext } from '../tune/pruners/pruner.js';
import type { Direction, FrozenTrial, TrialState } from '../tune/trial-state.js';
import { Random } from '../util/random.js';

/** A trial as a storage would hand it to a pruner; `value` is the last report for COMPLETE and PRUNED trials. */
export function frozenTrial(
  number: number,
  state: TrialState,
  intermediate: Record<number, number> = {},
  overrides: Partial<FrozenTrial> = {},
): FrozenTrial {
  const steps = Object.keys(intermediate).map(Number).sort((a, b) => a - b);
  const last = steps.length > 0 ? intermediate[steps.at(-1)!]! : null;
  const finished = state === 'COMPLETE' || state === 'PRUNED' || state === 'FAIL';
  return {
    id: 1000 + number,
    number,
    state,
    value: state === 'COMPLETE' || state === 'PRUNED' ? last : null,
    params: {},
    distributions: {},
    intermediate,
    userAttrs: {},
    systemAttrs: {},
    startedAt: state === 'WAITING' ? null : 1_000_000 + number * 1000,
    // Completion follows the trial numbers unless a test says otherwise.
    completedAt: finished ? 1_000_000 + number * 1000 + 999 : null,
    ...overrides,
  };
}

/** `values` reported at consecutive steps from `firstStep`. */
export function curve(values: readonly number[], firstStep = 0): Record<number, number> {
  const out: Record<number, number> = {};
  values.forEach((v, i) => (out[firstStep + i] = v));
  return out;
}

export function pruningContext(
  trial: FrozenTrial,
  trials: readonly FrozenTrial[],
  direction: Direction = 'minimize',
  studyName = 'study',
): PruningContext {
  return { direction, studyName, trials, trial };
}

/** The same study with every value negated and the other direction: any direction-aware pruner must decide the same. */
export function mirrorContext(ctx: PruningContext): PruningContext {
  const mirror = (t: FrozenTrial): FrozenTrial => ({
    ...t,
    value: t.value === null ? null : -t.value,
    intermediate: Object.fromEntries(Object.entries(t.intermediate).map(([k, v]) => [k, -v])),
  });
  return {
    direction: ctx.direction === 'minimize' ? 'maximize' : 'minimize',
    studyName: ctx.studyName,
    trials: ctx.trials.map(mirror),
    trial: mirror(ctx.trial),
  };
}

interface History {
  label: string;
  direction: Direction;
  trials: FrozenTrial[];
  /** The trial asking, with all it will report; contexts show it one report at a time. */
  asking: FrozenTrial;
}

/**
 * Studies in the states a pruner meets: completed trials (some with gaps in
 * their steps, some with NaN values), pruned, failed, running and waiting
 * neighbours, trials with no reports, an empty study; the asking trial skips
 * steps too. Losses fall like learning curves, so the pruners have real
 * decisions to make.
 */
export function conformanceHistories(): History[] {
  const histories: History[] = [];
  for (const direction of ['minimize', 'maximize'] as const) {
    for (let seed = 1; seed <= 4; seed++) histories.push(randomHistory(seed, direction));
    histories.push({ label: `empty study (${direction})`, direction, trials: [], asking: frozenTrial(0, 'RUNNING', curve([3, 2, 1.5, 1.2, 1.1])) });
    histories.push({
      label: `only running and pruned neighbours (${direction})`,
      direction,
      trials: [
        frozenTrial(0, 'PRUNED', curve([2, 1.9])),
        frozenTrial(1, 'RUNNING', curve([1, 0.8, 0.7, 0.6])),
        frozenTrial(2, 'FAIL', curve([1, Number.NaN])),
        frozenTrial(3, 'RUNNING'),
      ],
      asking: frozenTrial(4, 'RUNNING', curve([1.5, 1.2, 1.1, 1.05, 1.0, 0.99])),
    });
  }
  return histories;
}

function randomHistory(seed: number, direction: Direction): History {
  const rng = new Random(seed * 7919);
  const length = 12 + rng.int(30);
  const sign = direction === 'minimize' ? 1 : -1;
  const lossCurve = (quality: number, n: number, opts: { gaps?: boolean; nan?: boolean } = {}): Record<number, number> => {
    const out: Record<number, number> = {};
    for (let t = 0; t < n; t++) {
      if (opts.gaps && t > 0 && t < n - 1 && rng.next() < 0.3) continue;
      const loss = (0.3 + quality) * (1 + 2 * Math.exp(-t / 6)) + 0.03 * rng.normal();
      out[t] = opts.nan && rng.next() < 0.2 ? Number.NaN : sign * loss;
    }
    return out;
  };
  const states: TrialState[] = ['COMPLETE', 'COMPLETE', 'PRUNED', 'COMPLETE', 'RUNNING', 'COMPLETE', 'FAIL', 'COMPLETE', 'PRUNED', 'COMPLETE', 'WAITING', 'COMPLETE', 'RUNNING', 'COMPLETE', 'PRUNED'];
  const trials = states.map((state, number) => {
    const quality = rng.next();
    const gaps = number % 4 === 3;
    const nan = number % 5 === 4 || state === 'FAIL';
    const n = state === 'COMPLETE' ? length : state === 'WAITING' ? 0 : state === 'RUNNING' && number === 12 ? 0 : 1 + rng.int(length - 1);
    // Completion order differs from numbering, so "the first completed trial" is not simply the first one.
    return frozenTrial(number, state, lossCurve(quality, n, { gaps, nan }), { completedAt: state === 'COMPLETE' || state === 'PRUNED' || state === 'FAIL' ? 1_000_000 + rng.int(1_000_000) : null });
  });
  const asking = frozenTrial(states.length, 'RUNNING', lossCurve(rng.next(), length, { gaps: true, nan: seed === 3 }));
  if (seed === 4) {
    // Diverges at the end: a NaN latest value after finite ones.
    const steps = Object.keys(asking.intermediate).map(Number);
    asking.intermediate[Math.max(...steps) + 1] = Number.NaN;
  }
  return { label: `seed ${seed} (${direction})`, direction, trials, asking };
}

/** The asking trial after each of its reports, in every history. */
export function conformanceContexts(): { label: string; ctx: PruningContext }[] {
  const out: { label: string; ctx: PruningContext }[] = [];
  for (const h of conformanceHistories()) {
    const steps = Object.keys(h.asking.intermediate).map(Number).sort((a, b) => a - b);
    for (let i = 1; i <= steps.length; i++) {
      const intermediate = Object.fromEntries(steps.slice(0, i).map((s) => [s, h.asking.intermediate[s]!]));
      out.push({ label: `${h.label}, step ${steps[i - 1]}`, ctx: pruningContext({ ...h.asking, intermediate }, h.trials, h.direction, `conformance-${h.label}`) });
    }
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function decide(pruner: Pruner, ctx: PruningContext, label: string): boolean {
  let answer: unknown;
  try {
    answer = pruner.prune(ctx);
  } catch (error) {
    throw new assert.AssertionError({ message: `${pruner.name} threw on ${label}: ${String(error)}` });
  }
  assert.equal(typeof answer, 'boolean', `${pruner.name} returned ${String(answer)} on ${label}`);
  return answer as boolean;
}

/** The checks behind describePrunerConformance, one function each, so a test can show that each one catches what it should. */
export const prunerChecks = {
  noReports(create: () => Pruner): void {
    for (const h of conformanceHistories()) {
      const ctx = pruningContext({ ...h.asking, intermediate: {} }, h.trials, h.direction);
      assert.equal(decide(create(), ctx, h.label), false, `pruned a trial with no reports (${h.label})`);
    }
  },

  robust(create: () => Pruner): void {
    const pruner = create();
    for (const { label, ctx } of conformanceContexts()) decide(pruner, ctx, label);
  },

  deterministic(create: () => Pruner): void {
    const contexts = conformanceContexts();
    const pruner = create();
    const first = contexts.map(({ label, ctx }) => decide(pruner, ctx, label));
    const again = contexts.map(({ label, ctx }) => decide(pruner, ctx, label));
    // A fresh pruner, asked in the opposite order, with the neighbours listed in another order: a stateless pruner cannot tell.
    const fresh = create();
    const reversed = contexts
      .map(({ label, ctx }) => ({ label, ctx: { ...ctx, trials: [...ctx.trials].reverse() } }))
      .reverse()
      .map(({ label, ctx }) => decide(fresh, ctx, label))
      .reverse();
    contexts.forEach(({ label }, i) => {
      assert.equal(again[i], first[i], `asked twice, answered differently: ${label}`);
      assert.equal(reversed[i], first[i], `answer depends on call order or trial order: ${label}`);
    });
  },

  pure(create: () => Pruner): void {
    const pruner = create();
    for (const { label, ctx } of conformanceContexts()) {
      const before = structuredClone(ctx);
      // Frozen, so a write throws where it happens instead of being noticed later.
      deepFreeze(ctx);
      decide(pruner, ctx, label);
      assert.deepEqual(ctx, before, `changed its context: ${label}`);
    }
  },

  symmetric(create: () => Pruner, mirrored: () => Pruner = create): void {
    const pruner = create();
    const mirror = mirrored();
    for (const { label, ctx } of conformanceContexts()) {
      assert.equal(decide(mirror, mirrorContext(ctx), label), decide(pruner, ctx, label), `negated values with the other direction decide differently: ${label}`);
    }
  },
};

export interface PrunerConformanceOptions {
  /**
   * The pruner that must decide the mirrored study (values negated, other
   * direction) as `create()` decides the original. Direction-aware pruners
   * need nothing; one with absolute bounds (ThresholdPruner) mirrors them.
   */
  mirrored?: () => Pruner;
}

/**
 * The checks every pruner passes, each the same way (call it from the
 * pruner's own test file): it never prunes a trial that has reported nothing;
 * it answers (never throws) with gaps in steps, NaN values in other trials and
 * running, pruned, failed or waiting neighbours; the same context always gets
 * the same answer, whatever was asked before and in whatever order the
 * trials are listed (it is stateless); it does not change its context; and a
 * study with negated values and the other direction gets the same answers.
 */
export function describePrunerConformance(name: string, create: () => Pruner, options: PrunerConformanceOptions = {}): void {
  describe(`${name} (pruner conformance)`, () => {
    it('never prunes a trial with no reports', () => prunerChecks.noReports(create));
    it('answers on gaps in steps, NaN in other trials, running/pruned/failed/waiting neighbours, an empty study', () =>
      prunerChecks.robust(create));
    it('is deterministic: same context, same answer, whatever was asked before and in whatever order trials come', () =>
      prunerChecks.deterministic(create));
    it('does not change its context', () => prunerChecks.pure(create));
    it('minimize and maximize are mirrors: negated values and the other direction give the same answers', () =>
      prunerChecks.symmetric(create, options.mirrored));
  });
}
