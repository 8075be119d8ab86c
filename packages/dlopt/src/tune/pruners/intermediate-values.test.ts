import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frozenTrial } from '../../test-support/pruner-conformance.js';
import { bestOrientedValue, firstCompletedTrial, isFirstInIntervalStep, reportedSteps, valueAt } from './intermediate-values.js';

describe('intermediate values', () => {
  it('steps sort numerically; a null value (NaN after JSON) reads as NaN', () => {
    const t = frozenTrial(0, 'RUNNING', { 10: 1, 2: 2, 9: 3 });
    assert.deepEqual(reportedSteps(t), [2, 9, 10]);
    const stored = JSON.parse(JSON.stringify(frozenTrial(1, 'RUNNING', { 0: Number.NaN })));
    assert.ok(Number.isNaN(valueAt(stored, 0)));
    assert.equal(valueAt(stored, 1), undefined);
  });

  it('best value ignores NaN, and is NaN when there is nothing else', () => {
    const t = frozenTrial(0, 'RUNNING', { 0: 3, 1: Number.NaN, 2: 1, 3: 2 });
    assert.equal(bestOrientedValue(t, [0, 1, 2, 3], 1), 1);
    assert.equal(bestOrientedValue(t, [0, 1, 2, 3], -1), -3);
    assert.ok(Number.isNaN(bestOrientedValue(t, [1], 1)));
  });

  it("judges at the first report at or after each warm-up + k·interval step (Optuna's rule)", () => {
    assert.equal(isFirstInIntervalStep([0, 1, 2], 0, 2), true);
    assert.equal(isFirstInIntervalStep([0, 1, 2, 3], 0, 2), false);
    assert.equal(isFirstInIntervalStep([0, 1, 3], 0, 2), true, 'step 2 was skipped: judged at 3');
    assert.equal(isFirstInIntervalStep([3, 4, 5, 6], 3, 3), true);
    assert.equal(isFirstInIntervalStep([3, 4, 5], 3, 3), false);
  });

  it('the first completed trial is the earliest to complete with a report, whatever the order given', () => {
    const a = frozenTrial(0, 'COMPLETE', { 0: 1 }, { completedAt: 50 });
    const b = frozenTrial(1, 'COMPLETE', { 0: 1 }, { completedAt: 20 });
    const noReports = frozenTrial(2, 'COMPLETE', {}, { completedAt: 1 });
    const pruned = frozenTrial(3, 'PRUNED', { 0: 1 }, { completedAt: 2 });
    assert.equal(firstCompletedTrial([a, b, noReports, pruned])?.number, 1);
    assert.equal(firstCompletedTrial([pruned, noReports, b, a])?.number, 1);
    assert.equal(firstCompletedTrial([pruned]), undefined);
  });
});
