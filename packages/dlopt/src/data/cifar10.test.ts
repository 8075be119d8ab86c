import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DataError } from '../errors.js';
import {
  CLASS_NAMES,
  cifarFixture,
  tempDir,
  writeCifarDirectory,
  writeTarGz,
  type CifarFixture,
} from '../test-support/fixtures.js';
import { CIFAR10 } from './cifar10-format.js';
import { loadCifar10 } from './cifar10.js';
import type { Dataset } from './dataset.js';
import { concatImageSets } from './image-set.js';

/** A string as a regular expression that matches it literally. */
function literal(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}

/** Awaits a rejection that must be a DataError whose message matches every pattern; returns the message. */
async function dataError(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<string> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, 'expected the load to fail');
  assert.ok(caught instanceof DataError, `expected a DataError, got ${String(caught)}`);
  for (const pattern of patterns) assert.match(caught.message, pattern);
  return caught.message;
}

/** The fixture's files with some left out or replaced. */
function withFiles(fixture: CifarFixture, changes: Record<string, Buffer | null>): Map<string, Buffer> {
  const files = new Map(fixture.files);
  for (const [name, bytes] of Object.entries(changes)) {
    if (bytes === null) files.delete(name);
    else files.set(name, bytes);
  }
  return files;
}

describe('loadCifar10', () => {
  // 2 images in each training batch (10 in all) and 3 test images.
  const fixture = cifarFixture(2, 3, 7);
  const noTest = cifarFixture(2, null, 8);
  let root = '';
  let cleanup: () => Promise<void> = async () => {};
  let count = 0;
  /** A fresh path under the temp dir. */
  const fresh = (name: string) => join(root, `${count++}-${name}`);

  const sources: Record<string, string> = {};

  before(async () => {
    ({ dir: root, cleanup } = await tempDir());
    sources.targz = await writeTarGz(join(root, 'cifar-10-binary.tar.gz'), fixture.files);
    sources.tar = await writeTarGz(join(root, 'cifar-10-binary.tar'), fixture.files, { gzip: false });
    sources.flatTar = await writeTarGz(join(root, 'flat.tar.gz'), fixture.files, { prefix: '' });
    sources.parent = join(root, 'parent');
    sources.batches = await writeCifarDirectory(sources.parent, fixture.files);
  });
  after(() => cleanup());

  function checkFull(d: Dataset, source: string): void {
    assert.equal(d.format, 'cifar10');
    assert.equal(d.source, source);
    assert.deepEqual(d.classNames, CLASS_NAMES);
    assert.equal(d.orderedByClass, false);
    const train = concatImageSets(fixture.train);
    assert.equal(d.train?.count, 10);
    assert.equal(d.train.height, 32);
    assert.equal(d.train.width, 32);
    assert.equal(d.train.channels, 3);
    // Batches are joined in order 1..5.
    assert.deepEqual(d.train.labels, train.labels);
    assert.deepEqual(d.train.images, train.images);
    assert.equal(d.test?.count, 3);
    assert.deepEqual(d.test.labels, fixture.test!.labels);
    assert.deepEqual(d.test.images, fixture.test!.images);
    assert.equal(d.trainInfo?.description, '5 training batches (10 images)');
    assert.equal(d.testInfo?.description, 'test_batch.bin (3 images)');
  }

  for (const [label, key] of [
    ['a .tar.gz archive', 'targz'],
    ['a plain .tar archive', 'tar'],
    ['an archive with the files at its top level', 'flatTar'],
    ['the cifar-10-batches-bin folder', 'batches'],
    ['the folder that contains cifar-10-batches-bin', 'parent'],
  ] as const) {
    it(`reads ${label}`, async () => {
      const path = sources[key]!;
      checkFull(await loadCifar10(path), path);
    });
  }

  it('gives identical data from every form of the same files', async () => {
    const loaded = await Promise.all(
      ['targz', 'tar', 'flatTar', 'batches', 'parent'].map((k) => loadCifar10(sources[k]!)),
    );
    const [first, ...rest] = loaded.map(({ source: _source, ...d }) => d);
    for (const d of rest) assert.deepEqual(d, first);
  });

  it('reads everything with both splits required (archive read stops early)', async () => {
    for (const key of ['targz', 'tar', 'parent']) {
      const path = sources[key]!;
      checkFull(await loadCifar10(path, { train: 'required', test: 'required' }), path);
    }
  });

  it('reads an archive holding a file twice, using the first copy, whatever the split modes', async () => {
    // data_batch_1.bin at the top level (from another fixture) and again under cifar-10-batches-bin/.
    const strayFixture = cifarFixture(1, null, 99);
    const stray = strayFixture.files.get('data_batch_1.bin')!;
    const top = await writeTarGz(fresh('top.tar'), new Map([['data_batch_1.bin', stray]]), { gzip: false, prefix: '' });
    const rest = await writeTarGz(fresh('rest.tar'), fixture.files, { gzip: false });
    // Joining two tars: drop the first one's end-of-archive blocks (its last 1,024 zero bytes or more).
    const first = await readFile(top);
    const entryBytes = 512 + Math.ceil(stray.length / 512) * 512;
    const path = fresh('twice.tar');
    await writeFile(path, Buffer.concat([first.subarray(0, entryBytes), await readFile(rest)]));
    for (const options of [{}, { test: 'required' }, { test: 'skip' }, { train: 'required', test: 'optional' }] as const) {
      const d = await loadCifar10(path, options);
      assert.equal(d.train?.count, 1 + 4 * 2, JSON.stringify(options));
      assert.deepEqual(d.train.images.subarray(0, 3072), strayFixture.train[0]!.images);
      assert.deepEqual(d.train.images.subarray(3072), concatImageSets(fixture.train.slice(1)).images);
      if (options.test !== 'skip') assert.equal(d.test?.count, 3);
    }
  });

  describe('test split modes', () => {
    let archive = '';
    let dir = '';
    before(async () => {
      archive = await writeTarGz(fresh('no-test.tar.gz'), noTest.files);
      dir = await writeCifarDirectory(fresh('no-test'), noTest.files);
    });

    it("'optional' (the default) reads test_batch.bin when present", async () => {
      const d = await loadCifar10(sources.targz!, { test: 'optional' });
      assert.equal(d.test?.count, 3);
    });

    it("'optional' leaves test out when absent", async () => {
      for (const path of [archive, dir]) {
        const d = await loadCifar10(path);
        assert.equal(d.test, undefined);
        assert.equal(d.testInfo, undefined);
        assert.equal(d.train?.count, 10);
        assert.deepEqual(d.train.images, concatImageSets(noTest.train).images);
      }
    });

    it("'required' fails when absent, naming test_batch.bin and what was found", async () => {
      await dataError(
        loadCifar10(archive, { test: 'required' }),
        literal(`CIFAR-10 data at ${archive} is missing test_batch.bin (the test split was asked for)`),
        /found: cifar-10-batches-bin\/batches\.meta\.txt, cifar-10-batches-bin\/data_batch_1\.bin/,
      );
      await dataError(
        loadCifar10(dir, { test: 'required' }),
        /is missing test_batch\.bin \(the test split was asked for\); found: batches\.meta\.txt, data_batch_1\.bin, data_batch_2\.bin, data_batch_3\.bin, data_batch_4\.bin, data_batch_5\.bin$/,
      );
    });

    it("'skip' never reads test_batch.bin, even when present or corrupt", async () => {
      const d = await loadCifar10(sources.targz!, { test: 'skip' });
      assert.equal(d.test, undefined);
      assert.equal(d.train?.count, 10);
      const broken = await writeTarGz(fresh('bad-test.tar.gz'), withFiles(fixture, { 'test_batch.bin': Buffer.alloc(5) }));
      const skipped = await loadCifar10(broken, { test: 'skip' });
      assert.equal(skipped.test, undefined);
      assert.equal(skipped.train?.count, 10);
      await dataError(loadCifar10(broken), /test_batch\.bin is truncated/);
    });
  });

  describe('train split modes', () => {
    it("'skip' reads only the test split", async () => {
      for (const key of ['targz', 'batches']) {
        const d = await loadCifar10(sources[key]!, { train: 'skip' });
        assert.equal(d.train, undefined);
        assert.equal(d.trainInfo, undefined);
        assert.equal(d.test?.count, 3);
        assert.deepEqual(d.test.images, fixture.test!.images);
        assert.deepEqual(d.classNames, CLASS_NAMES);
      }
    });

    it("'skip' ignores training batches that are absent", async () => {
      const onlyTest = withFiles(fixture, Object.fromEntries(CIFAR10.trainFiles.map((f) => [f, null])));
      const path = await writeTarGz(fresh('test-only.tar.gz'), onlyTest);
      const d = await loadCifar10(path, { train: 'skip', test: 'required' });
      assert.equal(d.train, undefined);
      assert.equal(d.test?.count, 3);
    });

    it("'optional' reads training data when present and leaves it out when all five batches are absent", async () => {
      const d = await loadCifar10(sources.tar!, { train: 'optional' });
      assert.equal(d.train?.count, 10);
      const onlyTest = withFiles(fixture, Object.fromEntries(CIFAR10.trainFiles.map((f) => [f, null])));
      for (const path of [
        await writeTarGz(fresh('test-only.tar.gz'), onlyTest),
        await writeCifarDirectory(fresh('test-only'), onlyTest),
      ]) {
        const t = await loadCifar10(path, { train: 'optional' });
        assert.equal(t.train, undefined);
        assert.equal(t.test?.count, 3);
      }
    });

    it("'optional' still refuses a partial set of training batches", async () => {
      const partial = withFiles(fixture, { 'data_batch_3.bin': null });
      const path = await writeTarGz(fresh('partial.tar.gz'), partial);
      await dataError(loadCifar10(path, { train: 'optional' }), /is missing data_batch_3\.bin;/);
    });

    it("'required' (the default) fails without training batches", async () => {
      const onlyTest = withFiles(fixture, Object.fromEntries(CIFAR10.trainFiles.map((f) => [f, null])));
      const path = await writeCifarDirectory(fresh('test-only'), onlyTest);
      await dataError(
        loadCifar10(path),
        /is missing data_batch_1\.bin, data_batch_2\.bin, data_batch_3\.bin, data_batch_4\.bin, data_batch_5\.bin; found: batches\.meta\.txt, test_batch\.bin$/,
      );
    });
  });

  describe('errors', () => {
    it('names the missing batch files and lists the ones found', async () => {
      const files = withFiles(fixture, { 'data_batch_2.bin': null, 'data_batch_4.bin': null });
      const archive = await writeTarGz(fresh('missing.tar.gz'), files);
      await dataError(
        loadCifar10(archive),
        literal(`CIFAR-10 data at ${archive} is missing data_batch_2.bin, data_batch_4.bin; found: `),
        /found: cifar-10-batches-bin\/batches\.meta\.txt, cifar-10-batches-bin\/data_batch_1\.bin, cifar-10-batches-bin\/data_batch_3\.bin, cifar-10-batches-bin\/data_batch_5\.bin, cifar-10-batches-bin\/test_batch\.bin$/,
      );
      const dir = await writeCifarDirectory(fresh('missing'), files);
      await dataError(
        loadCifar10(dir),
        /is missing data_batch_2\.bin, data_batch_4\.bin; found: batches\.meta\.txt, data_batch_1\.bin, data_batch_3\.bin, data_batch_5\.bin, test_batch\.bin$/,
      );
    });

    it('shortens a long list of found files', async () => {
      const files = withFiles(fixture, { 'batches.meta.txt': null });
      for (let i = 0; i < 6; i++) files.set(`extra${i}.txt`, Buffer.from('x'));
      const archive = await writeTarGz(fresh('many.tar.gz'), files);
      await dataError(loadCifar10(archive), /is missing batches\.meta\.txt; found: .*, … \(12 files\)$/);
    });

    it('names batches.meta.txt when it is missing', async () => {
      const files = withFiles(fixture, { 'batches.meta.txt': null });
      const archive = await writeTarGz(fresh('no-meta.tar.gz'), files);
      await dataError(loadCifar10(archive), literal(`CIFAR-10 data at ${archive} is missing batches.meta.txt; found: `));
      const dir = await writeCifarDirectory(fresh('no-meta'), files);
      await dataError(loadCifar10(dir), /is missing batches\.meta\.txt; found: data_batch_1\.bin/);
    });

    it('rejects a batches.meta.txt without ten names', async () => {
      const files = withFiles(fixture, { 'batches.meta.txt': Buffer.from('cat\ndog\n') });
      const archive = await writeTarGz(fresh('bad-meta.tar.gz'), files);
      await dataError(loadCifar10(archive), /^batches\.meta\.txt lists 2 class names; CIFAR-10 needs 10$/);
    });

    it('reports an archive with no CIFAR-10 members and what it holds', async () => {
      const archive = await writeTarGz(
        fresh('other.tar.gz'),
        new Map([
          ['readme.txt', Buffer.from('hi')],
          ['pictures/cat.png', Buffer.from('png')],
        ]),
        { prefix: 'something/' },
      );
      await dataError(
        loadCifar10(archive),
        literal(`archive ${archive} has none of the CIFAR-10 binary files`),
        /found: something\/readme\.txt, something\/pictures\/cat\.png$/,
      );
    });

    it('does not take batch files from a folder other than cifar-10-batches-bin', async () => {
      const archive = await writeTarGz(fresh('wrong-folder.tar.gz'), fixture.files, { prefix: 'cifar10/' });
      await dataError(loadCifar10(archive), /has none of the CIFAR-10 binary files.*found: cifar10\/batches\.meta\.txt/);
    });

    it('reports an empty archive', async () => {
      const archive = await writeTarGz(fresh('empty.tar.gz'), new Map(), { prefix: '' });
      await dataError(loadCifar10(archive), /has none of the CIFAR-10 binary files .*; it contains no files$/);
    });

    it('reports a folder that holds no CIFAR-10 files', async () => {
      const dir = fresh('empty-dir');
      await mkdir(dir);
      await writeFile(join(dir, 'notes.txt'), 'x');
      await dataError(
        loadCifar10(dir),
        literal(`${dir} does not look like CIFAR-10 data: no batches.meta.txt or *.bin batch files in it or in ${join(dir, 'cifar-10-batches-bin')}`),
      );
    });

    it('says a .tar.gz cut off half-way is truncated', async () => {
      const bytes = await readFile(sources.targz!);
      const path = fresh('cut.tar.gz');
      await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
      await dataError(loadCifar10(path), literal(`cannot read archive ${path}: `), /truncated/);
      // A cut in the last bytes (the gzip trailer) too.
      await writeFile(path, bytes.subarray(0, bytes.length - 3));
      await dataError(loadCifar10(path), /truncated/);
    });

    it('says a plain .tar cut off half-way is truncated', async () => {
      const bytes = await readFile(sources.tar!);
      const path = fresh('cut.tar');
      await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
      await dataError(loadCifar10(path), literal(`cannot read archive ${path}: the tar data ends early: the file is truncated`));
    });

    it('says corrupted gzip data is corrupt', async () => {
      const bytes = Buffer.from(await readFile(sources.targz!));
      // Flip bits in the deflate stream (after the 10-byte gzip header).
      for (let i = 20; i < 400; i += 7) bytes[i] = bytes[i]! ^ 0xa5;
      const path = fresh('corrupt.tar.gz');
      await writeFile(path, bytes);
      await dataError(loadCifar10(path), literal(`cannot read archive ${path}: `), /corrupt gzip data/);
      // Intact deflate data with a wrong CRC-32 in the trailer.
      const badCrc = Buffer.from(await readFile(sources.targz!));
      const crcAt = badCrc.length - 8;
      badCrc[crcAt] = badCrc[crcAt]! ^ 0xff;
      await writeFile(path, badCrc);
      await dataError(loadCifar10(path), /corrupt gzip data \(incorrect data check/);
    });

    it('says random bytes are not an archive', async () => {
      const noise = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919 + 13) % 251));
      const path = fresh('noise.bin');
      await writeFile(path, noise);
      await dataError(loadCifar10(path), literal(`cannot read archive ${path}: not a tar or tar.gz archive`));
    });

    it('says gzip data that does not hold a tar archive is not one', async () => {
      const noise = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919 + 13) % 251));
      const path = fresh('noise.gz');
      await writeFile(path, gzipSync(noise));
      await dataError(loadCifar10(path), literal(`cannot read archive ${path}: the gzip data is not a valid tar archive`));
    });

    it('names the batch and record of a truncated batch inside an archive', async () => {
      const cut = fixture.files.get('data_batch_3.bin')!.subarray(0, CIFAR10.recordBytes + 1000);
      const archive = await writeTarGz(fresh('short-batch.tar.gz'), withFiles(fixture, { 'data_batch_3.bin': cut }));
      await dataError(
        loadCifar10(archive),
        /^data_batch_3\.bin is truncated: record 2 has 1000 of 3073 bytes/,
      );
    });

    it('names the batch and record of a label above 9 inside an archive', async () => {
      const bad = Buffer.from(fixture.files.get('data_batch_5.bin')!);
      bad[CIFAR10.recordBytes] = 10; // record 2's label
      const archive = await writeTarGz(fresh('bad-label.tar.gz'), withFiles(fixture, { 'data_batch_5.bin': bad }));
      await dataError(loadCifar10(archive), /^data_batch_5\.bin record 2: label byte is 10, but CIFAR-10 labels are 0–9$/);
    });

    it('reports an empty batch file', async () => {
      const dir = await writeCifarDirectory(fresh('empty-batch'), withFiles(fixture, { 'data_batch_1.bin': Buffer.alloc(0) }));
      await dataError(loadCifar10(dir), /^data_batch_1\.bin is empty$/);
    });

    it('reports a batch file that cannot be read', async () => {
      const dir = await writeCifarDirectory(fresh('unreadable'), withFiles(fixture, { 'data_batch_2.bin': null }));
      await mkdir(join(dir, 'data_batch_2.bin'));
      await dataError(loadCifar10(dir), literal(`cannot read ${join(dir, 'data_batch_2.bin')}: `), /EISDIR/);
    });

    it('reports a path that does not exist', async () => {
      const path = join(root, 'no-such-file.tar.gz');
      await dataError(loadCifar10(path), literal(`cannot read CIFAR-10 data at ${path}: `), /ENOENT/);
    });
  });
});
