import type { Pruner, PruningContext } from './pruner.js';

/** Never prunes (Optuna's NopPruner): what a study uses when no pruner is configured. */
export class NopPruner implements Pruner {
  readonly name = 'nop';

  prune(_ctx: PruningContext): boolean {
    return false;
  }
}
