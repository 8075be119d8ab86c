import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../util/random.js';
import { ColorJitter, adjustImage } from './color.js';
import type { ImageBatch } from './image-batch.js';

const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

/** Colourful RGB pixels (no two equal, none grey). */
function colourful(pixels: number, seed = 0): Uint8Array {
  const img = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    img[3 * p] = (40 + p * 29 + seed * 7) % 256;
    img[3 * p + 1] = (90 + p * 53 + seed * 13) % 256;
    img[3 * p + 2] = (10 + p * 71 + seed * 5) % 256;
  }
  return img;
}

function batchOf(count: number, h: number, w: number, c = 3): ImageBatch {
  const size = h * w * c;
  const images = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) images.set(c === 3 ? colourful(h * w, i) : new Uint8Array(size).fill(100), i * size);
  return { images, labels: new Float32Array(count), count, height: h, width: w, channels: c, classes: 1 };
}

describe('adjustImage', () => {
  it('factors of 1 and hue 0 are the identity', () => {
    const img = colourful(20);
    const out = img.slice();
    adjustImage(out, 1, 1, 1, 0);
    assert.deepEqual(out, img);
  });

  it('brightness multiplies every channel (rounded) and clamps at 255', () => {
    const img = Uint8Array.from([10, 100, 200, 0, 127, 128, 255, 1, 3]);
    const twice = img.slice();
    adjustImage(twice, 2, 1, 1, 0);
    assert.deepEqual([...twice], [20, 200, 255, 0, 254, 255, 255, 2, 6]);
    const half = img.slice();
    adjustImage(half, 0.5, 1, 1, 0);
    assert.deepEqual([...half], [5, 50, 100, 0, 64, 64, 128, 1, 2]);
    const zero = img.slice();
    adjustImage(zero, 0, 1, 1, 0);
    assert.ok(zero.every((v) => v === 0));
  });

  it('contrast 0 gives a flat image at the mean grey', () => {
    const img = colourful(12);
    let mean = 0;
    for (let p = 0; p < 12; p++) mean += luma(img[3 * p]!, img[3 * p + 1]!, img[3 * p + 2]!);
    mean /= 12;
    adjustImage(img, 1, 0, 1, 0);
    assert.ok(img.every((v) => v === Math.round(mean)), `${[...img]} vs ${mean}`);
  });

  it('contrast blends with the mean grey of the brightened image', () => {
    const img = Uint8Array.from([20, 20, 20, 60, 60, 60]);
    adjustImage(img, 2, 0, 1, 0);
    assert.deepEqual([...img], [80, 80, 80, 80, 80, 80]);
  });

  it('contrast 2 doubles the distance from the mean grey (clamped)', () => {
    const img = Uint8Array.from([100, 100, 100, 140, 140, 140]);
    adjustImage(img, 1, 2, 1, 0);
    assert.deepEqual([...img], [80, 80, 80, 160, 160, 160]);
  });

  it('saturation 0 gives grey pixels (r = g = b = luma), saturation 2 pushes away from grey', () => {
    const img = colourful(15);
    const grey = img.slice();
    adjustImage(grey, 1, 1, 0, 0);
    for (let p = 0; p < 15; p++) {
      const l = luma(img[3 * p]!, img[3 * p + 1]!, img[3 * p + 2]!);
      assert.deepEqual([grey[3 * p], grey[3 * p + 1], grey[3 * p + 2]], [Math.round(l), Math.round(l), Math.round(l)]);
    }
    const px = Uint8Array.from([120, 100, 80]);
    adjustImage(px, 1, 1, 2, 0);
    const l = luma(120, 100, 80);
    assert.deepEqual([...px], [Math.round(2 * 120 - l), Math.round(2 * 100 - l), Math.round(2 * 80 - l)]);
  });

  it('a hue rotation by 2π is the identity up to rounding; by π it changes colours but keeps greys', () => {
    const img = colourful(30);
    const full = img.slice();
    adjustImage(full, 1, 1, 1, 2 * Math.PI);
    for (let i = 0; i < img.length; i++) assert.ok(Math.abs(full[i]! - img[i]!) <= 1, `byte ${i}: ${full[i]} vs ${img[i]}`);
    const half = img.slice();
    adjustImage(half, 1, 1, 1, Math.PI);
    let moved = 0;
    for (let i = 0; i < img.length; i++) if (Math.abs(half[i]! - img[i]!) > 10) moved++;
    assert.ok(moved > img.length / 2, `only ${moved} bytes moved`);
    const greys = Uint8Array.from([0, 0, 0, 77, 77, 77, 200, 200, 200, 255, 255, 255]);
    const g = greys.slice();
    adjustImage(g, 1, 1, 1, 1.3);
    assert.deepEqual(g, greys);
  });

  it('a hue rotation keeps the luma (YIQ rotation) to within rounding', () => {
    const img = colourful(30).map((v) => 60 + (v % 120)); // away from the clamps
    const out = img.slice();
    adjustImage(out, 1, 1, 1, 0.8);
    for (let p = 0; p < 30; p++) {
      const before = luma(img[3 * p]!, img[3 * p + 1]!, img[3 * p + 2]!);
      const after = luma(out[3 * p]!, out[3 * p + 1]!, out[3 * p + 2]!);
      assert.ok(Math.abs(before - after) < 1.5, `pixel ${p}: luma ${before} → ${after}`);
    }
  });
});

describe('ColorJitter', () => {
  it('all zero is the identity', () => {
    const b = batchOf(6, 4, 5);
    const before = b.images.slice();
    new ColorJitter(0, 0, 0, 0).apply(b, new Random(1));
    assert.deepEqual(b.images, before);
  });

  it('brightness jitter scales each image by its own factor within 1 ± brightness', () => {
    const b = batchOf(30, 4, 5);
    const before = b.images.slice();
    new ColorJitter(0.4).apply(b, new Random(2));
    const size = 60;
    const factors: number[] = [];
    for (let i = 0; i < b.count; i++) {
      // The factor, from the brightest source byte that did not clamp.
      let best = -1;
      for (let j = 0; j < size; j++) {
        const v = before[i * size + j]!;
        if (b.images[i * size + j]! < 255 && (best < 0 || v > before[i * size + best]!)) best = j;
      }
      const f = b.images[i * size + best]! / before[i * size + best]!;
      assert.ok(f >= 0.6 - 0.02 && f <= 1.4 + 0.02, `image ${i}: factor ${f}`);
      for (let j = 0; j < size; j++) {
        const v = before[i * size + j]!;
        assert.ok(Math.abs(b.images[i * size + j]! - Math.min(255, v * f)) <= 2, `image ${i} byte ${j}: ${v} → ${b.images[i * size + j]} (factor ${f})`);
      }
      factors.push(f);
    }
    assert.ok(factors.some((f) => f < 0.9) && factors.some((f) => f > 1.1), `factors ${factors}`);
  });

  it('changes images with each of brightness, contrast, saturation and hue', () => {
    for (const args of [
      [0.5, 0, 0, 0],
      [0, 0.5, 0, 0],
      [0, 0, 0.5, 0],
      [0, 0, 0, 0.2],
    ] as const) {
      const b = batchOf(8, 4, 5);
      const before = b.images.slice();
      new ColorJitter(...args).apply(b, new Random(4));
      let changed = 0;
      for (let i = 0; i < 8; i++) if (b.images.subarray(i * 60, (i + 1) * 60).some((v, j) => v !== before[i * 60 + j])) changed++;
      assert.ok(changed >= 7, `${args}: ${changed} of 8 images changed`);
    }
  });

  it('never uses a negative factor: contrast and saturation above 1 do not invert images', () => {
    // A dark and a bright grey pixel, then a red one: with factors >= 0 their order is kept.
    const count = 200;
    const images = new Uint8Array(count * 9);
    for (let i = 0; i < count; i++) images.set([60, 60, 60, 180, 180, 180, 200, 60, 60], i * 9);
    const b: ImageBatch = { images, labels: new Float32Array(count), count, height: 1, width: 3, channels: 3, classes: 1 };
    new ColorJitter(1.5, 1.5, 1.5, 0).apply(b, new Random(5));
    for (let i = 0; i < count; i++) {
      const px = [...images.subarray(i * 9, i * 9 + 9)];
      assert.ok(px[0]! <= px[3]!, `image ${i}: dark ${px[0]} above bright ${px[3]}`);
      assert.ok(px[6]! >= px[7]!, `image ${i}: red pixel ${px.slice(6)} turned away from red`);
    }
  });

  it('needs RGB images', () => {
    const b = batchOf(2, 3, 3, 1);
    assert.throws(() => new ColorJitter(0.2).apply(b, new Random(1)), (e: unknown) => e instanceof RangeError && /needs RGB images, got 1 channels/.test(e.message));
  });

  it('rejects negative factors and a hue outside [0, 0.5]', () => {
    for (const args of [
      [-0.1, 0, 0, 0],
      [0, -1, 0, 0],
      [0, 0, Number.NaN, 0],
    ] as const) {
      assert.throws(() => new ColorJitter(...args), (e: unknown) => e instanceof RangeError && /color: \w+ must be >= 0/.test(e.message));
    }
    for (const hue of [-0.1, 0.6]) {
      assert.throws(() => new ColorJitter(0, 0, 0, hue), (e: unknown) => e instanceof RangeError && /color: hue must be in \[0, 0.5\]/.test(e.message));
    }
    assert.equal(new ColorJitter().name, 'color');
  });
});
