import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../util/random.js';
import { Cutout, RandomErasing } from './cutout.js';
import type { ImageBatch } from './image-batch.js';

/** Images with no zero byte (values 1..255), distinct per position. */
function batchOf(count: number, h: number, w: number, c: number): ImageBatch {
  const size = h * w * c;
  const images = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) for (let p = 0; p < size; p++) images[i * size + p] = 1 + ((i * 37 + p * 7) % 255);
  return { images, labels: new Float32Array(count), count, height: h, width: w, channels: c, classes: 1 };
}

interface Rect {
  y0: number;
  y1: number;
  x0: number;
  x1: number;
}

/** Pixels (any channel) where `after` differs from `before` for image i, as a bounding box, or null. */
function changedBox(b: ImageBatch, before: Uint8Array, i: number): { box: Rect; pixels: number } | null {
  const { height: h, width: w, channels: c } = b;
  let pixels = 0;
  const box = { y0: h, y1: 0, x0: w, x1: 0 };
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const at = ((i * h + y) * w + x) * c;
      let differs = false;
      for (let k = 0; k < c; k++) if (b.images[at + k] !== before[at + k]) differs = true;
      if (!differs) continue;
      pixels++;
      box.y0 = Math.min(box.y0, y);
      box.y1 = Math.max(box.y1, y + 1);
      box.x0 = Math.min(box.x0, x);
      box.x1 = Math.max(box.x1, x + 1);
    }
  return pixels ? { box, pixels } : null;
}

/** Checks that image i is its source with exactly `rect` set to `fill` (every channel). */
function isSourceWithRect(b: ImageBatch, before: Uint8Array, i: number, rect: Rect, fill: number): boolean {
  const { height: h, width: w, channels: c } = b;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) {
        const at = ((i * h + y) * w + x) * c + k;
        const inside = y >= rect.y0 && y < rect.y1 && x >= rect.x0 && x < rect.x1;
        if (b.images[at] !== (inside ? fill : before[at])) return false;
      }
  return true;
}

describe('Cutout', () => {
  for (const [size, h, w, c] of [
    [3, 8, 8, 3],
    [4, 8, 8, 3],
    [2, 5, 4, 1],
    [8, 6, 10, 3],
  ] as const) {
    it(`zeroes exactly one ${size}x${size} square (clipped at the edges) of each ${h}x${w}x${c} image`, () => {
      const b = batchOf(80, h, w, c);
      const before = b.images.slice();
      new Cutout(size).apply(b, new Random(size * 10 + h));
      const tops = new Set<number>();
      let whole = 0;
      for (let i = 0; i < b.count; i++) {
        // Centres are uniform over the image; the square starts size/2 above and left of its centre.
        let found: Rect | undefined;
        for (let top = -(size >> 1); top < h - (size >> 1) && !found; top++)
          for (let left = -(size >> 1); left < w - (size >> 1) && !found; left++) {
            const rect = { y0: Math.max(0, top), y1: Math.min(h, top + size), x0: Math.max(0, left), x1: Math.min(w, left + size) };
            if (isSourceWithRect(b, before, i, rect, 0)) {
              found = rect;
              tops.add(top);
            }
          }
        assert.ok(found, `image ${i} is not its source with one clipped ${size}x${size} square zeroed`);
        if (found.y1 - found.y0 === size && found.x1 - found.x0 === size) whole++;
      }
      assert.ok(tops.size > 2, 'the square moves');
      if (size < Math.min(h, w)) assert.ok(whole > 0, 'some squares lie wholly inside the image');
    });
  }

  it('a square larger than the image zeroes all of it', () => {
    const b = batchOf(10, 6, 6, 3);
    new Cutout(20).apply(b, new Random(1));
    assert.ok(b.images.every((v) => v === 0));
  });

  it('uses the fill value', () => {
    const b = batchOf(10, 8, 8, 3);
    const before = b.images.slice();
    new Cutout(4, 1, 7).apply(b, new Random(1));
    for (let i = 0; i < 10; i++) {
      const changed = changedBox(b, before, i);
      assert.ok(changed, `image ${i} unchanged`);
      const { y0, y1, x0, x1 } = changed.box;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) for (let k = 0; k < 3; k++) assert.equal(b.images[((i * 8 + y) * 8 + x) * 3 + k], 7);
    }
  });

  it('p=0 changes nothing; p=0.5 cuts about half of the images', () => {
    const b = batchOf(50, 8, 8, 3);
    const before = b.images.slice();
    new Cutout(4, 0).apply(b, new Random(1));
    assert.deepEqual(b.images, before);
    const many = batchOf(600, 4, 4, 1);
    const source = many.images.slice();
    new Cutout(2, 0.5).apply(many, new Random(2));
    let cut = 0;
    for (let i = 0; i < 600; i++) if (changedBox(many, source, i)) cut++;
    assert.ok(cut > 0.44 * 600 && cut < 0.56 * 600, `${cut} of 600 cut`);
  });

  it('rejects a bad size or p', () => {
    for (const size of [0, -2, 2.5]) assert.throws(() => new Cutout(size), (e: unknown) => e instanceof RangeError && /cutout: size must be a positive integer/.test(e.message));
    for (const p of [-0.5, 1.5, Number.NaN]) assert.throws(() => new Cutout(8, p), (e: unknown) => e instanceof RangeError && /cutout: p must be in \[0, 1\]/.test(e.message));
    assert.equal(new Cutout().name, 'cutout');
  });
});

describe('RandomErasing', () => {
  it('p=1 fills one rectangle per image with random bytes, its area fraction within scale and aspect within ratio', () => {
    const [h, w, c] = [16, 16, 3];
    const scale = [0.1, 0.3] as const;
    const ratio = [0.5, 2] as const;
    const b = batchOf(60, h, w, c);
    const before = b.images.slice();
    new RandomErasing(1, scale, ratio).apply(b, new Random(3));
    const areas: number[] = [];
    for (let i = 0; i < b.count; i++) {
      const changed = changedBox(b, before, i);
      assert.ok(changed, `image ${i} unchanged`);
      const { y0, y1, x0, x1 } = changed.box;
      const eh = y1 - y0;
      const ew = x1 - x0;
      // Every pixel of the box was rewritten (random bytes match all 3 source bytes with chance 2^-24).
      assert.equal(changed.pixels, eh * ew, `image ${i}: changed pixels do not form a rectangle`);
      // Sides are rounded from sqrt(area·aspect) and sqrt(area/aspect): undo at most half a pixel each.
      assert.ok((eh - 0.5) * (ew - 0.5) <= scale[1] * h * w && (eh + 0.5) * (ew + 0.5) >= scale[0] * h * w, `image ${i}: ${eh}x${ew}`);
      assert.ok((eh - 0.5) / (ew + 0.5) <= ratio[1] && (eh + 0.5) / (ew - 0.5) >= ratio[0], `image ${i}: ${eh}x${ew}`);
      areas.push((eh * ew) / (h * w));
    }
    assert.ok(Math.min(...areas) < 0.15 && Math.max(...areas) > 0.25, `areas ${areas}`);
  });

  it('p=0 changes nothing; the same seed erases the same way', () => {
    const b = batchOf(20, 8, 8, 3);
    const before = b.images.slice();
    new RandomErasing(0).apply(b, new Random(1));
    assert.deepEqual(b.images, before);
    const x = batchOf(20, 8, 8, 3);
    const y = batchOf(20, 8, 8, 3);
    new RandomErasing(1).apply(x, new Random(4));
    new RandomErasing(1).apply(y, new Random(4));
    assert.deepEqual(x.images, y.images);
    assert.notDeepEqual(x.images, before);
  });

  it('rejects bad p, scale and ratio', () => {
    for (const p of [-0.1, 1.1]) assert.throws(() => new RandomErasing(p), (e: unknown) => e instanceof RangeError && /erasing: p must be in \[0, 1\]/.test(e.message));
    for (const scale of [[0, 0.3], [0.3, 0.2], [0.5, 1.5]] as const) {
      assert.throws(() => new RandomErasing(0.5, scale), (e: unknown) => e instanceof RangeError && /erasing: scale/.test(e.message));
    }
    for (const ratio of [[0, 1], [3, 1]] as const) {
      assert.throws(() => new RandomErasing(0.5, [0.1, 0.2], ratio), (e: unknown) => e instanceof RangeError && /erasing: ratio/.test(e.message));
    }
    assert.equal(new RandomErasing().name, 'erasing');
  });
});
