import { DloptError } from '../errors.js';

/**
 * Thrown by an objective when `trial.shouldPrune()` says stop: the study
 * records the trial PRUNED (with its last reported value) and goes on, so
 * it is not a failure.
 */
export class TrialPruned extends DloptError {
  override readonly name = 'TrialPruned';

  constructor(message = 'trial pruned') {
    super(message);
  }
}
