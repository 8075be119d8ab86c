import { PercentilePruner, type PercentilePrunerOptions } from './percentile-pruner.js';
import { checkOptionKeys } from './pruner-options.js';

export type MedianPrunerOptions = Omit<PercentilePrunerOptions, 'percentile'>;

const KEYS = ['nStartupTrials', 'nWarmupSteps', 'intervalSteps', 'nMinTrials'] as const;

/**
 * Optuna's MedianPruner (the median stopping rule): PercentilePruner at the
 * 50th percentile, with the same defaults (5 start-up trials, no warm-up,
 * every step, at least one completed trial at the step).
 */
export class MedianPruner extends PercentilePruner {
  override readonly name: string = 'median';

  constructor(options: MedianPrunerOptions = {}) {
    // Checked before the percentile is added, so a `percentile` given here is refused rather than silently replaced.
    super({ ...checkOptionKeys('MedianPruner', options, KEYS), percentile: 50 }, 'MedianPruner');
  }
}
