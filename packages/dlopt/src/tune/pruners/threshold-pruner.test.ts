import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../errors.js';
import { curve, describePrunerConformance, frozenTrial, pruningContext } from '../../test-support/pruner-conformance.js';
import type { FrozenTrial } from '../trial-state.js';
import { ThresholdPruner } from './threshold-pruner.js';

// Bounds are absolute, so the mirrored study needs mirrored bounds.
describePrunerConformance('ThresholdPruner(upper 2)', () => new ThresholdPruner({ upper: 2 }), { mirrored: () => new ThresholdPruner({ lower: -2 }) });
describePrunerConformance('ThresholdPruner(0.5..1.5, warm-up 2, interval 2)', () => new ThresholdPruner({ lower: 0.5, upper: 1.5, nWarmupSteps: 2, intervalSteps: 2 }), {
  mirrored: () => new ThresholdPruner({ lower: -1.5, upper: -0.5, nWarmupSteps: 2, intervalSteps: 2 }),
});

const trial = (values: Record<number, number>): FrozenTrial => frozenTrial(0, 'RUNNING', values);
const ask = (pruner: ThresholdPruner, values: Record<number, number>, direction: 'minimize' | 'maximize' = 'minimize'): boolean =>
  pruner.prune(pruningContext(trial(values), [], direction));

describe('ThresholdPruner', () => {
  it('prunes a latest value below lower or above upper, in either direction', () => {
    const band = new ThresholdPruner({ lower: 0.5, upper: 2 });
    for (const direction of ['minimize', 'maximize'] as const) {
      assert.equal(ask(band, curve([1, 0.4]), direction), true);
      assert.equal(ask(band, curve([1, 2.1]), direction), true);
      assert.equal(ask(band, curve([0, 0.5]), direction), false, 'bounds are inside');
      assert.equal(ask(band, curve([0, 2]), direction), false);
    }
    assert.equal(ask(new ThresholdPruner({ upper: 2 }), curve([-1e9])), false);
    assert.equal(ask(new ThresholdPruner({ upper: 2 }), curve([Infinity])), true);
    assert.equal(ask(new ThresholdPruner({ lower: 0.1 }), curve([1e9])), false);
  });

  it('a NaN latest value prunes at once, even in warm-up or between intervals', () => {
    const p = new ThresholdPruner({ upper: 10, nWarmupSteps: 5, intervalSteps: 3 });
    assert.equal(ask(p, curve([1, Number.NaN])), true);
    assert.equal(ask(p, curve([Number.NaN, 1])), false);
  });

  it('warm-up and interval', () => {
    const p = new ThresholdPruner({ upper: 1, nWarmupSteps: 2, intervalSteps: 2 });
    assert.equal(ask(p, curve([5, 5])), false, 'step 1: warm-up');
    assert.equal(ask(p, curve([5, 5, 5])), true, 'step 2');
    assert.equal(ask(p, curve([5, 5, 5, 5])), false, 'step 3: between checks');
    assert.equal(ask(p, { 0: 5, 3: 5 }), true, 'step 2 skipped: checked at 3');
  });

  it('rejects bad options', () => {
    assert.throws(() => new ThresholdPruner({}), (e: Error) => e instanceof UsageError && /ThresholdPruner: give lower, upper or both/.test(e.message));
    assert.throws(() => new ThresholdPruner({ lower: 2, upper: 1 }), /lower \(2\) must be ≤ upper \(1\)/);
    assert.throws(() => new ThresholdPruner({ lower: Number.NaN }), /lower must be a number but got NaN/);
    assert.throws(() => new ThresholdPruner({ upper: '3' as never }), /upper must be a number but got "3"/);
    assert.throws(() => new ThresholdPruner({ upper: 1, intervalSteps: 0 }), /intervalSteps/);
    const p = new ThresholdPruner({ lower: 0 });
    assert.deepEqual([p.name, p.lower, p.upper, p.nWarmupSteps, p.intervalSteps], ['threshold', 0, Infinity, 0, 1]);
  });
});
