import type { Direction, FrozenTrial } from '../trial-state.js';

/** What a pruner sees when a trial asks whether to stop. */
export interface PruningContext {
  direction: Direction;
  studyName: string;
  /** The study's other trials (latest snapshot the worker has; this one excluded). */
  trials: readonly FrozenTrial[];
  /** The trial asking, with every value it has reported so far. */
  trial: FrozenTrial;
}

/**
 * Decides whether a running trial should stop early, from the values trials
 * report per step (Optuna's BasePruner). Stateless: every decision is
 * rebuilt from the stored intermediate values, so workers need no coordinator.
 */
export interface Pruner {
  readonly name: string;
  prune(ctx: PruningContext): boolean;
}
