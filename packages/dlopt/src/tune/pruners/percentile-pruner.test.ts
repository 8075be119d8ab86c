import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../errors.js';
import { curve, describePrunerConformance, frozenTrial, mirrorContext, pruningContext } from '../../test-support/pruner-conformance.js';
import type { FrozenTrial } from '../trial-state.js';
import { PercentilePruner } from './percentile-pruner.js';

describePrunerConformance('PercentilePruner(25)', () => new PercentilePruner({ percentile: 25 }));
describePrunerConformance('PercentilePruner(90, warm-up 3, interval 2, 2 min trials)', () =>
  new PercentilePruner({ percentile: 90, nStartupTrials: 2, nWarmupSteps: 3, intervalSteps: 2, nMinTrials: 2 }),
);

/** Five completed trials reporting 1, 2, 3, 4, 5 at step 0 (losses). */
const completed: FrozenTrial[] = [1, 2, 3, 4, 5].map((v, i) => frozenTrial(i, 'COMPLETE', curve([v])));
const asking = (value: number): FrozenTrial => frozenTrial(9, 'RUNNING', curve([value]));

describe('PercentilePruner', () => {
  it('25 keeps only values within the best quarter, 75 within the best three quarters', () => {
    // Quartiles of 1..5 are 2 and 4.
    const p25 = new PercentilePruner({ percentile: 25 });
    const p75 = new PercentilePruner({ percentile: 75 });
    assert.equal(p25.prune(pruningContext(asking(3), completed)), true);
    assert.equal(p75.prune(pruningContext(asking(3), completed)), false);
    assert.equal(p25.prune(pruningContext(asking(1.9), completed)), false);
    assert.equal(p75.prune(pruningContext(asking(4.1), completed)), true);
  });

  it('maximizing keeps the best quarter too: the top values, not the bottom ones', () => {
    const p25 = new PercentilePruner({ percentile: 25 });
    const p75 = new PercentilePruner({ percentile: 75 });
    const ctx = pruningContext(asking(3), completed, 'maximize');
    assert.equal(p25.prune(ctx), true, '3 is not in the top quarter of 1..5');
    assert.equal(p75.prune(ctx), false);
    assert.equal(p25.prune(pruningContext(asking(4.1), completed, 'maximize')), false);
    assert.equal(p25.prune(mirrorContext(pruningContext(asking(3), completed))), true);
  });

  it('interpolates between values, as numpy', () => {
    const p10 = new PercentilePruner({ percentile: 10 });
    // 10th percentile of 1..5 = 1.4.
    assert.equal(p10.prune(pruningContext(asking(1.45), completed)), true);
    assert.equal(p10.prune(pruningContext(asking(1.35), completed)), false);
    assert.equal(new PercentilePruner({ percentile: 0 }).prune(pruningContext(asking(1), completed)), false, 'equal to the best is kept');
    assert.equal(new PercentilePruner({ percentile: 100 }).prune(pruningContext(asking(5.01), completed)), true);
  });

  it('ignores NaN values of completed trials, also for nMinTrials', () => {
    const withNaN = [...completed.slice(0, 2), frozenTrial(7, 'COMPLETE', curve([Number.NaN]))];
    const p = new PercentilePruner({ percentile: 50, nStartupTrials: 0, nMinTrials: 3 });
    assert.equal(p.prune(pruningContext(asking(100), withNaN)), false, 'two real values < nMinTrials 3');
    assert.equal(new PercentilePruner({ percentile: 50, nStartupTrials: 0 }).prune(pruningContext(asking(1.6), withNaN)), true, 'median of 1 and 2 is 1.5');
  });

  it('rejects bad options with the option named', () => {
    assert.throws(() => new PercentilePruner({ percentile: 101 }), (e: Error) => e instanceof UsageError && /PercentilePruner: percentile must be a number in \[0, 100\] but got 101/.test(e.message));
    assert.throws(() => new PercentilePruner({} as never), /percentile is required/);
    assert.throws(() => new PercentilePruner({ percentile: 50, intervalSteps: 0 }), /intervalSteps must be an integer ≥ 1 but got 0/);
    assert.throws(() => new PercentilePruner({ percentile: 50, nMinTrials: 0 }), /nMinTrials must be an integer ≥ 1/);
    assert.throws(() => new PercentilePruner({ percentile: 50, nWarmupSteps: -1 }), /nWarmupSteps/);
    assert.throws(() => new PercentilePruner({ percentile: 50, nStartupTrials: 2.5 }), /nStartupTrials/);
    assert.throws(() => new PercentilePruner({ percentile: 50, n_startup_trials: 2 } as never), /unknown option n_startup_trials/);
  });
});
