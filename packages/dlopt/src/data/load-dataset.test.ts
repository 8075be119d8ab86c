import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { DataError } from '../errors.js';
import { CLASS_NAMES, cifarFixture, tempDir, writeCifarDirectory, writeTarGz } from '../test-support/fixtures.js';
import { loadDataset } from './load-dataset.js';

async function png(path: string, colour: { r: number; g: number; b: number }, side = 8): Promise<void> {
  await sharp({ create: { width: side, height: side, channels: 3, background: colour } }).png().toFile(path);
}

describe('loadDataset', () => {
  const fixture = cifarFixture(1, 2, 3);
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let archive = '';
  let parent = '';
  let batches = '';
  let images = '';

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    archive = await writeTarGz(join(dir, 'cifar-10-binary.tar.gz'), fixture.files);
    parent = join(dir, 'cifar');
    batches = await writeCifarDirectory(parent, fixture.files);
    images = join(dir, 'images');
    for (const [name, colour] of [
      ['zebra', { r: 200, g: 0, b: 0 }],
      ['aardvark', { r: 0, g: 200, b: 0 }],
    ] as const) {
      await mkdir(join(images, name), { recursive: true });
      await png(join(images, name, '1.png'), colour);
      await png(join(images, name, '2.png'), colour);
    }
  });
  after(() => cleanup());

  it('reads a file as a CIFAR-10 archive', async () => {
    const d = await loadDataset(archive);
    assert.equal(d.format, 'cifar10');
    assert.equal(d.source, archive);
    assert.deepEqual(d.classNames, CLASS_NAMES);
    assert.equal(d.train?.count, 5);
    assert.equal(d.test?.count, 2);
  });

  it('reads a folder holding cifar-10-batches-bin as CIFAR-10', async () => {
    const d = await loadDataset(parent);
    assert.equal(d.format, 'cifar10');
    assert.equal(d.train?.count, 5);
    assert.equal(d.test?.count, 2);
  });

  it('reads the cifar-10-batches-bin folder itself as CIFAR-10', async () => {
    const d = await loadDataset(batches);
    assert.equal(d.format, 'cifar10');
    assert.equal(d.source, batches);
    assert.equal(d.train?.count, 5);
  });

  it('reads a folder of batch files under another name as CIFAR-10', async () => {
    const renamed = join(dir, 'my-cifar');
    await mkdir(renamed);
    for (const [name, bytes] of fixture.files) await writeFile(join(renamed, name), bytes);
    const d = await loadDataset(renamed);
    assert.equal(d.format, 'cifar10');
    assert.equal(d.train?.count, 5);
  });

  it('reads any other folder as an image folder', async () => {
    const d = await loadDataset(images);
    assert.equal(d.format, 'image-folder');
    assert.equal(d.source, images);
    assert.deepEqual(d.classNames, ['aardvark', 'zebra']);
    assert.equal(d.train?.count, 4);
    assert.deepEqual([...d.train.labels], [0, 0, 1, 1]);
    assert.equal(d.train.height, 32);
    assert.equal(d.orderedByClass, true);
  });

  it('passes imageSize to the image-folder reader', async () => {
    const d = await loadDataset(images, { imageSize: 4 });
    assert.equal(d.train?.height, 4);
    assert.equal(d.train.width, 4);
    assert.equal(d.train.images.length, 4 * 4 * 4 * 3);
    assert.deepEqual([...d.train.images.subarray(0, 3)], [0, 200, 0]);
  });

  it('passes the CIFAR split modes to the CIFAR reader', async () => {
    const d = await loadDataset(archive, { cifar: { test: 'skip' } });
    assert.equal(d.test, undefined);
    assert.equal(d.train?.count, 5);
    const t = await loadDataset(parent, { cifar: { train: 'skip' } });
    assert.equal(t.train, undefined);
    assert.equal(t.test?.count, 2);
  });

  it('reports a path that does not exist', async () => {
    const missing = join(dir, 'nothing-here');
    await assert.rejects(loadDataset(missing), (error: unknown) => {
      assert.ok(error instanceof DataError);
      assert.match(error.message, /^cannot read dataset .*nothing-here: .*ENOENT/);
      return true;
    });
  });

  it('reports a file that is not an archive as an archive error', async () => {
    const path = join(dir, 'notes.txt');
    await writeFile(path, 'just some text, not a tar archive');
    await assert.rejects(loadDataset(path), (error: unknown) => {
      assert.ok(error instanceof DataError);
      assert.match(error.message, /^cannot read archive .*notes\.txt: /);
      return true;
    });
  });

  it('reports an empty folder as an image folder without classes', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await assert.rejects(loadDataset(empty), (error: unknown) => {
      assert.ok(error instanceof DataError);
      assert.match(error.message, /empty has no class folders/);
      return true;
    });
  });
});
