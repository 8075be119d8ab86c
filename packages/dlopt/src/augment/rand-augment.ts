import type { Random } from '../util/random.js';
import type { Augmentation } from './augmentation.js';
import { adjustImage } from './color.js';
import type { ImageBatch } from './image-batch.js';
import { toByte, warpAffine } from './pixels.js';

/** One RandAugment operation on one HWC image, at strength f in [0, 1] and a random sign. */
type Op = (img: Uint8Array, h: number, w: number, c: number, f: number, sign: number, tmp: Uint8Array) => void;

function affine(m: [number, number, number, number, number, number]): Op {
  return (img, h, w, c, _f, _s, tmp) => {
    tmp.set(img);
    const cx = (w - 1) / 2;
    const cy = (h - 1) / 2;
    warpAffine(tmp, img, h, w, c, [m[0], m[1], m[2] + cx - m[0] * cx - m[1] * cy, m[3], m[4], m[5] + cy - m[3] * cx - m[4] * cy], 128);
  };
}

function perChannel(img: Uint8Array, c: number, fn: (values: number[], k: number) => (v: number) => number): void {
  for (let k = 0; k < c; k++) {
    const values: number[] = [];
    for (let i = k; i < img.length; i += c) values.push(img[i]!);
    const map = fn(values, k);
    for (let i = k; i < img.length; i += c) img[i] = toByte(map(img[i]!));
  }
}

/** Brightness (blend with black) or contrast (blend with the mean) of a greyscale image; RGB goes through adjustImage. */
function adjustGrey(img: Uint8Array, factor: number, aroundMean: boolean): void {
  let mean = 0;
  if (aroundMean) {
    for (let i = 0; i < img.length; i++) mean += img[i]!;
    mean /= img.length;
  }
  for (let i = 0; i < img.length; i++) img[i] = toByte(mean + (img[i]! - mean) * factor);
}

/** The operations and magnitude ranges of torchvision's RandAugment (strength f scales each range). */
const OPS: Record<string, Op> = {
  identity: () => {},
  shearX: (img, h, w, c, f, s, tmp) => affine([1, s * 0.3 * f, 0, 0, 1, 0])(img, h, w, c, f, s, tmp),
  shearY: (img, h, w, c, f, s, tmp) => affine([1, 0, 0, s * 0.3 * f, 1, 0])(img, h, w, c, f, s, tmp),
  translateX: (img, h, w, c, f, s, tmp) => affine([1, 0, -s * Math.round((150 / 331) * w * f), 0, 1, 0])(img, h, w, c, f, s, tmp),
  translateY: (img, h, w, c, f, s, tmp) => affine([1, 0, 0, 0, 1, -s * Math.round((150 / 331) * h * f)])(img, h, w, c, f, s, tmp),
  rotate: (img, h, w, c, f, s, tmp) => {
    const a = (s * 30 * f * Math.PI) / 180;
    affine([Math.cos(a), Math.sin(a), 0, -Math.sin(a), Math.cos(a), 0])(img, h, w, c, f, s, tmp);
  },
  brightness: (img, _h, _w, c, f, s) => (c === 3 ? adjustImage(img, 1 + s * 0.9 * f, 1, 1, 0) : c === 1 && adjustGrey(img, 1 + s * 0.9 * f, false)),
  // Saturation: greyscale images have none (as torchvision).
  color: (img, _h, _w, c, f, s) => c === 3 && adjustImage(img, 1, 1, 1 + s * 0.9 * f, 0),
  contrast: (img, _h, _w, c, f, s) => (c === 3 ? adjustImage(img, 1, 1 + s * 0.9 * f, 1, 0) : c === 1 && adjustGrey(img, 1 + s * 0.9 * f, true)),
  sharpness: (img, h, w, c, f, s, tmp) => {
    // Blend with a 3x3 smoothing (centre 5, ring 1, /13), borders unchanged, as PIL does.
    tmp.set(img);
    const factor = 1 + s * 0.9 * f;
    for (let y = 1; y < h - 1; y++)
      for (let x = 1; x < w - 1; x++)
        for (let k = 0; k < c; k++) {
          let sum = 4 * tmp[(y * w + x) * c + k]!;
          for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) sum += tmp[((y + dy) * w + x + dx) * c + k]!;
          const at = (y * w + x) * c + k;
          img[at] = toByte(sum / 13 + (tmp[at]! - sum / 13) * factor);
        }
  },
  posterize: (img, _h, _w, _c, f) => {
    const bits = 8 - Math.round(4 * f);
    const mask = (0xff << (8 - bits)) & 0xff;
    for (let i = 0; i < img.length; i++) img[i] = img[i]! & mask;
  },
  solarize: (img, _h, _w, _c, f) => {
    const threshold = 255 * (1 - f);
    for (let i = 0; i < img.length; i++) if (img[i]! >= threshold) img[i] = 255 - img[i]!;
  },
  autoContrast: (img, _h, _w, c) =>
    perChannel(img, c, (values) => {
      let lo = 255;
      let hi = 0;
      for (const v of values) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      return hi > lo ? (v) => ((v - lo) * 255) / (hi - lo) : (v) => v;
    }),
  equalize: (img, _h, _w, c) =>
    perChannel(img, c, (values) => {
      const hist = new Array<number>(256).fill(0);
      for (const v of values) hist[v]!++;
      const cdf: number[] = [];
      let run = 0;
      for (const n of hist) cdf.push((run += n));
      const first = cdf.find((v) => v > 0) ?? 0;
      const span = values.length - first;
      return span > 0 ? (v) => ((cdf[v]! - first) * 255) / span : (v) => v;
    }),
};

export const RAND_AUGMENT_OPS = Object.keys(OPS);

/**
 * RandAugment (Cubuk et al., 2020): each image gets `n` operations drawn at
 * random from the list above, at magnitude `m` out of 30 (torchvision's
 * scale), each with a random sign.
 */
export class RandAugment implements Augmentation {
  readonly name = 'randAugment';
  private buffer = new Uint8Array(0);

  constructor(
    readonly n = 2,
    readonly m = 9,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`randAugment: n must be a positive integer but got ${n}`);
    if (!(m >= 0 && m <= 30)) throw new RangeError(`randAugment: m must be in [0, 30] but got ${m}`);
  }

  apply(batch: ImageBatch, rng: Random): void {
    const { height: h, width: w, channels: c } = batch;
    const size = h * w * c;
    if (this.buffer.length < size) this.buffer = new Uint8Array(size);
    const ops = Object.values(OPS);
    for (let i = 0; i < batch.count; i++) {
      const img = batch.images.subarray(i * size, (i + 1) * size);
      for (let k = 0; k < this.n; k++) {
        const op = ops[rng.int(ops.length)]!;
        op(img, h, w, c, this.m / 30, rng.next() < 0.5 ? -1 : 1, this.buffer);
      }
    }
  }
}
