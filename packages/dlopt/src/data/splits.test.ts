import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { syntheticImages } from '../test-support/fixtures.js';
import type { Dataset } from './dataset.js';
import { makeSplits } from './splits.js';

function dataset(count: number, orderedByClass: boolean, withTest = false): Dataset {
  const train = syntheticImages(count, 3);
  return {
    format: orderedByClass ? 'image-folder' : 'cifar10',
    source: 'memory',
    classNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'],
    train,
    ...(withTest && { test: syntheticImages(7, 4), testInfo: { description: 'test_batch.bin (7 images)' } }),
    orderedByClass,
  };
}

describe('makeSplits', () => {
  it('holds out the last valSize images of an already-shuffled source', () => {
    const d = dataset(50, false);
    const s = makeSplits(d, { valSize: 10 });
    assert.equal(s.train.count, 40);
    assert.equal(s.val?.count, 10);
    assert.deepEqual([...s.val!.labels], [...d.train!.labels.subarray(40)]);
    assert.deepEqual(s.val!.images, d.train!.images.subarray(40 * 32 * 32 * 3));
    assert.equal(s.test, undefined);
    assert.match(s.describe.val!, /last 10 training images/);
  });

  it('limits training images without touching the validation split', () => {
    const d = dataset(50, false, true);
    const s = makeSplits(d, { valSize: 10, limit: 5 });
    assert.equal(s.train.count, 5);
    assert.deepEqual([...s.train.labels], [...d.train!.labels.subarray(0, 5)]);
    assert.equal(s.val?.count, 10);
    assert.deepEqual([...s.val!.labels], [...d.train!.labels.subarray(40)]);
    assert.equal(s.test?.count, 7);
    assert.equal(s.describe.test, 'test_batch.bin (7 images)');
  });

  it('a limit above the available images uses them all', () => {
    const s = makeSplits(dataset(50, false), { valSize: 10, limit: 1000 });
    assert.equal(s.train.count, 40);
  });

  it('draws validation images of class-ordered sources at random, the same way every time', () => {
    const d = dataset(100, true);
    const a = makeSplits(d, { valSize: 20 });
    const b = makeSplits(d, { valSize: 20 });
    assert.deepEqual(a.val!.labels, b.val!.labels);
    // Not just the last two classes (the source's tail).
    assert.ok(new Set(a.val!.labels).size > 2);
    assert.equal(a.train.count + a.val!.count, 100);
  });

  it('valSize 0 gives no validation split', () => {
    const s = makeSplits(dataset(20, false), { valSize: 0 });
    assert.equal(s.val, undefined);
    assert.equal(s.train.count, 20);
  });

  it('refuses a validation split that leaves nothing to train on', () => {
    assert.throws(() => makeSplits(dataset(20, false), { valSize: 20 }), /--val-size 20 leaves no training images/);
  });
});
