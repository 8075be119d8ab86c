import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../errors.js';
import { curve, describePrunerConformance, frozenTrial, pruningContext } from '../../test-support/pruner-conformance.js';
import type { FrozenTrial } from '../trial-state.js';
import { HyperbandPruner, hyperbandBracket, hyperbandBracketCount, hyperbandBudgets, type HyperbandShape } from './hyperband-pruner.js';

describePrunerConformance('HyperbandPruner', () => new HyperbandPruner());
describePrunerConformance('HyperbandPruner(1..9, η 2)', () => new HyperbandPruner({ minResource: 1, maxResource: 9, reductionFactor: 2 }));

const shape27: HyperbandShape = { minResource: 1, maxResource: 27, reductionFactor: 3 };
const shape81: HyperbandShape = { minResource: 1, maxResource: 81, reductionFactor: 3 };

/** The first trial numbers (from `from`) of study `study` that fall in `bracket`. */
function numbersIn(study: string, bracket: number, count: number, from = 0): number[] {
  const found: number[] = [];
  for (let n = from; found.length < count; n++) if (hyperbandBracket(study, n, shape27) === bracket) found.push(n);
  return found;
}

const constant = (number: number, value: number, lastStep: number, state: FrozenTrial['state'] = 'PRUNED'): FrozenTrial =>
  frozenTrial(number, state, curve(Array.from({ length: lastStep + 1 }, () => value)));

describe('HyperbandPruner brackets', () => {
  it('⌊log_η(max/min)⌋ + 1 brackets, exact at powers of η', () => {
    assert.equal(hyperbandBracketCount(shape81), 5);
    assert.equal(hyperbandBracketCount({ ...shape81, maxResource: 80 }), 4);
    assert.equal(hyperbandBracketCount({ ...shape81, maxResource: 243 }), 6);
    assert.equal(hyperbandBracketCount({ minResource: 4, maxResource: 4, reductionFactor: 3 }), 1);
    assert.equal(hyperbandBracketCount({ minResource: 5, maxResource: 3, reductionFactor: 3 }), 1, 'never fewer than one');
  });

  it('budgets ⌈n·η^s/(s+1)⌉, bracket 0 (the most aggressive) the largest', () => {
    assert.deepEqual(hyperbandBudgets(shape81), [81, 34, 15, 8, 5]);
    assert.deepEqual(hyperbandBudgets(shape27), [27, 12, 6, 4]);
  });

  it("assigns trials to the brackets Optuna does (crc32 of 'study_number')", () => {
    // From Python: binascii.crc32(f"demo_{n}".encode()) % total, mapped through the budgets.
    assert.deepEqual(Array.from({ length: 20 }, (_, n) => hyperbandBracket('demo', n, shape81)), [0, 3, 2, 1, 0, 0, 0, 2, 0, 0, 4, 1, 0, 0, 3, 0, 0, 4, 1, 2]);
    assert.deepEqual(Array.from({ length: 20 }, (_, n) => hyperbandBracket('demo', n, shape27)), [3, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 3, 2, 0, 0, 2, 3, 0, 0, 0]);
  });

  it('spreads trials over the brackets in proportion to their budgets', () => {
    const counts = [0, 0, 0, 0, 0];
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[hyperbandBracket('spread', i, shape81)]!++;
    const budgets = hyperbandBudgets(shape81);
    const total = budgets.reduce((a, b) => a + b, 0);
    counts.forEach((c, b) => assert.ok(Math.abs(c / n - budgets[b]! / total) < 0.015, `bracket ${b}: ${c / n} vs ${budgets[b]! / total}`));
  });

  it("the pruner's bracket follows 'auto': last step of the first completed trial + 1", () => {
    const pruner = new HyperbandPruner();
    assert.equal(pruner.bracket('demo', [constant(0, 1, 30, 'RUNNING')], 3), undefined);
    const done = [constant(5, 1, 26, 'COMPLETE'), constant(6, 1, 200, 'COMPLETE')];
    done[1]!.completedAt = done[0]!.completedAt! + 1;
    assert.deepEqual(pruner.shape(done), shape27);
    assert.equal(pruner.bracket('demo', done, 12), hyperbandBracket('demo', 12, shape27));
    assert.equal(new HyperbandPruner({ maxResource: 81 }).bracket('demo', [], 10), 4);
  });
});

describe('HyperbandPruner', () => {
  const hb = new HyperbandPruner({ maxResource: 27 });

  it('compares a trial only with trials of its own bracket', () => {
    const [a, b] = numbersIn('demo', 0, 2);
    const [other] = numbersIn('demo', 1, 1);
    const asking = frozenTrial(a!, 'RUNNING', curve([5, 5]));
    // Bracket 0's first rung is step 1; a better trial there prunes; the same trial in bracket 1 does not count.
    assert.equal(hb.prune(pruningContext(asking, [constant(b!, 1, 1)], 'minimize', 'demo')), true);
    assert.equal(hb.prune(pruningContext(asking, [constant(other!, 1, 1)], 'minimize', 'demo')), false);
    assert.equal(hb.prune(pruningContext(asking, [constant(b!, 9, 1), constant(other!, 1, 1)], 'minimize', 'demo')), false);
  });

  it('bracket b runs successive halving from rung minResource·η^b', () => {
    const [a, b, c, d] = numbersIn('demo', 1, 4);
    const others = [constant(b!, 1, 10), constant(c!, 1, 10), constant(d!, 1, 10)];
    const asking = (lastStep: number): FrozenTrial => constant(a!, 9, lastStep, 'RUNNING');
    assert.equal(hb.prune(pruningContext(asking(1), others, 'minimize', 'demo')), false, 'step 1 is no rung in bracket 1');
    assert.equal(hb.prune(pruningContext(asking(3), others, 'minimize', 'demo')), true, 'step 3 is');
    const [e, f] = numbersIn('demo', 3, 2);
    const better = [constant(f!, 1, 30)];
    assert.equal(hb.prune(pruningContext(constant(e!, 9, 26, 'RUNNING'), better, 'minimize', 'demo')), false, 'bracket 3 has no rung before 27');
    assert.equal(hb.prune(pruningContext(constant(e!, 9, 27, 'RUNNING'), better, 'minimize', 'demo')), true);
  });

  it("'auto' maxResource: no pruning (but NaN) until a trial completed", () => {
    const auto = new HyperbandPruner();
    const [a, b] = numbersIn('demo', 0, 2);
    const asking = frozenTrial(a!, 'RUNNING', curve([5, 5]));
    const better = constant(b!, 1, 1);
    assert.equal(auto.prune(pruningContext(asking, [better], 'minimize', 'demo')), false);
    assert.equal(auto.prune(pruningContext(frozenTrial(a!, 'RUNNING', { 0: Number.NaN }), [better], 'minimize', 'demo')), true);
    const completed = constant(numbersIn('demo', 3, 1)[0]!, 1, 26, 'COMPLETE');
    assert.equal(auto.prune(pruningContext(asking, [better, completed], 'minimize', 'demo')), true);
  });

  it("has Optuna's defaults and rejects bad options", () => {
    const d = new HyperbandPruner();
    assert.deepEqual([d.name, d.minResource, d.maxResource, d.reductionFactor, d.bootstrapCount], ['hyperband', 1, 'auto', 3, 0]);
    assert.throws(() => new HyperbandPruner({ minResource: 10, maxResource: 5 }), (e: Error) => e instanceof UsageError && /maxResource \(5\) must be ≥ minResource \(10\)/.test(e.message));
    assert.throws(() => new HyperbandPruner({ reductionFactor: 1 }), /HyperbandPruner: reductionFactor must be an integer ≥ 2/);
    assert.throws(() => new HyperbandPruner({ maxResource: 'max' as never }), /maxResource must be 'auto' or an integer ≥ 1/);
    assert.throws(() => new HyperbandPruner({ minResource: 'auto' as never }), /minResource must be an integer ≥ 1/);
  });
});
