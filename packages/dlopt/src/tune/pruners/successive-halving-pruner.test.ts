import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../errors.js';
import { curve, describePrunerConformance, frozenTrial, mirrorContext, pruningContext } from '../../test-support/pruner-conformance.js';
import type { FrozenTrial, TrialState } from '../trial-state.js';
import { SuccessiveHalvingPruner } from './successive-halving-pruner.js';

describePrunerConformance('SuccessiveHalvingPruner', () => new SuccessiveHalvingPruner());
describePrunerConformance('SuccessiveHalvingPruner(r 1, η 2, s 1, bootstrap 2)', () =>
  new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 2, minEarlyStoppingRate: 1, bootstrapCount: 2 }),
);

/** Trials that reported `value` at every step 0..`lastStep`. */
const flat = (values: number[], lastStep: number, state: TrialState = 'PRUNED', first = 0): FrozenTrial[] =>
  values.map((v, i) => frozenTrial(first + i, state, curve(Array.from({ length: lastStep + 1 }, () => v))));
const asking = (values: Record<number, number>): FrozenTrial => frozenTrial(99, 'RUNNING', values);
const upTo = (lastStep: number, value: number, before = 0): Record<number, number> =>
  curve(Array.from({ length: lastStep + 1 }, (_, s) => (s === lastStep ? value : before)));

describe('SuccessiveHalvingPruner', () => {
  // Rungs at steps 1, 4, 16 (r = 1, η = 4).
  const sh = new SuccessiveHalvingPruner({ minResource: 1 });

  it('promotes the top 1/η at a rung and prunes the others', () => {
    const others = flat([1, 2, 3, 4, 5, 6, 7, 8], 1);
    // 9 values at the rung: the top ⌊9/4⌋ = 2 go on.
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 1.5, 9)), others)), false);
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 2.5, 0)), others)), true);
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 2, 9)), others)), false, 'a tie with the last promoted value goes on');
    // 12 values: top 3.
    const more = flat([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 1);
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 2.9)), more)), false);
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 3.1)), more)), true);
  });

  it('with fewer than η values at a rung, only the best goes on', () => {
    const others = flat([1, 2], 1);
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 0.5)), others)), false);
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 1.5)), others)), true);
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 100)), [])), false, 'the first to reach a rung is the best there');
  });

  it('judges each rung when the trial reaches it, not between rungs, and a promotion is final', () => {
    const others = flat([1, 2, 3, 4, 5, 6, 7, 8], 5);
    assert.equal(sh.prune(pruningContext(asking(upTo(0, 100)), others)), false, 'step 0: no rung');
    assert.equal(sh.prune(pruningContext(asking({ ...upTo(2, 100), 1: 0.5 }), others)), false, 'step 2: rung 1 passed already');
    assert.equal(sh.prune(pruningContext(asking({ ...upTo(4, 1.5), 1: 0.5 }), others)), false, 'rung 4: top 2 of 9');
    assert.equal(sh.prune(pruningContext(asking({ ...upTo(4, 2.5), 1: 0.5 }), others)), true, 'rung 4: not in the top 2');
  });

  it('a trial that skips rung steps is judged at every rung its report crosses, with that value', () => {
    const others = [...flat([5, 6, 7], 1, 'PRUNED'), ...flat([1, 2, 3, 4, 5], 6, 'PRUNED', 3)];
    // Rung 1 holds [5,6,7,1,2,3,4,5] and v (top 2 go on); rung 4 holds [1,2,3,4,5] and v (only the best).
    assert.equal(sh.prune(pruningContext(asking({ 0: 9, 5: 0.5 }), others)), false);
    assert.equal(sh.prune(pruningContext(asking({ 0: 9, 5: 1.5 }), others)), true, 'passes rung 1, not rung 4');
    assert.equal(sh.prune(pruningContext(asking({ 0: 9, 1: 1.5 }), others)), false, 'rung 1 alone lets 1.5 through');
    // Another trial's value at a skipped rung is the one at its first report past it.
    const skipper = frozenTrial(50, 'PRUNED', { 0: 0, 3: 0.1, 6: 50 });
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 0.2)), [skipper])), true, "0.1 counts at rung 1 (its step 3)");
    assert.equal(sh.prune(pruningContext(asking(upTo(4, 0.2, 0)), [skipper])), false, '50 counts at rung 4 (its step 6)');
  });

  it('counts trials in any state at the rung, and never NaN values', () => {
    const states: TrialState[] = ['COMPLETE', 'PRUNED', 'RUNNING', 'FAIL'];
    const others = states.map((state, i) => frozenTrial(i, state, curve([0, i + 1])));
    // 5 values at rung 1: [1,2,3,4,v]; top 1.
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 1.5)), others)), true);
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 0.5)), others)), false);
    const nan = flat([Number.NaN, Number.NaN, Number.NaN, Number.NaN], 1);
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 100)), nan)), false, 'alone at the rung');
  });

  it('maximizing promotes the largest values', () => {
    const others = flat([1, 2, 3, 4, 5, 6, 7, 8], 1);
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 7.5)), others, 'maximize')), false);
    assert.equal(sh.prune(pruningContext(asking(upTo(1, 6.5)), others, 'maximize')), true);
    assert.equal(sh.prune(mirrorContext(pruningContext(asking(upTo(1, 2.5)), others))), true);
  });

  it('bootstrapCount: the first arrivals at a rung are pruned until more than that many reached it', () => {
    const boot = new SuccessiveHalvingPruner({ minResource: 1, bootstrapCount: 2 });
    assert.equal(boot.prune(pruningContext(asking(upTo(1, 0)), [])), true, '1 value');
    assert.equal(boot.prune(pruningContext(asking(upTo(1, 0)), flat([5], 1))), true, '2 values');
    assert.equal(boot.prune(pruningContext(asking(upTo(1, 0)), flat([5, 6], 1))), false, '3 values, the best');
    assert.equal(boot.prune(pruningContext(asking(upTo(1, 5.5)), flat([5, 6], 1))), true, '3 values, not the best');
  });

  it('minEarlyStoppingRate moves the first rung to r·η^s', () => {
    const late = new SuccessiveHalvingPruner({ minResource: 2, reductionFactor: 3, minEarlyStoppingRate: 1 });
    assert.equal(late.rungStep(0, []), 6);
    assert.equal(late.rungStep(1, []), 18);
    const others = flat([1, 2, 3], 20);
    assert.equal(late.prune(pruningContext(asking(upTo(5, 100)), others)), false, 'step 5: before the first rung');
    assert.equal(late.prune(pruningContext(asking(upTo(6, 100)), others)), true, 'step 6');
  });

  it("'auto' minResource: no pruning until a trial completed, then ⌊its last step / 100⌋ (at least 1)", () => {
    const auto = new SuccessiveHalvingPruner();
    const running = flat([1, 2, 3, 4, 5], 10, 'RUNNING');
    assert.equal(auto.prune(pruningContext(asking(upTo(1, 100)), running)), false);
    assert.equal(auto.rungStep(0, running), undefined);
    const short = frozenTrial(20, 'COMPLETE', curve([1, 1, 1]), { completedAt: 10 });
    assert.equal(auto.rungStep(0, [...running, short]), 1);
    assert.equal(auto.prune(pruningContext(asking(upTo(1, 100)), [...running, short])), true);
    // The first to complete decides, not the longest: 299 → 2 unless a trial completed before it.
    const long = frozenTrial(21, 'COMPLETE', { 299: 1 }, { completedAt: 5 });
    assert.equal(auto.rungStep(0, [long, short]), 2);
    assert.equal(auto.rungStep(1, [short, long]), 8);
  });

  it('a NaN latest value prunes at once; a NaN before does not count', () => {
    assert.equal(sh.prune(pruningContext(asking({ 0: 1, 2: Number.NaN }), [])), true);
    assert.equal(new SuccessiveHalvingPruner().prune(pruningContext(asking({ 0: Number.NaN }), [])), true, "even before 'auto' is known");
  });

  it("has Optuna's defaults and rejects bad options", () => {
    const d = new SuccessiveHalvingPruner();
    assert.deepEqual([d.name, d.minResource, d.reductionFactor, d.minEarlyStoppingRate, d.bootstrapCount], ['successive-halving', 'auto', 4, 0, 0]);
    assert.throws(() => new SuccessiveHalvingPruner({ reductionFactor: 1 }), (e: Error) => e instanceof UsageError && /reductionFactor must be an integer ≥ 2 but got 1/.test(e.message));
    assert.throws(() => new SuccessiveHalvingPruner({ minResource: 0 }), /minResource must be 'auto' or an integer ≥ 1 but got 0/);
    assert.throws(() => new SuccessiveHalvingPruner({ minEarlyStoppingRate: -1 }), /minEarlyStoppingRate/);
    assert.throws(() => new SuccessiveHalvingPruner({ bootstrapCount: 1 }), /bootstrapCount > 0 needs a numeric minResource/);
    assert.throws(() => new SuccessiveHalvingPruner({ eta: 3 } as never), /unknown option eta/);
  });
});
