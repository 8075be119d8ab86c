import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../util/random.js';
import { RandomResizedCrop, RandomRotation, RandomTranslation } from './geometric.js';
import type { ImageBatch } from './image-batch.js';

/** A Random whose next() returns the given values (then 0.5): drives the augmentations to known parameters. */
class Scripted extends Random {
  constructor(private readonly values: number[]) {
    super(0);
  }
  override next(): number {
    return this.values.shift() ?? 0.5;
  }
}

function batchOf(count: number, h: number, w: number, c: number, value = (i: number, p: number) => 1 + ((i * 37 + p * 11) % 255)): ImageBatch {
  const size = h * w * c;
  const images = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) for (let p = 0; p < size; p++) images[i * size + p] = value(i, p);
  return { images, labels: new Float32Array(count), count, height: h, width: w, channels: c, classes: 1 };
}

function imageOf(b: ImageBatch, i: number, images = b.images): Uint8Array {
  const size = b.height * b.width * b.channels;
  return images.subarray(i * size, (i + 1) * size);
}

function changedCount(b: ImageBatch, before: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < b.count; i++) if (imageOf(b, i).some((v, j) => v !== imageOf(b, i, before)[j])) n++;
  return n;
}

/** One HWC image shifted so that destination (x, y) reads source (x − dx, y − dy), zeros outside. */
function shifted(src: Uint8Array, h: number, w: number, c: number, dy: number, dx: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const sy = y - dy;
      const sx = x - dx;
      if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = src[(sy * w + sx) * c + k]!;
    }
  return out;
}

describe('RandomRotation', () => {
  it('degrees 0 leaves images unchanged', () => {
    const b = batchOf(10, 8, 8, 3);
    const before = b.images.slice();
    new RandomRotation(0).apply(b, new Random(1));
    assert.deepEqual(b.images, before);
  });

  it('a nonzero range changes the images and keeps them uint8', () => {
    const b = batchOf(10, 8, 8, 3);
    const before = b.images.slice();
    new RandomRotation(30).apply(b, new Random(1));
    assert.ok(b.images instanceof Uint8Array && b.images.length === before.length);
    assert.equal(changedCount(b, before), 10);
  });

  it('an angle of +90° (drawn at the top of the range) rotates a square image exactly', () => {
    const n = 6;
    const b = batchOf(1, n, n, 3);
    const src = b.images.slice();
    // uniform(-90, 90) at next() → 1 gives 90°; 0.999999999 is close enough for exact bytes.
    new RandomRotation(90).apply(b, new Scripted([1 - 1e-12]));
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++)
        for (let k = 0; k < 3; k++) assert.equal(b.images[(y * n + x) * 3 + k], src[((n - 1 - x) * n + y) * 3 + k]);
  });

  it('keeps a rotated image inside its frame: corners outside the source become 0', () => {
    const b = batchOf(1, 8, 8, 1, () => 200);
    new RandomRotation(45).apply(b, new Scripted([1 - 1e-12]));
    assert.equal(b.images[0], 0, 'top-left corner');
    assert.equal(b.images[4 * 8 + 4], 200, 'centre');
  });

  it('rejects a negative range', () => {
    for (const d of [-1, Number.NaN]) assert.throws(() => new RandomRotation(d), (e: unknown) => e instanceof RangeError && /rotate: degrees must be >= 0/.test(e.message));
    assert.equal(new RandomRotation().name, 'rotate');
  });
});

describe('RandomTranslation', () => {
  it('fraction 0 leaves images unchanged', () => {
    const b = batchOf(10, 8, 8, 3);
    const before = b.images.slice();
    new RandomTranslation(0).apply(b, new Random(1));
    assert.deepEqual(b.images, before);
  });

  it('shifts by a whole number of pixels (drawn up to fraction × size) with zeros coming in', () => {
    const [h, w, c] = [8, 10, 3];
    const b = batchOf(40, h, w, c);
    const before = b.images.slice();
    new RandomTranslation(0.3).apply(b, new Random(2));
    const shifts = new Set<string>();
    for (let i = 0; i < b.count; i++) {
      const src = imageOf(b, i, before);
      let match: string | undefined;
      for (let dy = -2; dy <= 2 && !match; dy++)
        for (let dx = -3; dx <= 3 && !match; dx++) {
          const ref = shifted(src, h, w, c, dy, dx);
          if (imageOf(b, i).every((v, j) => v === ref[j])) match = `${dy},${dx}`;
        }
      assert.ok(match, `image ${i} is no integer shift of its source within ±0.3 of the size`);
      shifts.add(match);
    }
    assert.ok(shifts.size > 10, `only shifts ${[...shifts].join(' ')}`);
  });

  it('a scripted draw of +0.25 of the width moves the image right by 2 pixels', () => {
    const [h, w, c] = [4, 8, 2];
    const b = batchOf(1, h, w, c);
    const src = b.images.slice();
    // uniform(-0.5, 0.5) at 0.75 → 0.25 → 2 pixels in x; at 0.5 → 0 in y.
    new RandomTranslation(0.5).apply(b, new Scripted([0.75, 0.5]));
    assert.deepEqual(b.images, shifted(src, h, w, c, 0, 2));
  });

  it('rejects a fraction outside [0, 1)', () => {
    for (const f of [-0.1, 1, Number.NaN]) assert.throws(() => new RandomTranslation(f), (e: unknown) => e instanceof RangeError && /translate: fraction must be in \[0, 1\)/.test(e.message));
    assert.equal(new RandomTranslation().name, 'translate');
  });
});

describe('RandomResizedCrop', () => {
  it('scale [1, 1] and ratio [1, 1] is the identity', () => {
    const b = batchOf(10, 8, 8, 3);
    const before = b.images.slice();
    new RandomResizedCrop([1, 1], [1, 1]).apply(b, new Random(1));
    assert.deepEqual(b.images, before);
  });

  it('the default range changes the images', () => {
    const b = batchOf(10, 8, 8, 3);
    const before = b.images.slice();
    new RandomResizedCrop().apply(b, new Random(1));
    assert.equal(changedCount(b, before), 10);
  });

  it('a centred crop of a quarter of the area zooms in by 2 (a linear ramp stays linear, at half the slope)', () => {
    // value = 20x + 12y + 5k: the centre crop maps x → 0.5x + 1.75, so the result is 10x + 6y + 56 + 5k.
    const b = batchOf(1, 8, 8, 3, (_, p) => {
      const k = p % 3;
      const x = Math.floor(p / 3) % 8;
      const y = Math.floor(p / 24);
      return 20 * x + 12 * y + 5 * k;
    });
    new RandomResizedCrop([0.25, 0.25], [1, 1]).apply(b, new Scripted([0.5, 0.5, 0.5, 0.5]));
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) for (let k = 0; k < 3; k++) assert.equal(b.images[(y * 8 + x) * 3 + k], 10 * x + 6 * y + 56 + 5 * k);
  });

  it('samples only inside the source: a crop of a uniform image stays uniform (no fill bleeding in at the edges)', () => {
    const b = batchOf(200, 8, 8, 3, () => 200);
    new RandomResizedCrop([0.2, 0.6]).apply(b, new Random(3));
    const off = b.images.findIndex((v) => v !== 200);
    assert.equal(off, -1, `byte ${off} is ${b.images[off]}`);
  });

  it('rejects bad scale and ratio ranges', () => {
    for (const scale of [[0, 1], [0.5, 0.4], [0.5, 1.1]] as const) {
      assert.throws(() => new RandomResizedCrop(scale), (e: unknown) => e instanceof RangeError && /scale must be 0 < low <= high <= 1/.test(e.message));
    }
    for (const ratio of [[0, 1], [2, 1]] as const) {
      assert.throws(() => new RandomResizedCrop([0.5, 1], ratio), (e: unknown) => e instanceof RangeError && /ratio must be 0 < low <= high/.test(e.message));
    }
    assert.equal(new RandomResizedCrop().name, 'resizedCrop');
  });
});
