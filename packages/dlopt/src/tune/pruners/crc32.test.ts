import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from './crc32.js';

describe('crc32', () => {
  it('matches the standard check values (zlib, binascii.crc32)', () => {
    assert.equal(crc32(''), 0);
    assert.equal(crc32('123456789'), 0xcbf43926);
    assert.equal(crc32('a'), 0xe8b7be43);
  });

  it('hashes strings as UTF-8, as Python does with str.encode()', () => {
    assert.equal(crc32('é_3'), 300341398);
    assert.equal(crc32(new TextEncoder().encode('é_3')), 300341398);
  });
});
