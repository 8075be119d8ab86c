import type { Random } from '../util/random.js';
import type { Augmentation } from './augmentation.js';
import type { ImageBatch } from './image-batch.js';

/**
 * Cutout (DeVries & Taylor, 2017): a `size`×`size` square at a random centre
 * (it may hang over the edge) is set to `fill`, with probability `p`.
 */
export class Cutout implements Augmentation {
  readonly name = 'cutout';
  constructor(
    readonly size = 8,
    readonly p = 1,
    readonly fill = 0,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`cutout: size must be a positive integer but got ${size}`);
    if (!(p >= 0 && p <= 1)) throw new RangeError(`cutout: p must be in [0, 1] but got ${p}`);
  }

  apply(batch: ImageBatch, rng: Random): void {
    const { height: h, width: w, channels: c, images } = batch;
    for (let i = 0; i < batch.count; i++) {
      if (rng.next() >= this.p) continue;
      const top = rng.int(h) - (this.size >> 1);
      const left = rng.int(w) - (this.size >> 1);
      fillRect(images, i, h, w, c, Math.max(0, top), Math.min(h, top + this.size), Math.max(0, left), Math.min(w, left + this.size), () => this.fill);
    }
  }
}

/**
 * Random erasing (Zhong et al., 2020): with probability `p`, a rectangle of
 * random area (fraction `scale` of the image) and aspect ratio is filled with
 * random bytes.
 */
export class RandomErasing implements Augmentation {
  readonly name = 'erasing';
  constructor(
    readonly p = 0.5,
    readonly scale: readonly [number, number] = [0.02, 0.33],
    readonly ratio: readonly [number, number] = [0.3, 3.3],
  ) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`erasing: p must be in [0, 1] but got ${p}`);
    if (!(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1)) throw new RangeError('erasing: scale must be 0 < low <= high <= 1');
    if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) throw new RangeError('erasing: ratio must be 0 < low <= high');
  }

  apply(batch: ImageBatch, rng: Random): void {
    const { height: h, width: w, channels: c, images } = batch;
    for (let i = 0; i < batch.count; i++) {
      if (rng.next() >= this.p) continue;
      for (let attempt = 0; attempt < 10; attempt++) {
        const area = rng.uniform(this.scale[0], this.scale[1]) * h * w;
        const aspect = Math.exp(rng.uniform(Math.log(this.ratio[0]), Math.log(this.ratio[1])));
        const eh = Math.round(Math.sqrt(area * aspect));
        const ew = Math.round(Math.sqrt(area / aspect));
        if (eh < 1 || ew < 1 || eh > h || ew > w) continue;
        const y0 = rng.int(h - eh + 1);
        const x0 = rng.int(w - ew + 1);
        fillRect(images, i, h, w, c, y0, y0 + eh, x0, x0 + ew, () => rng.int(256));
        break;
      }
    }
  }
}

function fillRect(
  images: Uint8Array, i: number, h: number, w: number, c: number,
  y0: number, y1: number, x0: number, x1: number, value: () => number,
): void {
  const base = i * h * w * c;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const at = base + (y * w + x) * c;
      for (let k = 0; k < c; k++) images[at + k] = value();
    }
  }
}
