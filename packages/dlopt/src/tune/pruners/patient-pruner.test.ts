import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../errors.js';
import { curve, describePrunerConformance, frozenTrial, pruningContext } from '../../test-support/pruner-conformance.js';
import type { Direction } from '../trial-state.js';
import { MedianPruner } from './median-pruner.js';
import { PatientPruner } from './patient-pruner.js';
import type { Pruner, PruningContext } from './pruner.js';

describePrunerConformance('PatientPruner(none, patience 2)', () => new PatientPruner(null, { patience: 2 }));
describePrunerConformance('PatientPruner(median, patience 1, minDelta 0.05)', () => new PatientPruner(new MedianPruner({ nStartupTrials: 2 }), { patience: 1, minDelta: 0.05 }));

const ask = (pruner: Pruner, values: number[], direction: Direction = 'minimize', trials = [] as PruningContext['trials']): boolean =>
  pruner.prune(pruningContext(frozenTrial(50, 'RUNNING', curve(values)), trials, direction));

/** A wrapped pruner that answers `answer` and counts the calls. */
function stub(answer: boolean): Pruner & { calls: number } {
  return { name: 'stub', calls: 0, prune() { this.calls++; return answer; } };
}

describe('PatientPruner', () => {
  it('without a wrapped pruner, prunes once the last patience + 1 reports do not improve on the best before them', () => {
    const p = new PatientPruner(null, { patience: 2 });
    assert.equal(ask(p, [5, 4, 3, 3.5, 3.2]), false, 'only 2 reports since the best');
    assert.equal(ask(p, [5, 4, 3, 3.5, 3.2, 3.1]), true, '3 reports without beating 3');
    assert.equal(ask(p, [5, 4, 3, 3.5, 3.2, 2.9]), false, 'improved');
    assert.equal(ask(p, [5, 4, 3]), false, 'too few reports to tell');
    assert.equal(ask(new PatientPruner(null, { patience: 0 }), [2, 2.1]), true, 'patience 0: the first report without improvement');
  });

  it('an equal value is no improvement; minDelta sets how much better counts', () => {
    assert.equal(ask(new PatientPruner(null, { patience: 2 }), [3, 3, 3, 3]), true);
    const values = [5, 4, 3, 2.95, 2.9, 2.92];
    assert.equal(ask(new PatientPruner(null, { patience: 2 }), values), false, '2.9 beats 3');
    assert.equal(ask(new PatientPruner(null, { patience: 2, minDelta: 0.2 }), values), true, 'but not by more than 0.2');
    assert.equal(ask(new PatientPruner(null, { patience: 2, minDelta: 0.05 }), values), false, '0.1 > 0.05');
  });

  it('is direction-aware', () => {
    const p = new PatientPruner(null, { patience: 1 });
    assert.equal(ask(p, [1, 2, 3, 2.5, 2.8], 'maximize'), true);
    assert.equal(ask(p, [1, 2, 3, 2.5, 3.1], 'maximize'), false);
    assert.equal(ask(p, [1, 2, 3, 2.5, 2.8], 'minimize'), true, 'minimizing, nothing beat 1');
  });

  it('counts reports, not step numbers, and ignores NaN; a window of NaN only is no improvement', () => {
    const p = new PatientPruner(null, { patience: 1 });
    const gappy = (values: Record<number, number>): boolean => p.prune(pruningContext(frozenTrial(1, 'RUNNING', values), [], 'minimize'));
    assert.equal(gappy({ 0: 3, 10: 4, 20: 4 }), true);
    assert.equal(gappy({ 0: 3, 10: 4, 20: 2 }), false);
    assert.equal(ask(p, [3, Number.NaN, 2]), false, 'improved after a NaN');
    assert.equal(ask(p, [3, 2, Number.NaN, Number.NaN]), true);
    assert.equal(ask(p, [Number.NaN, Number.NaN, 5]), false, 'nothing to compare with');
  });

  it('with a wrapped pruner: asks it only when the trial stalled, and prunes only if it agrees', () => {
    const yes = stub(true);
    const p = new PatientPruner(yes, { patience: 1 });
    assert.equal(ask(p, [5, 4, 3]), false);
    assert.equal(yes.calls, 0, 'improving: the wrapped pruner is not asked');
    assert.equal(ask(p, [3, 4, 5]), true);
    assert.equal(yes.calls, 1);
    assert.equal(ask(new PatientPruner(stub(false), { patience: 1 }), [3, 4, 5]), false);
  });

  it('with a median pruner: a stalled trial better than the median is kept, a stalled bad one pruned', () => {
    const history = [1, 2, 3, 4, 5].map((v, i) => frozenTrial(i, 'COMPLETE', curve([v, v, v, v])));
    const p = new PatientPruner(new MedianPruner(), { patience: 1 });
    assert.equal(ask(p, [2, 2, 2], 'minimize', history), false, 'stalled, but better than the median 3');
    assert.equal(ask(p, [4, 4, 4], 'minimize', history), true);
    assert.equal(ask(p, [6, 5, 4], 'minimize', history), false, 'worse than the median, but improving');
  });

  it('rejects bad options', () => {
    assert.throws(() => new PatientPruner(null, {} as never), (e: Error) => e instanceof UsageError && /PatientPruner: patience is required/.test(e.message));
    assert.throws(() => new PatientPruner(null, { patience: -1 }), /patience must be an integer ≥ 0 but got -1/);
    assert.throws(() => new PatientPruner(null, { patience: 1, minDelta: -0.1 }), /minDelta must be a number ≥ 0 but got -0.1/);
    assert.throws(() => new PatientPruner({} as never, { patience: 1 }), /the wrapped pruner must be a pruner or null/);
    const p = new PatientPruner(null, { patience: 3 });
    assert.deepEqual([p.name, p.wrapped, p.patience, p.minDelta], ['patient', null, 3, 0]);
  });
});
