import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as tarStream from 'tar-stream';
import { DataError } from '../errors.js';
import { tempDir } from '../test-support/fixtures.js';
import { readTarMembers } from './tar-members.js';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string; body?: Buffer };

/** A tar archive, as bytes, holding exactly the entries given, in order. */
async function tarBytes(entries: Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const e of entries) {
    if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory' });
    else if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname ?? 'x' });
    else pack.entry({ name: e.name }, e.body ?? Buffer.alloc(0));
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Bytes that are certainly not a tar header (a header's checksum would not match). */
const GARBAGE = Buffer.alloc(4096, 0x41);

/** A body large enough to arrive in several stream chunks. */
const BIG = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + 7) % 256));

const ENTRIES: Entry[] = [
  { name: 'top/', type: 'directory' },
  { name: 'top/a.txt', body: Buffer.from('alpha') },
  { name: 'top/link', type: 'symlink', linkname: 'a.txt' },
  { name: './top/b.bin', body: BIG },
  { name: 'top/empty', body: Buffer.alloc(0) },
  { name: 'top/c.txt', body: Buffer.from('gamma') },
];

describe('readTarMembers', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let plain = '';
  let gz = '';

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    const bytes = await tarBytes(ENTRIES);
    plain = join(dir, 'x.tar');
    gz = join(dir, 'x.tar.gz');
    await writeFile(plain, bytes);
    await writeFile(gz, gzipSync(bytes));
  });
  after(() => cleanup());

  for (const kind of ['plain', 'gzip'] as const) {
    it(`reads only the wanted members of a ${kind} archive and reports every file seen`, async () => {
      const path = kind === 'plain' ? plain : gz;
      const asked: string[] = [];
      const { members, seen } = await readTarMembers(path, (p) => {
        asked.push(p);
        return p === 'top/b.bin' || p === 'top/c.txt';
      });
      assert.deepEqual([...members.keys()], ['top/b.bin', 'top/c.txt']);
      assert.deepEqual(members.get('top/b.bin'), BIG);
      assert.equal(members.get('top/c.txt')?.toString(), 'gamma');
      // Regular files only, with a leading ./ removed; directories and symlinks are neither offered nor listed.
      assert.deepEqual(seen, ['top/a.txt', 'top/b.bin', 'top/empty', 'top/c.txt']);
      assert.deepEqual(asked, seen);
    });
  }

  it('keeps an empty member as an empty buffer', async () => {
    const { members } = await readTarMembers(plain, (p) => p === 'top/empty');
    assert.equal(members.size, 1);
    assert.equal(members.get('top/empty')?.length, 0);
  });

  it('returns nothing (but still lists the files) when no member is wanted', async () => {
    const { members, seen } = await readTarMembers(gz, () => false);
    assert.equal(members.size, 0);
    assert.equal(seen.length, 4);
  });

  it('stops reading once `expect` members are found, never reaching data after them', async () => {
    // The wanted members come first; what follows is not valid tar data.
    const path = join(dir, 'then-garbage.tar');
    const head = await tarBytes([
      { name: 'one', body: Buffer.from('1') },
      { name: 'two', body: Buffer.from('2') },
      { name: 'three', body: Buffer.from('3') },
    ]);
    // Drop the end-of-archive blocks so the parser runs straight into the garbage.
    const entriesOnly = head.subarray(0, 3 * 1024);
    await writeFile(path, Buffer.concat([entriesOnly, GARBAGE]));

    const early = await readTarMembers(path, (p) => p === 'one' || p === 'two', 2);
    assert.deepEqual([...early.members.keys()], ['one', 'two']);
    assert.equal(early.members.get('two')?.toString(), '2');
    assert.deepEqual(early.seen, ['one', 'two']);

    // Without the early stop the same archive fails, so the stop is what saved the read above.
    await assert.rejects(
      readTarMembers(path, (p) => p === 'one' || p === 'two'),
      (error: unknown) => error instanceof DataError && /cannot read archive .*then-garbage\.tar/.test(error.message),
    );
  });

  it('stops early in a gzip stream that is truncated after the wanted members', async () => {
    const body = await tarBytes([
      { name: 'first', body: Buffer.from('wanted') },
      { name: 'filler', body: BIG },
    ]);
    const zipped = gzipSync(body, { level: 0 });
    const path = join(dir, 'cut.tar.gz');
    await writeFile(path, zipped.subarray(0, Math.floor(zipped.length / 2)));

    const { members, seen } = await readTarMembers(path, (p) => p === 'first', 1);
    assert.equal(members.get('first')?.toString(), 'wanted');
    assert.deepEqual(seen, ['first']);

    await assert.rejects(readTarMembers(path, (p) => p === 'first'), (error: unknown) => {
      assert.ok(error instanceof DataError);
      assert.match(error.message, /cut\.tar\.gz/);
      assert.match(error.message, /truncated/);
      return true;
    });
  });

  it('keeps reading to the end when fewer than `expect` members exist', async () => {
    const { members, seen } = await readTarMembers(plain, (p) => p === 'top/a.txt', 5);
    assert.deepEqual([...members.keys()], ['top/a.txt']);
    assert.equal(seen.length, 4);
  });

  it('never uses member paths on disk: a path with .. is only a key', async () => {
    const path = join(dir, 'evil.tar');
    await writeFile(path, await tarBytes([{ name: '../../evil.txt', body: Buffer.from('x') }]));
    const { members } = await readTarMembers(path, () => true);
    assert.equal(members.get('../../evil.txt')?.toString(), 'x');
  });

  it('fails with a DataError naming a file that does not exist', async () => {
    const missing = join(dir, 'nope.tar.gz');
    await assert.rejects(readTarMembers(missing, () => true), (error: unknown) => {
      assert.ok(error instanceof DataError);
      assert.match(error.message, /^cannot open .*nope\.tar\.gz: .*ENOENT/);
      return true;
    });
  });

  it('fails with a DataError on bytes that are not an archive', async () => {
    const path = join(dir, 'garbage.tar');
    await writeFile(path, GARBAGE);
    await assert.rejects(readTarMembers(path, () => true), (error: unknown) => {
      assert.ok(error instanceof DataError);
      assert.match(error.message, /cannot read archive .*garbage\.tar: not a tar or tar\.gz archive/);
      return true;
    });
  });
});
