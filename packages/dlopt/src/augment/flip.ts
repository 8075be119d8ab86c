import type { Random } from '../util/random.js';
import type { Augmentation } from './augmentation.js';
import type { ImageBatch } from './image-batch.js';

/** Mirrors each image left–right with probability `p`. */
export class HorizontalFlip implements Augmentation {
  readonly name = 'flip';
  constructor(readonly p = 0.5) {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`flip: p must be in [0, 1] but got ${p}`);
  }

  apply(batch: ImageBatch, rng: Random): void {
    const { height: h, width: w, channels: c, images } = batch;
    const row = w * c;
    for (let i = 0; i < batch.count; i++) {
      if (rng.next() >= this.p) continue;
      const base = i * h * row;
      for (let y = 0; y < h; y++) {
        const r = base + y * row;
        for (let a = 0, b = w - 1; a < b; a++, b--) {
          for (let k = 0; k < c; k++) {
            const t = images[r + a * c + k]!;
            images[r + a * c + k] = images[r + b * c + k]!;
            images[r + b * c + k] = t;
          }
        }
      }
    }
  }
}
