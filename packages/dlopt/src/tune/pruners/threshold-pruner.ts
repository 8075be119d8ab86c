import { UsageError } from '../../errors.js';
import { isFirstInIntervalStep, reportedSteps, valueAt } from './intermediate-values.js';
import { checkOptionKeys, integerOption, numberOption } from './pruner-options.js';
import type { Pruner, PruningContext } from './pruner.js';

export interface ThresholdPrunerOptions {
  /** Prune when the latest value is below this. */
  lower?: number;
  /** Prune when the latest value is above this. */
  upper?: number;
  /** No pruning before this step (default 0). */
  nWarmupSteps?: number;
  /** Judge at most once every this many steps after warm-up (default 1). */
  intervalSteps?: number;
}

const KEYS = ['lower', 'upper', 'nWarmupSteps', 'intervalSteps'] as const;

/**
 * Optuna's ThresholdPruner: prunes a trial whose latest value leaves
 * [lower, upper] or is NaN, whatever the other trials do — for values that are
 * hopeless in absolute terms (a loss that exploded, an accuracy at chance).
 * The bounds are absolute, not direction-aware.
 *
 * Unlike Optuna, a NaN latest value prunes at once, before the warm-up and
 * interval rules: a diverged run does not recover.
 */
export class ThresholdPruner implements Pruner {
  readonly name: string = 'threshold';
  readonly lower: number;
  readonly upper: number;
  readonly nWarmupSteps: number;
  readonly intervalSteps: number;

  constructor(options: ThresholdPrunerOptions) {
    const owner = 'ThresholdPruner';
    const o = checkOptionKeys(owner, options, KEYS);
    if (o['lower'] === undefined && o['upper'] === undefined) {
      throw new UsageError(`${owner}: give lower, upper or both`);
    }
    this.lower = numberOption(owner, 'lower', o['lower'], -Infinity);
    this.upper = numberOption(owner, 'upper', o['upper'], Infinity);
    if (this.lower > this.upper) throw new UsageError(`${owner}: lower (${this.lower}) must be ≤ upper (${this.upper})`);
    this.nWarmupSteps = integerOption(owner, 'nWarmupSteps', o['nWarmupSteps'], 0, 0);
    this.intervalSteps = integerOption(owner, 'intervalSteps', o['intervalSteps'], 1, 1);
  }

  prune(ctx: PruningContext): boolean {
    const steps = reportedSteps(ctx.trial);
    const step = steps.at(-1);
    if (step === undefined) return false;
    const value = valueAt(ctx.trial, step)!;
    if (Number.isNaN(value)) return true;
    if (step < this.nWarmupSteps) return false;
    if (!isFirstInIntervalStep(steps, this.nWarmupSteps, this.intervalSteps)) return false;
    return value < this.lower || value > this.upper;
  }
}
