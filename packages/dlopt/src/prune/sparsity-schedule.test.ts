import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DloptError } from '../errors.js';
import { ConstantSparsity, PolynomialDecaySparsity } from './sparsity-schedule.js';

const close = (actual: number, expected: number, what: string): void => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);
const updates = (s: { shouldUpdate(step: number): boolean }, upTo: number): number[] =>
  Array.from({ length: upTo + 1 }, (_, i) => i).filter((i) => s.shouldUpdate(i));

describe('PolynomialDecaySparsity', () => {
  it('follows s_f + (s_i − s_f)(1 − p)^power at begin, middle and end', () => {
    const agp = new PolynomialDecaySparsity({ initial: 0, final: 0.8, beginStep: 0, endStep: 100 });
    close(agp.sparsityAt(0), 0, 'begin');
    close(agp.sparsityAt(50), 0.7, 'middle: 0.8 − 0.8 · 0.5³');
    close(agp.sparsityAt(25), 0.8 - 0.8 * 0.421875, 'quarter: 0.8 − 0.8 · 0.75³');
    close(agp.sparsityAt(100), 0.8, 'end');
    close(agp.sparsityAt(1000), 0.8, 'after the end');

    const squared = new PolynomialDecaySparsity({ initial: 0.2, final: 0.6, beginStep: 10, endStep: 30, power: 2 });
    assert.equal(squared.sparsityAt(9), 0, 'no pruning before the begin step');
    close(squared.sparsityAt(10), 0.2, 'begin: the initial sparsity');
    close(squared.sparsityAt(20), 0.5, 'middle: 0.6 − 0.4 · 0.25');
    close(squared.sparsityAt(30), 0.6, 'end');
  });

  it('updates every `frequency` steps from begin to end, and at the end step', () => {
    const s = new PolynomialDecaySparsity({ initial: 0, final: 0.5, beginStep: 10, endStep: 35, frequency: 10 });
    assert.deepEqual(updates(s, 100), [10, 20, 30, 35]);
    const every = new PolynomialDecaySparsity({ initial: 0, final: 0.5, beginStep: 0, endStep: 4, frequency: 1 });
    assert.deepEqual(updates(every, 10), [0, 1, 2, 3, 4]);
    assert.match(s.describe(), /polynomial decay \(power 3\) from sparsity 0 to 0.5 over steps 10-35, masks updated every 10 steps/);
  });

  it('rejects invalid arguments', () => {
    const base = { initial: 0, final: 0.5, beginStep: 0, endStep: 10 };
    const bad: [Partial<typeof base> & { power?: number; frequency?: number }, RegExp][] = [
      [{ final: 1 }, /final sparsity must be in \[0, 1\) but got 1/],
      [{ initial: -0.1 }, /initial sparsity must be in \[0, 1\)/],
      [{ initial: 0.6 }, /final sparsity \(0.5\) must be at least the initial sparsity \(0.6\)/],
      [{ endStep: 0 }, /endStep \(0\) must be after beginStep \(0\)/],
      [{ beginStep: -1 }, /beginStep must be a whole number of steps >= 0/],
      [{ beginStep: 1.5 }, /beginStep must be a whole number/],
      [{ frequency: 0 }, /frequency must be a whole number of steps >= 1/],
      [{ power: 0 }, /power must be a positive number/],
    ];
    for (const [change, message] of bad) {
      assert.throws(() => new PolynomialDecaySparsity({ ...base, ...change }), (e: unknown) => e instanceof DloptError && message.test(e.message), JSON.stringify(change));
    }
  });
});

describe('ConstantSparsity', () => {
  it('holds the target from the begin step on, 0 before', () => {
    const s = new ConstantSparsity({ target: 0.75, beginStep: 5 });
    assert.equal(s.sparsityAt(4), 0);
    assert.equal(s.sparsityAt(5), 0.75);
    assert.equal(s.sparsityAt(1_000_000), 0.75);
  });

  it('updates every `frequency` steps, forever by default, or until the end step (inclusive)', () => {
    assert.deepEqual(updates(new ConstantSparsity({ target: 0.5 }), 350), [0, 100, 200, 300]);
    assert.deepEqual(updates(new ConstantSparsity({ target: 0.5, beginStep: 3, frequency: 4 }), 20), [3, 7, 11, 15, 19]);
    assert.deepEqual(updates(new ConstantSparsity({ target: 0.5, beginStep: 3, endStep: 13, frequency: 4 }), 30), [3, 7, 11, 13]);
    assert.match(new ConstantSparsity({ target: 0.5, endStep: 9 }).describe(), /constant sparsity 0.5 from step 0 until step 9, masks updated every 100 steps/);
  });

  it('rejects invalid arguments', () => {
    assert.throws(() => new ConstantSparsity({ target: 1 }), /target sparsity must be in \[0, 1\) but got 1/);
    assert.throws(() => new ConstantSparsity({ target: Number.NaN }), /target sparsity must be in \[0, 1\)/);
    assert.throws(() => new ConstantSparsity({ target: 0.5, beginStep: 10, endStep: 5 }), /endStep \(5\) must be -1 or at least beginStep \(10\)/);
    assert.throws(() => new ConstantSparsity({ target: 0.5, endStep: -2 }), /endStep must be a whole number/);
    assert.throws(() => new ConstantSparsity({ target: 0.5, frequency: 2.5 }), /frequency must be a whole number/);
  });
});
