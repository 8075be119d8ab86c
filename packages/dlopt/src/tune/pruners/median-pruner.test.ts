import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../errors.js';
import { curve, describePrunerConformance, frozenTrial, pruningContext } from '../../test-support/pruner-conformance.js';
import type { FrozenTrial } from '../trial-state.js';
import { MedianPruner } from './median-pruner.js';

describePrunerConformance('MedianPruner', () => new MedianPruner());
describePrunerConformance('MedianPruner(no start-up, warm-up 2, interval 3)', () => new MedianPruner({ nStartupTrials: 0, nWarmupSteps: 2, intervalSteps: 3 }));

/**
 * Five completed trials; at every step s their losses are 1+s/10 … 5+s/10,
 * so the median at step s is 3 + s/10.
 */
const history = (n = 5): FrozenTrial[] =>
  Array.from({ length: n }, (_, i) => frozenTrial(i, 'COMPLETE', curve(Array.from({ length: 10 }, (_, s) => i + 1 + s / 10))));
const asking = (values: Record<number, number>): FrozenTrial => frozenTrial(20, 'RUNNING', values);

describe('MedianPruner', () => {
  it('prunes a trial worse than the median of completed trials at that step, keeps a better one', () => {
    const median = new MedianPruner();
    assert.equal(median.prune(pruningContext(asking(curve([5, 4, 3.3])), history())), true, '3.3 > 3.2');
    assert.equal(median.prune(pruningContext(asking(curve([5, 4, 3.1])), history())), false, '3.1 < 3.2');
    assert.equal(median.prune(pruningContext(asking(curve([5, 4, 3.2])), history())), false, 'equal to the median is kept');
  });

  it('judges the best value so far, not the latest', () => {
    const median = new MedianPruner();
    assert.equal(median.prune(pruningContext(asking(curve([2, 4, 4])), history())), false, 'reached 2 at step 0');
    assert.equal(median.prune(pruningContext(asking(curve([7, 2, 4])), history(), 'maximize')), false, 'maximizing: reached 7');
    assert.equal(median.prune(pruningContext(asking(curve([2, 2.5, 2.9])), history(), 'maximize')), true);
  });

  it('compares only with completed trials, and only at the same step', () => {
    const median = new MedianPruner();
    const good = [0.1, 0.2, 0.3].map((v, i) => frozenTrial(10 + i, 'RUNNING', curve([v, v, v])));
    const pruned = [9, 9, 9].map((v, i) => frozenTrial(13 + i, 'PRUNED', curve([v, v, v])));
    const ctx = (values: Record<number, number>): ReturnType<typeof pruningContext> => pruningContext(asking(values), [...history(), ...good, ...pruned]);
    assert.equal(median.prune(ctx(curve([3.1, 3.15, 3.19]))), false);
    assert.equal(median.prune(ctx(curve([3.3, 3.3, 3.3]))), true);
    // Completed trials report steps 0–9 only: nothing to compare with at step 12.
    assert.equal(median.prune(ctx({ 12: 100 })), false);
  });

  it('start-up: no pruning until nStartupTrials trials completed (running ones do not count)', () => {
    const bad = asking(curve([10, 10, 10]));
    const running = [frozenTrial(30, 'RUNNING', curve([1, 1, 1])), frozenTrial(31, 'RUNNING', curve([1, 1, 1]))];
    assert.equal(new MedianPruner().prune(pruningContext(bad, [...history(4), ...running])), false);
    assert.equal(new MedianPruner().prune(pruningContext(bad, history(5))), true);
    assert.equal(new MedianPruner({ nStartupTrials: 1 }).prune(pruningContext(bad, history(1))), true);
    assert.equal(new MedianPruner({ nStartupTrials: 0 }).prune(pruningContext(bad, [])), false, 'nothing completed: nothing to compare with');
  });

  it('warm-up: no pruning before nWarmupSteps', () => {
    const median = new MedianPruner({ nWarmupSteps: 3 });
    assert.equal(median.prune(pruningContext(asking(curve([10, 10, 10])), history())), false, 'step 2');
    assert.equal(median.prune(pruningContext(asking(curve([10, 10, 10, 10])), history())), true, 'step 3');
  });

  it('interval: judged at the first report at or after each warm-up + k·interval step', () => {
    const median = new MedianPruner({ nWarmupSteps: 1, intervalSteps: 3 });
    const bad = (steps: number[]): FrozenTrial => asking(Object.fromEntries(steps.map((s) => [s, 10])));
    assert.equal(median.prune(pruningContext(bad([0, 1]), history())), true, 'step 1');
    assert.equal(median.prune(pruningContext(bad([0, 1, 2]), history())), false, 'step 2');
    assert.equal(median.prune(pruningContext(bad([0, 1, 2, 3]), history())), false, 'step 3');
    assert.equal(median.prune(pruningContext(bad([0, 1, 2, 3, 4]), history())), true, 'step 4');
    assert.equal(median.prune(pruningContext(bad([0, 1, 2, 3, 5]), history())), true, 'step 4 skipped: judged at 5');
    assert.equal(median.prune(pruningContext(bad([0, 1, 2, 3, 5, 6]), history())), false, 'then not at 6');
  });

  it('nMinTrials: needs that many completed trials with a value at the step', () => {
    const long = frozenTrial(8, 'COMPLETE', curve(Array.from({ length: 20 }, () => 1)));
    const bad = asking({ 15: 10 });
    assert.equal(new MedianPruner().prune(pruningContext(bad, [...history(), long])), true, 'one trial reached step 15');
    assert.equal(new MedianPruner({ nMinTrials: 2 }).prune(pruningContext(bad, [...history(), long])), false);
  });

  it('a NaN latest value prunes at once, even in start-up and warm-up; an earlier NaN does not', () => {
    const median = new MedianPruner({ nWarmupSteps: 5 });
    assert.equal(median.prune(pruningContext(asking(curve([1, Number.NaN])), [])), true);
    assert.equal(new MedianPruner().prune(pruningContext(asking(curve([Number.NaN, 3.0])), history())), false, 'judged on 3.0 < 3.1');
    assert.equal(new MedianPruner().prune(pruningContext(asking(curve([Number.NaN, 3.2])), history())), true);
  });

  it("has Optuna's defaults and name, and refuses a percentile", () => {
    const median = new MedianPruner();
    assert.deepEqual([median.name, median.percentile, median.nStartupTrials, median.nWarmupSteps, median.intervalSteps, median.nMinTrials], ['median', 50, 5, 0, 1, 1]);
    assert.throws(() => new MedianPruner({ percentile: 30 } as never), (e: Error) => e instanceof UsageError && /MedianPruner: unknown option percentile/.test(e.message));
    assert.throws(() => new MedianPruner({ nWarmupSteps: -2 }), /MedianPruner: nWarmupSteps must be an integer ≥ 0 but got -2/);
  });
});
