import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { syntheticImages } from '../test-support/fixtures.js';
import { batchRanges, makeBatch, PIXEL_SCALE } from './batches.js';
import type { ImageSet } from './image-set.js';

/** Three 2×2 RGB images; every byte is distinct and image i's bytes start at 12·i. */
function tinySet(): ImageSet {
  const images = new Uint8Array(3 * 12);
  for (let i = 0; i < images.length; i++) images[i] = i * 7;
  images[35] = 255;
  return { images, labels: Uint8Array.of(2, 0, 4), count: 3, height: 2, width: 2, channels: 3 };
}

describe('makeBatch', () => {
  let before = 0;
  beforeEach(async () => {
    await tf.setBackend('cpu');
    // Skip the cpu backend's one-time "install tfjs-node" notice.
    const backend = tf.backend() as unknown as { firstUse?: boolean };
    if ('firstUse' in backend) backend.firstUse = false;
    before = tf.memory().numTensors;
  });
  afterEach(() => {
    assert.equal(tf.memory().numTensors, before, 'every tensor was disposed');
  });

  it('scales bytes to [0, 1] in NHWC order, with one-hot labels', () => {
    const set = tinySet();
    const { x, y } = makeBatch(set, [2, 0], 5);
    try {
      assert.deepEqual(x.shape, [2, 2, 2, 3]);
      assert.deepEqual(y.shape, [2, 5]);
      assert.equal(x.dtype, 'float32');
      assert.equal(y.dtype, 'float32');
      const pixels = x.dataSync();
      // Row 0 of the batch is image 2, in its NHWC byte order.
      for (let k = 0; k < 12; k++) assert.equal(pixels[k], Math.fround(set.images[24 + k]! / 255));
      for (let k = 0; k < 12; k++) assert.equal(pixels[12 + k], Math.fround(set.images[k]! / 255));
      // Image 2's last byte is 255 → exactly 1; image 0's first byte is 0 → 0.
      assert.equal(pixels[11], 1);
      assert.equal(pixels[12], 0);
      // (image 2, row 1, col 0, channel G) is byte 24 + (1·2 + 0)·3 + 1 = 31.
      assert.equal((x.arraySync() as number[][][][])[0]![1]![0]![1], Math.fround((31 * 7) / 255));
      // Image 2's label is 4, image 0's is 2.
      assert.deepEqual(y.arraySync(), [
        [0, 0, 0, 0, 1],
        [0, 0, 1, 0, 0],
      ]);
    } finally {
      x.dispose();
      y.dispose();
    }
  });

  it('keeps every value within [0, 1] and maps 255 to 1', () => {
    const set = syntheticImages(4, 11, 4);
    const all = new Uint8Array(set.images);
    all[0] = 255;
    all[1] = 0;
    const { x, y } = makeBatch({ ...set, images: all }, [0, 1, 2, 3], 10);
    try {
      const pixels = x.dataSync();
      assert.equal(pixels[0], 1);
      assert.equal(pixels[1], 0);
      assert.ok(pixels.every((v) => v >= 0 && v <= 1));
      for (let k = 0; k < pixels.length; k++) assert.equal(pixels[k], Math.fround(all[k]! * PIXEL_SCALE));
      const classes = tf.argMax(y, 1);
      const rowSums = tf.sum(y, 1);
      assert.deepEqual([...classes.dataSync()], [...set.labels]);
      assert.deepEqual([...rowSums.dataSync()], [1, 1, 1, 1]);
      tf.dispose([classes, rowSums]);
    } finally {
      tf.dispose([x, y]);
    }
  });

  it('repeats an index when asked and accepts a typed-array index list', () => {
    const set = tinySet();
    const { x, y } = makeBatch(set, Int32Array.of(1, 1), 5);
    try {
      assert.deepEqual(x.shape, [2, 2, 2, 3]);
      const pixels = x.dataSync();
      assert.deepEqual([...pixels.subarray(0, 12)], [...pixels.subarray(12, 24)]);
      assert.equal(pixels[0], Math.fround((12 * 7) / 255));
      assert.deepEqual(y.arraySync(), [
        [1, 0, 0, 0, 0],
        [1, 0, 0, 0, 0],
      ]);
    } finally {
      tf.dispose([x, y]);
    }
  });

  it('gives empty tensors for no indices', () => {
    const { x, y } = makeBatch(tinySet(), [], 5);
    try {
      assert.deepEqual(x.shape, [0, 2, 2, 3]);
      assert.deepEqual(y.shape, [0, 5]);
    } finally {
      tf.dispose([x, y]);
    }
  });

  it('uses the scale saved with models', () => {
    assert.equal(PIXEL_SCALE, 1 / 255);
  });
});

describe('batchRanges', () => {
  it('covers the count with a smaller last batch', () => {
    assert.deepEqual(
      [...batchRanges(10, 4)],
      [
        [0, 4],
        [4, 8],
        [8, 10],
      ],
    );
  });

  it('gives equal batches when the size divides the count', () => {
    assert.deepEqual(
      [...batchRanges(6, 3)],
      [
        [0, 3],
        [3, 6],
      ],
    );
  });

  it('gives one batch when the size is at least the count', () => {
    assert.deepEqual([...batchRanges(5, 5)], [[0, 5]]);
    assert.deepEqual([...batchRanges(3, 100)], [[0, 3]]);
  });

  it('gives nothing for a count of 0', () => {
    assert.deepEqual([...batchRanges(0, 8)], []);
  });

  it('covers every index exactly once, in order', () => {
    for (const [count, size] of [
      [1, 1],
      [17, 5],
      [50_000, 128],
    ] as const) {
      const ranges = [...batchRanges(count, size)];
      assert.equal(ranges.length, Math.ceil(count / size));
      let next = 0;
      for (const [start, end] of ranges) {
        assert.equal(start, next);
        assert.ok(end > start && end - start <= size);
        next = end;
      }
      assert.equal(next, count);
    }
  });
});
