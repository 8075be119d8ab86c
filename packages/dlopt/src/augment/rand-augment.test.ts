import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from '../util/random.js';
import type { ImageBatch } from './image-batch.js';
import { RAND_AUGMENT_OPS, RandAugment } from './rand-augment.js';

/** A Random whose next() returns the given values (then 0.5). */
class Scripted extends Random {
  constructor(private readonly values: number[]) {
    super(0);
  }
  override next(): number {
    return this.values.shift() ?? 0.5;
  }
}

const [H, W] = [8, 8];

/** Images with values in 30..200 (not at the ends, odd and even), varying per pixel and image. */
function batchOf(count: number, c: number): ImageBatch {
  const size = H * W * c;
  const images = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) for (let p = 0; p < size; p++) images[i * size + p] = 30 + ((p * 37 + i * 11 + (p % c) * 50) % 171);
  return { images, labels: new Float32Array(count), count, height: H, width: W, channels: c, classes: 1 };
}

/** Applies the named op alone (n = 1, via a scripted draw) to every image of the batch, at magnitude m and sign s. */
function runOp(name: string, b: ImageBatch, m: number, sign: 1 | -1): void {
  const k = RAND_AUGMENT_OPS.indexOf(name);
  assert.ok(k >= 0, name);
  const draws: number[] = [];
  for (let i = 0; i < b.count; i++) draws.push((k + 0.5) / RAND_AUGMENT_OPS.length, sign < 0 ? 0.25 : 0.75);
  new RandAugment(1, m).apply(b, new Scripted(draws));
}

function op(name: string, m: number, sign: 1 | -1, c = 3): { before: Uint8Array; after: Uint8Array } {
  const b = batchOf(2, c);
  const before = b.images.slice();
  runOp(name, b, m, sign);
  return { before, after: b.images };
}

/** Image 0 shifted so that destination (x, y) reads (x − dx, y − dy), `fill` outside. */
function shifted(src: Uint8Array, c: number, dy: number, dx: number, fill: number): Uint8Array {
  const out = new Uint8Array(H * W * c);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let k = 0; k < c; k++) {
        const sy = y - dy;
        const sx = x - dx;
        out[(y * W + x) * c + k] = sy >= 0 && sy < H && sx >= 0 && sx < W ? src[(sy * W + sx) * c + k]! : fill;
      }
  return out;
}

describe('RandAugment operations', () => {
  it('are the 14 of torchvision', () => {
    assert.deepEqual(RAND_AUGMENT_OPS, [
      'identity', 'shearX', 'shearY', 'translateX', 'translateY', 'rotate', 'brightness',
      'color', 'contrast', 'sharpness', 'posterize', 'solarize', 'autoContrast', 'equalize',
    ]);
  });

  for (const name of ['identity', 'shearX', 'shearY', 'translateX', 'translateY', 'rotate', 'brightness', 'color', 'contrast', 'sharpness', 'posterize']) {
    it(`${name} at magnitude 0 is the identity`, () => {
      for (const sign of [1, -1] as const) {
        for (const c of [3, 1]) {
          const { before, after } = op(name, 0, sign, c);
          assert.deepEqual(after, before, `sign ${sign}, ${c} channels`);
        }
      }
    });
  }

  it('identity changes nothing even at magnitude 30', () => {
    const { before, after } = op('identity', 30, 1);
    assert.deepEqual(after, before);
  });

  it('solarize at magnitude 0 only inverts 255; at 30 inverts everything', () => {
    const b = batchOf(1, 3);
    b.images[0] = 255;
    b.images[5] = 254;
    const before = b.images.slice();
    runOp('solarize', b, 0, 1);
    assert.equal(b.images[0], 0);
    assert.deepEqual(b.images.subarray(1), before.subarray(1));
    const { before: src, after } = op('solarize', 30, -1);
    assert.deepEqual(after, src.map((v) => 255 - v));
  });

  it('posterize at magnitude 30 keeps 4 bits; at 9 keeps 7', () => {
    const strong = op('posterize', 30, 1);
    assert.deepEqual(strong.after, strong.before.map((v) => v & 0xf0));
    const mild = op('posterize', 9, 1);
    assert.deepEqual(mild.after, mild.before.map((v) => v & 0xfe));
    // 8 − round(4 · 12/30) = 6 bits.
    const mid = op('posterize', 12, 1);
    assert.deepEqual(mid.after, mid.before.map((v) => v & 0xfc));
  });

  it('translateX / translateY at magnitude 30 move by round(150/331 · size) pixels, grey coming in', () => {
    const d = Math.round((150 / 331) * 8); // 4
    for (const c of [3, 1]) {
      const size = H * W * c;
      const cases = [
        ['translateX', 1, 0, d],
        ['translateX', -1, 0, -d],
        ['translateY', 1, d, 0],
        ['translateY', -1, -d, 0],
      ] as const;
      for (const [name, sign, dy, dx] of cases) {
        const { before, after } = op(name, 30, sign, c);
        assert.deepEqual(after.subarray(0, size), shifted(before.subarray(0, size), c, dy, dx, 128), `${name} sign ${sign}, ${c} channels`);
      }
    }
  });

  it('brightness at magnitude 30 multiplies by 1.9 or 0.1, on RGB and greyscale images', () => {
    for (const c of [3, 1]) {
      const up = op('brightness', 30, 1, c);
      // The factors as the op computes them (1 − 0.9 is 0.09999999999999998 in doubles).
      const [more, less] = [1 + 0.9, 1 - 0.9];
      assert.deepEqual(up.after, up.before.map((v) => Math.min(255, Math.round(v * more))), `${c} channels`);
      const down = op('brightness', 30, -1, c);
      assert.deepEqual(down.after, down.before.map((v) => Math.round(v * less)), `${c} channels`);
    }
  });

  it('contrast at magnitude 30 (sign −1) flattens towards the mean grey, on RGB and greyscale images', () => {
    for (const c of [3, 1]) {
      const { before, after } = op('contrast', 30, -1, c);
      const size = H * W * c;
      const spread = (img: Uint8Array) => Math.max(...img) - Math.min(...img);
      assert.ok(spread(after.subarray(0, size)) <= Math.ceil(0.1 * spread(before.subarray(0, size))) + 1, `${c} channels`);
      if (c === 1) {
        // Greyscale: every value moves to a tenth of its distance from the image mean.
        const src = before.subarray(0, size);
        const mean = src.reduce((a, v) => a + v, 0) / size;
        for (let j = 0; j < size; j++) assert.ok(Math.abs(after[j]! - (mean + (src[j]! - mean) * 0.1)) <= 0.51, `byte ${j}`);
      }
    }
  });

  it('color at magnitude 30 (sign −1) brings RGB pixels close to grey', () => {
    const { before, after } = op('color', 30, -1);
    const chroma = (img: Uint8Array) => {
      let sum = 0;
      for (let p = 0; p < img.length; p += 3) sum += Math.max(img[p]!, img[p + 1]!, img[p + 2]!) - Math.min(img[p]!, img[p + 1]!, img[p + 2]!);
      return sum;
    };
    assert.ok(chroma(after) < 0.15 * chroma(before), `${chroma(after)} vs ${chroma(before)}`);
  });

  it('autoContrast stretches each channel to 0..255; equalize spreads each channel over 0..255', () => {
    for (const name of ['autoContrast', 'equalize']) {
      for (const c of [3, 1]) {
        const { before, after } = op(name, 9, 1, c);
        const size = H * W * c;
        for (let k = 0; k < c; k++) {
          const src = before.subarray(0, size).filter((_, j) => j % c === k);
          const out = after.subarray(0, size).filter((_, j) => j % c === k);
          assert.equal(Math.min(...out), 0, `${name} channel ${k}`);
          assert.equal(Math.max(...out), 255, `${name} channel ${k}`);
          // Monotone: the order of values is kept.
          for (let a = 0; a < src.length; a++) for (let z = 0; z < src.length; z++) if (src[a]! < src[z]!) assert.ok(out[a]! <= out[z]!);
          if (name === 'autoContrast') {
            const lo = Math.min(...src);
            const hi = Math.max(...src);
            assert.deepEqual(out, src.map((v) => Math.round(((v - lo) * 255) / (hi - lo))));
          }
        }
      }
    }
  });

  it("sharpness blends with PIL's smoothing kernel (centre 5, ring 1, / 13), changing the interior only", () => {
    for (const [c, sign] of [[3, 1], [1, -1]] as const) {
      const { before, after } = op('sharpness', 30, sign, c);
      const factor = 1 + sign * 0.9;
      for (let y = 1; y < H - 1; y++)
        for (let x = 1; x < W - 1; x++)
          for (let k = 0; k < c; k++) {
            let smooth = 0;
            for (let dy = -1; dy <= 1; dy++)
              for (let dx = -1; dx <= 1; dx++) smooth += (dx === 0 && dy === 0 ? 5 : 1) * before[((y + dy) * W + x + dx) * c + k]!;
            smooth /= 13;
            const v = before[(y * W + x) * c + k]!;
            const want = Math.min(255, Math.max(0, Math.round(smooth + (v - smooth) * factor)));
            assert.ok(Math.abs(after[(y * W + x) * c + k]! - want) <= 1, `(${x}, ${y}, ${k}): ${after[(y * W + x) * c + k]} vs ${want}`);
          }
      let interior = 0;
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++)
          for (let k = 0; k < c; k++) {
            const at = (y * W + x) * c + k;
            if (y === 0 || x === 0 || y === H - 1 || x === W - 1) assert.equal(after[at], before[at]);
            else if (after[at] !== before[at]) interior++;
          }
      assert.ok(interior > 10, `${c} channels: ${interior} interior bytes changed`);
    }
  });

  for (const c of [3, 1]) {
    it(`every op runs on ${c}-channel images at magnitudes 0, 9 and 30, and changes them at 30 where it applies`, () => {
      for (const name of RAND_AUGMENT_OPS) {
        for (const m of [0, 9, 30]) {
          for (const sign of [1, -1] as const) {
            const { before, after } = op(name, m, sign, c);
            assert.equal(after.length, before.length);
            if (m === 30 && name !== 'identity' && !(name === 'color' && c === 1)) {
              assert.notDeepEqual(after, before, `${name} sign ${sign} did nothing to a ${c}-channel image`);
            }
          }
        }
      }
    });
  }
});

describe('RandAugment', () => {
  it('changes images at the usual strength (2, 9) and reproduces them for a seed', () => {
    const a = batchOf(16, 3);
    const before = a.images.slice();
    new RandAugment(2, 9).apply(a, new Random(8));
    const b = batchOf(16, 3);
    new RandAugment(2, 9).apply(b, new Random(8));
    assert.deepEqual(a.images, b.images);
    const size = H * W * 3;
    let changed = 0;
    for (let i = 0; i < 16; i++) if (a.images.subarray(i * size, (i + 1) * size).some((v, j) => v !== before[i * size + j])) changed++;
    assert.ok(changed >= 12, `${changed} of 16 changed`);
    const other = batchOf(16, 3);
    new RandAugment(2, 9).apply(other, new Random(9));
    assert.notDeepEqual(other.images, a.images);
  });

  it('applies n operations per image, drawing each op and its sign', () => {
    // n = 3 on one image: 3 × (op, sign) draws; posterize ×3 at m = 30 is just one posterize.
    const k = RAND_AUGMENT_OPS.indexOf('posterize');
    const b = batchOf(1, 3);
    const before = b.images.slice();
    const x = (k + 0.5) / RAND_AUGMENT_OPS.length;
    const solarize = (RAND_AUGMENT_OPS.indexOf('solarize') + 0.5) / RAND_AUGMENT_OPS.length;
    new RandAugment(3, 30).apply(b, new Scripted([x, 0.7, x, 0.2, solarize, 0.9]));
    assert.deepEqual(b.images, before.map((v) => 255 - (v & 0xf0)));
  });

  it('rejects a bad n or m', () => {
    for (const n of [0, 1.5, -1]) assert.throws(() => new RandAugment(n), (e: unknown) => e instanceof RangeError && /randAugment: n must be a positive integer/.test(e.message));
    for (const m of [-1, 31, Number.NaN]) assert.throws(() => new RandAugment(2, m), (e: unknown) => e instanceof RangeError && /randAugment: m must be in \[0, 30\]/.test(e.message));
    assert.equal(new RandAugment().name, 'randAugment');
  });
});
