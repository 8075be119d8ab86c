import { UsageError } from '../../errors.js';
import type { FrozenTrial } from '../trial-state.js';
import { firstCompletedTrial, orientation, reportedSteps, valueAt } from './intermediate-values.js';
import { autoOrIntegerOption, checkOptionKeys, integerOption } from './pruner-options.js';
import type { Pruner, PruningContext } from './pruner.js';

export interface SuccessiveHalvingPrunerOptions {
  /**
   * Step of the first rung (r). 'auto' (default): ⌊last step of the first
   * completed trial / 100⌋, at least 1; no pruning until a trial completes.
   */
  minResource?: 'auto' | number;
  /** η: a trial goes on past a rung when in the top 1/η there (default 4). */
  reductionFactor?: number;
  /** s: rung k sits at step r·η^(s+k) (default 0). */
  minEarlyStoppingRate?: number;
  /** A rung promotes nobody until more than this many trials reached it (default 0). */
  bootstrapCount?: number;
}

const KEYS = ['minResource', 'reductionFactor', 'minEarlyStoppingRate', 'bootstrapCount'] as const;

/**
 * Asynchronous successive halving (ASHA, Li et al. 2020) as Optuna's
 * SuccessiveHalvingPruner does it: rung k sits at step r·η^(s+k); a trial
 * reaching a rung goes on only if its value there ranks in the top 1/η of the
 * values every trial (any state, this one included) has at that rung so far —
 * with fewer than η values, only if it is the best. Nobody waits for a rung to
 * fill up.
 *
 * Stateless, unlike Optuna. Optuna writes each trial's value into a system
 * attribute at the moment it is promoted and compares against those records.
 * Here a trial's value at a rung is read from its stored intermediate values —
 * the value at its first reported step at or after the rung step (the exact
 * rung step when every step is reported, which is what Optuna records when
 * asked after every report) — so the decision is a pure function of the
 * stored data and any worker reaches the same one. A trial is judged only at
 * the rungs its latest report crosses (previous reported step < rung step ≤
 * latest step): a promotion is final, as in Optuna, instead of being undone
 * when better trials reach that rung later. What follows from not recording:
 * if `prune` is not asked right after the report that crossed a rung, that
 * rung is not judged later (Optuna judges it on the next call, with the then
 * latest value).
 *
 * Also unlike Optuna: a NaN latest value prunes at once, at any step (Optuna
 * waits for the next rung); NaN values of other trials never compete.
 */
export class SuccessiveHalvingPruner implements Pruner {
  readonly name: string = 'successive-halving';
  readonly minResource: 'auto' | number;
  readonly reductionFactor: number;
  readonly minEarlyStoppingRate: number;
  readonly bootstrapCount: number;

  constructor(options: SuccessiveHalvingPrunerOptions = {}) {
    const owner = 'SuccessiveHalvingPruner';
    const o = checkOptionKeys(owner, options, KEYS);
    this.minResource = autoOrIntegerOption(owner, 'minResource', o['minResource'], 'auto', 1);
    this.reductionFactor = integerOption(owner, 'reductionFactor', o['reductionFactor'], 4, 2);
    this.minEarlyStoppingRate = integerOption(owner, 'minEarlyStoppingRate', o['minEarlyStoppingRate'], 0, 0);
    this.bootstrapCount = integerOption(owner, 'bootstrapCount', o['bootstrapCount'], 0, 0);
    if (this.bootstrapCount > 0 && this.minResource === 'auto') {
      // As in Optuna: until a trial completes, 'auto' has no rungs, so the trials that would bootstrap them are never counted.
      throw new UsageError(`${owner}: bootstrapCount > 0 needs a numeric minResource, not 'auto'`);
    }
  }

  /** The step of rung `k` for this pruner, or undefined while 'auto' has no completed trial to derive it from. */
  rungStep(k: number, trials: readonly FrozenTrial[]): number | undefined {
    const r = this.resolveMinResource(trials);
    return r === undefined ? undefined : r * this.reductionFactor ** (this.minEarlyStoppingRate + k);
  }

  prune(ctx: PruningContext): boolean {
    const { trial } = ctx;
    const steps = reportedSteps(trial);
    const step = steps.at(-1);
    if (step === undefined) return false;
    const value = valueAt(trial, step)!;
    if (Number.isNaN(value)) return true;

    const minResource = this.resolveMinResource(ctx.trials);
    if (minResource === undefined) return false;
    const previous = steps.length > 1 ? steps.at(-2)! : -Infinity;
    const sign = orientation(ctx.direction);
    for (let k = 0; ; k++) {
      const rung = minResource * this.reductionFactor ** (this.minEarlyStoppingRate + k);
      if (rung > step) return false;
      if (rung > previous && !this.promotable(sign * value, rung, trial, ctx.trials, sign)) return true;
    }
  }

  private resolveMinResource(trials: readonly FrozenTrial[]): number | undefined {
    if (this.minResource !== 'auto') return this.minResource;
    const first = firstCompletedTrial(trials);
    if (first === undefined) return undefined;
    return Math.max(Math.floor(reportedSteps(first).at(-1)! / 100), 1);
  }

  /** Optuna's `_is_trial_promotable_to_next_rung`, on oriented values (smaller is better). */
  private promotable(
    oriented: number,
    rung: number,
    trial: FrozenTrial,
    others: readonly FrozenTrial[],
    sign: 1 | -1,
  ): boolean {
    const competing = [oriented];
    for (const t of others) {
      if (t.number === trial.number) continue;
      const v = valueAtRung(t, rung);
      if (v !== undefined && !Number.isNaN(v)) competing.push(sign * v);
    }
    // `competing` holds this trial too, hence ≤: the first `bootstrapCount` arrivals at a rung are pruned, as in Optuna.
    if (competing.length <= this.bootstrapCount) return false;
    // Optuna cannot pause a trial until η values exist, so below that only the best goes on.
    const index = Math.max(Math.floor(competing.length / this.reductionFactor) - 1, 0);
    competing.sort((a, b) => a - b);
    return oriented <= competing[index]!;
  }
}

/** A trial's value at a rung: at its first reported step at or after the rung step (see the class comment). */
function valueAtRung(trial: FrozenTrial, rung: number): number | undefined {
  let first: number | undefined;
  for (const key of Object.keys(trial.intermediate)) {
    const step = Number(key);
    if (step >= rung && (first === undefined || step < first)) first = step;
  }
  return first === undefined ? undefined : valueAt(trial, first);
}
