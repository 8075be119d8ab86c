import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colorEnabled, shellQuote } from './console.js';

describe('colorEnabled', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };

  it('colours a terminal and not a pipe or file', () => {
    assert.equal(colorEnabled(tty, {}), true);
    assert.equal(colorEnabled(pipe, {}), false);
    assert.equal(colorEnabled({}, {}), false);
  });

  it('does not colour a pipe just because CI is set (picocolors would)', () => {
    assert.equal(colorEnabled(pipe, { CI: 'true' }), false);
    assert.equal(colorEnabled(tty, { CI: 'true' }), true);
  });

  it('NO_COLOR turns colour off, even with FORCE_COLOR; an empty NO_COLOR is ignored', () => {
    assert.equal(colorEnabled(tty, { NO_COLOR: '1' }), false);
    assert.equal(colorEnabled(tty, { NO_COLOR: '1', FORCE_COLOR: '1' }), false);
    assert.equal(colorEnabled(tty, { NO_COLOR: '' }), true);
  });

  it('FORCE_COLOR turns colour on for a pipe; FORCE_COLOR=0 turns it off on a terminal', () => {
    assert.equal(colorEnabled(pipe, { FORCE_COLOR: '1' }), true);
    assert.equal(colorEnabled(pipe, { FORCE_COLOR: '' }), true);
    assert.equal(colorEnabled(tty, { FORCE_COLOR: '0' }), false);
    assert.equal(colorEnabled(tty, { FORCE_COLOR: 'false' }), false);
  });

  it('a dumb terminal gets no colour', () => {
    assert.equal(colorEnabled(tty, { TERM: 'dumb' }), false);
  });
});

describe('shellQuote', () => {
  it('leaves safe words alone and single-quotes the rest', () => {
    assert.equal(shellQuote('sqlite:runs/a.db'), 'sqlite:runs/a.db');
    assert.equal(shellQuote('my study'), `'my study'`);
    assert.equal(shellQuote(`it's`), `'it'\\''s'`);
  });
});
