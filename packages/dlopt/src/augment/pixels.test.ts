import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reflectIndex, toByte, warpAffine } from './pixels.js';

/** A HWC image with distinct values 1..h·w·c (so permutations and shifts are detectable). */
function ramp(h: number, w: number, c: number, start = 1): Uint8Array {
  const img = new Uint8Array(h * w * c);
  for (let i = 0; i < img.length; i++) img[i] = start + i;
  return img;
}

function warped(src: Uint8Array, h: number, w: number, c: number, m: [number, number, number, number, number, number], fill = 0): Uint8Array {
  const dst = new Uint8Array(src.length).fill(99);
  warpAffine(src, dst, h, w, c, m, fill);
  return dst;
}

/** The matrix m about the image centre: x' = M (x − c) + c. */
function centred(m: [number, number, number, number], h: number, w: number): [number, number, number, number, number, number] {
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  return [m[0], m[1], cx - m[0] * cx - m[1] * cy, m[2], m[3], cy - m[2] * cx - m[3] * cy];
}

describe('reflectIndex', () => {
  // np.pad(np.arange(n), 9, mode='reflect') for n = 1..5.
  const numpy: Record<number, number[]> = {
    1: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    2: [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0],
    3: [1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1],
    4: [3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0],
    5: [1, 0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4, 3],
  };
  for (const [n, expected] of Object.entries(numpy)) {
    it(`matches NumPy's 'reflect' padding for n=${n}, indices -9..${Number(n) + 8}`, () => {
      const got = expected.map((_, j) => reflectIndex(j - 9, Number(n)));
      assert.deepEqual(got, expected);
    });
  }

  it('spot values for n=4', () => {
    assert.deepEqual([-1, -2, -3, 4, 5, 6, 7, 0, 3].map((i) => reflectIndex(i, 4)), [1, 2, 3, 2, 1, 0, 1, 0, 3]);
  });
});

describe('warpAffine', () => {
  it('the identity map returns the image (fill unused)', () => {
    for (const [h, w, c] of [
      [4, 5, 3],
      [1, 1, 1],
      [3, 7, 2],
    ] as const) {
      const src = ramp(h, w, c);
      assert.deepEqual(warped(src, h, w, c, [1, 0, 0, 0, 1, 0], 200), src);
      assert.deepEqual(warped(src, h, w, c, centred([1, 0, 0, 1], h, w), 200), src);
    }
  });

  it('a 1-pixel shift matches a manual shift with the fill value', () => {
    const [h, w, c] = [4, 5, 3];
    const src = ramp(h, w, c);
    const manual = (dy: number, dx: number) => {
      const out = new Uint8Array(src.length);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let k = 0; k < c; k++) {
            const sy = y + dy;
            const sx = x + dx;
            out[(y * w + x) * c + k] = sy >= 0 && sy < h && sx >= 0 && sx < w ? src[(sy * w + sx) * c + k]! : 7;
          }
      return out;
    };
    // Destination (x, y) reads the source at (x + dx, y + dy).
    assert.deepEqual(warped(src, h, w, c, [1, 0, 1, 0, 1, 0], 7), manual(0, 1));
    assert.deepEqual(warped(src, h, w, c, [1, 0, -1, 0, 1, 0], 7), manual(0, -1));
    assert.deepEqual(warped(src, h, w, c, [1, 0, 0, 0, 1, 1], 7), manual(1, 0));
    assert.deepEqual(warped(src, h, w, c, [1, 0, -2, 0, 1, -1], 7), manual(-1, -2));
    // Shifted entirely out: all fill.
    assert.ok(warped(src, h, w, c, [1, 0, 10, 0, 1, 0], 7).every((v) => v === 7));
  });

  it('a 90° rotation about the centre permutes the pixels of a square image exactly', () => {
    for (const n of [4, 5]) {
      const c = 2;
      const src = ramp(n, n, c);
      // x_s = y, y_s = −x about the centre: destination (x, y) reads source (y, n−1−x).
      const dst = warped(src, n, n, c, centred([0, 1, -1, 0], n, n));
      for (let y = 0; y < n; y++)
        for (let x = 0; x < n; x++)
          for (let k = 0; k < c; k++) assert.equal(dst[(y * n + x) * c + k], src[((n - 1 - x) * n + y) * c + k], `n=${n} (${x}, ${y})`);
      assert.deepEqual([...dst].sort((a, b) => a - b), [...src].sort((a, b) => a - b), 'a permutation');
      // Four quarter turns (with floating-point cos/sin) give the image back.
      const a = Math.PI / 2;
      let img = src;
      for (let t = 0; t < 4; t++) img = warped(img, n, n, c, centred([Math.cos(a), Math.sin(a), -Math.sin(a), Math.cos(a)], n, n));
      assert.deepEqual(img, src);
    }
  });

  it('interpolates bilinearly: a half-pixel shift of a linear ramp lands halfway', () => {
    const [h, w] = [3, 6];
    const src = new Uint8Array(h * w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) src[y * w + x] = 20 * x + 40 * y;
    const dst = warped(src, h, w, 1, [1, 0, 0.5, 0, 1, 0.25], 0);
    for (let y = 0; y < h - 1; y++) for (let x = 0; x < w - 1; x++) assert.equal(dst[y * w + x], 20 * x + 10 + 40 * y + 10);
    // The last column blends half with the fill.
    assert.equal(dst[w - 1], Math.round(0.75 * 0.5 * 100 + 0.25 * 0.5 * 140));
  });

  it('rounds and clamps to bytes', () => {
    assert.deepEqual([-3, 0, 12.4, 12.5, 254.6, 255, 300].map(toByte), [0, 0, 12, 13, 255, 255, 255]);
  });
});
