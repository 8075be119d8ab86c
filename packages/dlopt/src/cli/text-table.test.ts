import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { textTable } from './text-table.js';

describe('textTable', () => {
  it('pads to the widest cell, right-aligns numeric columns and trims line ends', () => {
    const lines = textTable(['class', 'images', 'note'], [['cat', '5', ''], ['airplane', '1000', 'ok']], (i) => i === 1);
    assert.deepEqual(lines, ['class     images  note', 'cat            5', 'airplane    1000  ok']);
  });

  it('a header alone is one line', () => {
    assert.deepEqual(textTable(['a', 'b'], [], () => false), ['a  b']);
  });
});
