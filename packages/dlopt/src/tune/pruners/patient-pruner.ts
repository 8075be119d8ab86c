import { UsageError } from '../../errors.js';
import { bestOrientedValue, orientation, reportedSteps } from './intermediate-values.js';
import { checkOptionKeys, integerOption, numberOption } from './pruner-options.js';
import type { Pruner, PruningContext } from './pruner.js';

export interface PatientPrunerOptions {
  /** Reports without improvement the trial is allowed before it may be pruned. */
  patience: number;
  /** An improvement must beat the best earlier value by more than this (default 0). */
  minDelta?: number;
}

const KEYS = ['patience', 'minDelta'] as const;

/**
 * Optuna's PatientPruner: a trial may be pruned only once its last
 * `patience` + 1 reports all fail to improve on the best value reported
 * before them; then the wrapped pruner decides (or, without one, it is
 * pruned). Wrapping makes a noisy pruner wait out plateaus of a trial that is
 * still improving. Counts reports, not step numbers, as Optuna does.
 *
 * Unlike Optuna, "improve" means what it means in dlopt's EarlyStopping and
 * Keras's: better than the best earlier value by more than `minDelta` (an
 * equal value is no improvement). Optuna instead prunes only when the recent
 * values are worse than the best earlier one by more than `minDelta`, so a
 * flat curve is never pruned there. NaN values are ignored; a window of NaN
 * only is no improvement.
 */
export class PatientPruner implements Pruner {
  readonly name: string = 'patient';
  readonly wrapped: Pruner | null;
  readonly patience: number;
  readonly minDelta: number;

  constructor(wrapped: Pruner | null, options: PatientPrunerOptions) {
    const owner = 'PatientPruner';
    if (wrapped !== null && (typeof wrapped !== 'object' || typeof wrapped.prune !== 'function')) {
      throw new UsageError(`${owner}: the wrapped pruner must be a pruner or null`);
    }
    const o = checkOptionKeys(owner, options, KEYS);
    if (o['patience'] === undefined) throw new UsageError(`${owner}: patience is required (an integer ≥ 0)`);
    this.wrapped = wrapped;
    this.patience = integerOption(owner, 'patience', o['patience'], 0, 0);
    this.minDelta = numberOption(owner, 'minDelta', o['minDelta'], 0, { min: 0 });
  }

  prune(ctx: PruningContext): boolean {
    const steps = reportedSteps(ctx.trial);
    const window = this.patience + 1;
    if (steps.length <= window) return false;
    const sign = orientation(ctx.direction);
    const before = bestOrientedValue(ctx.trial, steps.slice(0, -window), sign);
    if (Number.isNaN(before)) return false;
    const after = bestOrientedValue(ctx.trial, steps.slice(-window), sign);
    if (after < before - this.minDelta) return false;
    return this.wrapped === null ? true : this.wrapped.prune(ctx);
  }
}
