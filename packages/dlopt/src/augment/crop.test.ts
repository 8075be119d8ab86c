import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../util/random.js';
import { RandomCrop } from './crop.js';
import type { ImageBatch } from './image-batch.js';

function batchOf(count: number, h: number, w: number, c: number): ImageBatch {
  const size = h * w * c;
  const images = new Uint8Array(count * size);
  // Distinct (and nonzero) values within each image, so every shift gives a different picture.
  for (let i = 0; i < count; i++) for (let p = 0; p < size; p++) images[i * size + p] = 1 + ((i * 37 + p) % 255);
  return { images, labels: new Float32Array(count), count, height: h, width: w, channels: c, classes: 1 };
}

/** Mirror without repeating the edge, by repeated folding (independent of reflectIndex). */
function fold(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
  return i;
}

/** The crop at offset (dy, dx) of the padded image: reference for one HWC image. */
function shifted(img: Uint8Array, h: number, w: number, c: number, dy: number, dx: number, mode: 'reflect' | 'zero'): Uint8Array {
  const out = new Uint8Array(img.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let sy = y + dy;
      let sx = x + dx;
      const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
      if (!inside && mode === 'zero') continue;
      sy = fold(sy, h);
      sx = fold(sx, w);
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = img[(sy * w + sx) * c + k]!;
    }
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** For each image, the offsets in [-p, p]² whose padded crop reproduces it exactly. */
function offsetsFound(before: Uint8Array, b: ImageBatch, p: number, mode: 'reflect' | 'zero'): [number, number][][] {
  const { height: h, width: w, channels: c } = b;
  const size = h * w * c;
  const found: [number, number][][] = [];
  for (let i = 0; i < b.count; i++) {
    const src = before.subarray(i * size, (i + 1) * size);
    const out = b.images.subarray(i * size, (i + 1) * size);
    const matches: [number, number][] = [];
    for (let dy = -p; dy <= p; dy++) for (let dx = -p; dx <= p; dx++) if (equal(out, shifted(src, h, w, c, dy, dx, mode))) matches.push([dy, dx]);
    assert.ok(matches.length > 0, `image ${i} is no ${mode} crop of its source at any offset in [-${p}, ${p}]²`);
    found.push(matches);
  }
  return found;
}

describe('RandomCrop', () => {
  it('with padding 0 changes nothing', () => {
    for (const mode of ['reflect', 'zero'] as const) {
      const b = batchOf(20, 4, 5, 3);
      const before = b.images.slice();
      new RandomCrop(0, mode).apply(b, new Random(1));
      assert.deepEqual(b.images, before);
    }
  });

  for (const mode of ['reflect', 'zero'] as const) {
    for (const [h, w, c, p] of [
      [4, 5, 3, 1],
      [8, 8, 3, 4],
      [5, 4, 1, 2],
      [4, 1, 3, 2],
      [1, 4, 2, 2],
      [1, 1, 3, 1],
      [3, 3, 1, 5],
    ] as const) {
      it(`${mode}, padding ${p}, ${h}x${w}x${c}: every image is the padded source at some offset in [-p, p]²`, () => {
        const b = batchOf(60, h, w, c);
        const before = b.images.slice();
        new RandomCrop(p, mode).apply(b, new Random(h * 100 + w * 10 + p));
        const found = offsetsFound(before, b, p, mode);
        const size = h * w * c;
        const changed = found.filter((_, i) => !equal(b.images.subarray(i * size, (i + 1) * size), before.subarray(i * size, (i + 1) * size)));
        if (h * w > 1 || mode === 'zero') assert.ok(changed.length > 10, `only ${changed.length} of 60 images changed`);
      });
    }
  }

  it('draws offsets all over [-p, p]² (each of the 25 offsets for p=2), not only zero', () => {
    for (const mode of ['reflect', 'zero'] as const) {
      const b = batchOf(400, 5, 6, 3);
      const before = b.images.slice();
      new RandomCrop(2, mode).apply(b, new Random(5));
      const found = offsetsFound(before, b, 2, mode);
      const seen = new Set<string>();
      for (const m of found) {
        // Distinct pixel values and more than 2 rows and columns: the offset is unique.
        assert.equal(m.length, 1);
        seen.add(String(m[0]));
      }
      assert.equal(seen.size, 25, `${mode}: offsets seen ${[...seen].join(' ')}`);
    }
  });

  it('zero mode pads with zeros, reflect mode never writes a zero into a zero-free image', () => {
    const b = batchOf(50, 4, 4, 3);
    new RandomCrop(2, 'reflect').apply(b, new Random(9));
    assert.ok(b.images.every((v) => v !== 0));
    const z = batchOf(50, 4, 4, 3);
    new RandomCrop(2, 'zero').apply(z, new Random(9));
    assert.ok(z.images.some((v) => v === 0));
  });

  it('a 1-pixel-wide image only moves vertically in reflect mode (no out-of-range reads)', () => {
    const b = batchOf(30, 6, 1, 1);
    const before = b.images.slice();
    new RandomCrop(3, 'reflect').apply(b, new Random(4));
    for (let i = 0; i < b.count; i++) {
      const src = [...before.subarray(i * 6, i * 6 + 6)];
      const out = [...b.images.subarray(i * 6, i * 6 + 6)];
      const ok = [-3, -2, -1, 0, 1, 2, 3].some((dy) => out.every((v, y) => v === src[fold(y + dy, 6)]));
      assert.ok(ok, `image ${i}: ${out} from ${src}`);
    }
  });

  it('is reproducible for a seed', () => {
    const a = batchOf(20, 8, 8, 3);
    const b = batchOf(20, 8, 8, 3);
    new RandomCrop(4).apply(a, new Random(3));
    new RandomCrop(4).apply(b, new Random(3));
    assert.deepEqual(a.images, b.images);
  });

  it('rejects a negative or fractional padding', () => {
    for (const p of [-1, 1.5, Number.NaN]) {
      assert.throws(() => new RandomCrop(p), (e: unknown) => e instanceof RangeError && /crop: padding must be an integer >= 0/.test(e.message));
    }
    const crop = new RandomCrop();
    assert.equal(crop.padding, 4);
    assert.equal(crop.mode, 'reflect');
    assert.equal(crop.name, 'crop');
  });
});
