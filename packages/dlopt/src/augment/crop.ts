import type { Random } from '../util/random.js';
import type { Augmentation } from './augmentation.js';
import type { ImageBatch } from './image-batch.js';
import { reflectIndex } from './pixels.js';

/**
 * Random crop with padding (the classic CIFAR augmentation): the image is
 * padded by `padding` pixels on each side (zeros, or a mirror of the border
 * with 'reflect') and a crop of the original size is taken at a random offset.
 */
export class RandomCrop implements Augmentation {
  readonly name = 'crop';
  private buffer = new Uint8Array(0);

  constructor(
    readonly padding = 4,
    readonly mode: 'reflect' | 'zero' = 'reflect',
  ) {
    if (!Number.isInteger(padding) || padding < 0) throw new RangeError(`crop: padding must be an integer >= 0 but got ${padding}`);
  }

  apply(batch: ImageBatch, rng: Random): void {
    const { height: h, width: w, channels: c, images } = batch;
    const size = h * w * c;
    if (this.buffer.length < size) this.buffer = new Uint8Array(size);
    const tmp = this.buffer;
    const p = this.padding;
    for (let i = 0; i < batch.count; i++) {
      const dy = rng.int(2 * p + 1) - p;
      const dx = rng.int(2 * p + 1) - p;
      if (dx === 0 && dy === 0) continue;
      const img = images.subarray(i * size, (i + 1) * size);
      tmp.set(img);
      for (let y = 0; y < h; y++) {
        let sy = y + dy;
        const rowInside = sy >= 0 && sy < h;
        if (!rowInside && this.mode === 'zero') {
          img.fill(0, y * w * c, (y + 1) * w * c);
          continue;
        }
        sy = reflectIndex(sy, h);
        for (let x = 0; x < w; x++) {
          let sx = x + dx;
          const out = (y * w + x) * c;
          if (sx < 0 || sx >= w) {
            if (this.mode === 'zero') {
              for (let k = 0; k < c; k++) img[out + k] = 0;
              continue;
            }
            sx = reflectIndex(sx, w);
          }
          const from = (sy * w + sx) * c;
          for (let k = 0; k < c; k++) img[out + k] = tmp[from + k]!;
        }
      }
    }
  }
}
