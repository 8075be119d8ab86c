import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../util/random.js';
import { HorizontalFlip } from './flip.js';
import type { ImageBatch } from './image-batch.js';

/** `count` images whose pixels are all distinct within an image (and differ between images). */
function batchOf(count: number, h: number, w: number, c: number): ImageBatch {
  const size = h * w * c;
  const images = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) for (let p = 0; p < size; p++) images[i * size + p] = (i * 61 + p) % 256;
  const labels = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) labels[i * 2 + (i % 2)] = 1;
  return { images, labels, count, height: h, width: w, channels: c, classes: 2 };
}

/** Reference mirror of one HWC image, written independently of the implementation. */
function mirrored(img: Uint8Array, h: number, w: number, c: number): Uint8Array {
  const out = new Uint8Array(img.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = img[(y * w + (w - 1 - x)) * c + k]!;
  return out;
}

function image(b: ImageBatch, i: number): Uint8Array {
  const size = b.height * b.width * b.channels;
  return b.images.subarray(i * size, (i + 1) * size);
}

describe('HorizontalFlip', () => {
  for (const [h, w, c] of [
    [4, 5, 3],
    [4, 4, 3],
    [3, 2, 1],
    [2, 1, 3],
  ] as const) {
    it(`p=1 mirrors every row of every ${h}x${w}x${c} image exactly`, () => {
      const b = batchOf(4, h, w, c);
      const before = b.images.slice();
      const labels = b.labels.slice();
      new HorizontalFlip(1).apply(b, new Random(1));
      const size = h * w * c;
      for (let i = 0; i < b.count; i++) {
        assert.deepEqual(image(b, i), mirrored(before.subarray(i * size, (i + 1) * size), h, w, c), `image ${i}`);
      }
      assert.deepEqual(b.labels, labels, 'labels are untouched');
    });
  }

  it('p=1 really changes an image wider than one pixel, and flipping twice restores it', () => {
    const b = batchOf(3, 4, 5, 3);
    const before = b.images.slice();
    const flip = new HorizontalFlip(1);
    flip.apply(b, new Random(2));
    for (let i = 0; i < b.count; i++) assert.notDeepEqual(image(b, i), before.subarray(i * 60, (i + 1) * 60));
    flip.apply(b, new Random(3));
    assert.deepEqual(b.images, before);
  });

  it('p=0 changes nothing', () => {
    const b = batchOf(50, 4, 5, 3);
    const before = b.images.slice();
    new HorizontalFlip(0).apply(b, new Random(1));
    assert.deepEqual(b.images, before);
  });

  /** Which images of a batch of 2000 two-pixel images were flipped. */
  function flipped(seed: number, p: number): boolean[] {
    const count = 2000;
    const images = new Uint8Array(count * 2);
    for (let i = 0; i < count; i++) images[2 * i + 1] = 1;
    const b: ImageBatch = { images, labels: new Float32Array(count), count, height: 1, width: 2, channels: 1, classes: 1 };
    new HorizontalFlip(p).apply(b, new Random(seed));
    return Array.from({ length: count }, (_, i) => {
      const pair = [images[2 * i], images[2 * i + 1]];
      assert.ok((pair[0] === 0 && pair[1] === 1) || (pair[0] === 1 && pair[1] === 0), 'each image is itself or its mirror');
      return pair[0] === 1;
    });
  }

  it('p=0.5 flips about half of the images, p=0.2 about a fifth', () => {
    const half = flipped(7, 0.5).filter(Boolean).length / 2000;
    assert.ok(half > 0.45 && half < 0.55, `flipped fraction ${half}`);
    const fifth = flipped(7, 0.2).filter(Boolean).length / 2000;
    assert.ok(fifth > 0.16 && fifth < 0.24, `flipped fraction ${fifth}`);
  });

  it('the same seed flips the same images; another seed flips others', () => {
    assert.deepEqual(flipped(11, 0.5), flipped(11, 0.5));
    assert.notDeepEqual(flipped(11, 0.5), flipped(12, 0.5));
  });

  it('rejects p outside [0, 1]', () => {
    for (const p of [-0.1, 1.01, Number.NaN]) {
      assert.throws(() => new HorizontalFlip(p), (e: unknown) => e instanceof RangeError && /flip: p must be in \[0, 1\]/.test(e.message));
    }
    assert.equal(new HorizontalFlip().p, 0.5);
    assert.equal(new HorizontalFlip().name, 'flip');
  });
});
