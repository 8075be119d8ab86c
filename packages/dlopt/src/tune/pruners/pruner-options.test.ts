import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../errors.js';
import { autoOrIntegerOption, checkOptionKeys, integerOption, numberOption } from './pruner-options.js';

describe('pruner options', () => {
  it('rejects unknown keys and non-objects, naming the known ones', () => {
    assert.throws(() => checkOptionKeys('P', { nWarmup: 1 }, ['nWarmupSteps']), (e: Error) => e instanceof UsageError && /P: unknown option nWarmup; known options: nWarmupSteps/.test(e.message));
    assert.throws(() => checkOptionKeys('P', [1], ['a']), /options must be an object but got a list/);
    assert.throws(() => checkOptionKeys('P', 3, ['a']), /but got 3/);
    assert.deepEqual(checkOptionKeys('P', undefined, ['a']), {});
  });

  it('integers, numbers and auto', () => {
    assert.equal(integerOption('P', 'n', undefined, 5, 0), 5);
    assert.throws(() => integerOption('P', 'n', 1.5, 5, 0), /P: n must be an integer ≥ 0 but got 1.5/);
    assert.throws(() => integerOption('P', 'n', '3', 5, 0), /but got "3"/);
    assert.throws(() => numberOption('P', 'x', Number.NaN, 0, { min: 0, max: 100 }), /x must be a number in \[0, 100\] but got NaN/);
    assert.equal(numberOption('P', 'x', -Infinity, 0), -Infinity);
    assert.equal(autoOrIntegerOption('P', 'r', 'auto', 1, 1), 'auto');
    assert.throws(() => autoOrIntegerOption('P', 'r', 'fast', 1, 1), /r must be 'auto' or an integer ≥ 1 but got "fast"/);
  });
});
