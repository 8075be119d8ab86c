import { UsageError } from '../../errors.js';
import type { FrozenTrial } from '../trial-state.js';
import { bestOrientedValue, isFirstInIntervalStep, orientation, reportedSteps, valueAt } from './intermediate-values.js';
import { checkOptionKeys, integerOption, numberOption } from './pruner-options.js';
import type { Pruner, PruningContext } from './pruner.js';

export interface PercentilePrunerOptions {
  /** Keep trials whose best value so far is within the best `percentile` % at this step (0–100). */
  percentile: number;
  /** No pruning until this many trials have completed (default 5). */
  nStartupTrials?: number;
  /** No pruning before this step (default 0). */
  nWarmupSteps?: number;
  /** Judge at most once every this many steps after warm-up (default 1). */
  intervalSteps?: number;
  /** Completed trials that must have reported at this step for a comparison (default 1). */
  nMinTrials?: number;
}

const KEYS = ['percentile', 'nStartupTrials', 'nWarmupSteps', 'intervalSteps', 'nMinTrials'] as const;

/**
 * Optuna's PercentilePruner: at the trial's latest step, prunes when its best
 * value so far (direction-aware) is worse than the `percentile`-th best of the
 * values completed trials reported at that same step (linear interpolation,
 * numpy's default). Only COMPLETE trials count: running ones have not shown
 * where they end, pruned ones are the losers already.
 *
 * Differences from Optuna: a NaN latest value prunes at once, before the
 * start-up, warm-up and interval rules (Optuna prunes only when every value so
 * far is NaN, and only at a pruning step) — a diverged run does not recover,
 * so every further step is wasted; NaN values of completed trials do not count
 * towards `nMinTrials`.
 */
export class PercentilePruner implements Pruner {
  readonly name: string = 'percentile';
  readonly percentile: number;
  readonly nStartupTrials: number;
  readonly nWarmupSteps: number;
  readonly intervalSteps: number;
  readonly nMinTrials: number;

  /** `owner` names the class in error messages (MedianPruner passes its own). */
  constructor(options: PercentilePrunerOptions, owner = 'PercentilePruner') {
    const o = checkOptionKeys(owner, options, KEYS);
    if (o['percentile'] === undefined) throw new UsageError(`${owner}: percentile is required (0–100; 50 is MedianPruner)`);
    this.percentile = numberOption(owner, 'percentile', o['percentile'], 50, { min: 0, max: 100 });
    this.nStartupTrials = integerOption(owner, 'nStartupTrials', o['nStartupTrials'], 5, 0);
    this.nWarmupSteps = integerOption(owner, 'nWarmupSteps', o['nWarmupSteps'], 0, 0);
    this.intervalSteps = integerOption(owner, 'intervalSteps', o['intervalSteps'], 1, 1);
    this.nMinTrials = integerOption(owner, 'nMinTrials', o['nMinTrials'], 1, 1);
  }

  prune(ctx: PruningContext): boolean {
    const { trial } = ctx;
    const steps = reportedSteps(trial);
    const step = steps.at(-1);
    if (step === undefined) return false;
    if (Number.isNaN(valueAt(trial, step))) return true;

    const completed = ctx.trials.filter((t) => t.state === 'COMPLETE' && t.number !== trial.number);
    if (completed.length === 0 || completed.length < this.nStartupTrials) return false;
    if (step < this.nWarmupSteps) return false;
    if (!isFirstInIntervalStep(steps, this.nWarmupSteps, this.intervalSteps)) return false;

    const sign = orientation(ctx.direction);
    const best = bestOrientedValue(trial, steps, sign);
    const threshold = orientedPercentileAt(completed, step, sign, this.percentile, this.nMinTrials);
    return threshold !== undefined && best > threshold;
  }
}

/** The `percentile`-th smallest oriented value reported at `step`; undefined with fewer than `nMin` of them. */
function orientedPercentileAt(
  trials: readonly FrozenTrial[],
  step: number,
  sign: 1 | -1,
  percentile: number,
  nMin: number,
): number | undefined {
  const values: number[] = [];
  for (const t of trials) {
    const value = valueAt(t, step);
    if (value !== undefined && !Number.isNaN(value)) values.push(sign * value);
  }
  if (values.length < nMin || values.length === 0) return undefined;
  values.sort((a, b) => a - b);
  const h = ((values.length - 1) * percentile) / 100;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  const a = values[lo]!;
  const b = values[hi]!;
  // Equal neighbours (±Infinity included) are returned as is: interpolating would give NaN.
  return a === b ? a : a + (b - a) * (h - lo);
}
