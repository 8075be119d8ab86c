import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Distribution } from '../distributions.js';
import { binOf, checkSeed, containsValue, fromInternal, paramSpace, singleValue, toInternal, type NumericSpace } from './space.js';

const numeric = (d: Distribution): NumericSpace => {
  const s = paramSpace(d);
  assert.equal(s.kind, 'numeric');
  return s as NumericSpace;
};

describe('sampler internal space', () => {
  it('continuous floats: the range itself, or its logarithm', () => {
    const lin = numeric({ type: 'float', low: -1, high: 2, log: false });
    assert.deepEqual([lin.lo, lin.hi, lin.discrete], [-1, 2, false]);
    const log = numeric({ type: 'float', low: 1e-3, high: 10, log: true });
    assert.deepEqual([log.lo, log.hi], [Math.log(1e-3), Math.log(10)]);
    assert.equal(toInternal(log, 0.1), Math.log(0.1));
    assert.ok(Math.abs((fromInternal(log, Math.log(0.1)) as number) - 0.1) < 1e-15);
    // Clamped: exp(log(high)) may round past high.
    assert.equal(fromInternal(log, log.hi + 1), 10);
  });

  it('discrete parameters: padded by half a step, the top snapped to the grid', () => {
    const stepped = numeric({ type: 'float', low: 0, high: 1.05, log: false, step: 0.1 });
    assert.deepEqual([stepped.high, stepped.steps, stepped.lo, stepped.hi], [1, 10, -0.05, 1.05]);
    assert.equal(fromInternal(stepped, 0.31), 0.3);
    assert.equal(fromInternal(stepped, 0.7), 0.7);
    assert.equal(fromInternal(stepped, 5), 1);
    const ints = numeric({ type: 'int', low: 2, high: 21, log: false, step: 3 });
    assert.deepEqual([ints.high, ints.lo, ints.hi], [20, 0.5, 21.5]);
    assert.deepEqual(binOf(ints, 5), [3.5, 6.5]);
    assert.equal(fromInternal(ints, 6.4), 5);
    const logInt = numeric({ type: 'int', low: 1, high: 8, log: true, step: 1 });
    assert.deepEqual([logInt.lo, logInt.hi], [Math.log(0.5), Math.log(8.5)]);
    assert.deepEqual(binOf(logInt, 3), [Math.log(2.5), Math.log(3.5)]);
    assert.equal(fromInternal(logInt, Math.log(3.4)), 3);
  });

  it('toInternal skips values the space cannot use', () => {
    const ints = numeric({ type: 'int', low: 0, high: 10, log: false, step: 1 });
    assert.equal(toInternal(ints, 4), 4);
    for (const bad of [4.5, -1, 11, '4', null, Number.NaN, undefined]) assert.equal(toInternal(ints, bad), undefined, String(bad));
    // Past the top grid value's bin (0.35 with step 0.2 from 0: top 0.2, bin up to 0.3).
    assert.equal(toInternal(numeric({ type: 'float', low: 0, high: 0.35, log: false, step: 0.2 }), 0.34), undefined);
    const cat = paramSpace({ type: 'categorical', choices: ['a', 1, null, Number.NaN] });
    assert.deepEqual([toInternal(cat, 1), toInternal(cat, null), toInternal(cat, Number.NaN), toInternal(cat, '1')], [1, 2, 3, undefined]);
    assert.equal(fromInternal(cat, 0.6), 1);
  });

  it('containsValue: range, grid (with float noise), type', () => {
    const stepped: Distribution = { type: 'float', low: 0, high: 1, log: false, step: 0.1 };
    assert.ok(containsValue(stepped, 0.30000000000000004));
    assert.ok(!containsValue(stepped, 0.35));
    assert.ok(!containsValue({ type: 'int', low: 0, high: 9, log: false, step: 3 }, 4));
    assert.ok(!containsValue({ type: 'int', low: 0, high: 9, log: false, step: 1 }, 1.5));
    assert.ok(!containsValue({ type: 'float', low: 0, high: 1, log: false }, '0.5'));
    assert.ok(containsValue({ type: 'categorical', choices: [true, null] }, null));
  });

  it('single values and seeds', () => {
    assert.deepEqual(singleValue(paramSpace({ type: 'int', low: 3, high: 3, log: false, step: 1 })), { value: 3 });
    assert.deepEqual(singleValue(paramSpace({ type: 'categorical', choices: [false] })), { value: false });
    assert.equal(singleValue(paramSpace({ type: 'float', low: 3, high: 4, log: false })), undefined);
    assert.equal(checkSeed(12, 'X'), 12);
    assert.ok(Number.isInteger(checkSeed(undefined, 'X')));
    assert.throws(() => checkSeed(Number.NaN, 'X'), /X: seed must be an integer/);
  });

  it('rejects invalid distributions', () => {
    assert.throws(() => paramSpace({ type: 'float', low: 0.1, high: 1, log: true, step: 0.1 }), /step cannot be combined with log/);
    assert.throws(() => paramSpace({ type: 'int', low: 1, high: 9, log: true, step: 2 }), /step must be 1 with log/);
    assert.throws(() => paramSpace({ type: 'int', low: 0, high: 9, log: false, step: 0 }), /step must be an integer ≥ 1/);
    assert.throws(() => paramSpace({ type: 'float', low: 0, high: Number.POSITIVE_INFINITY, log: false }), /finite/);
  });
});
