import type { Random } from '../util/random.js';
import type { Augmentation } from './augmentation.js';
import type { ImageBatch } from './image-batch.js';
import { warpAffine } from './pixels.js';

/** Affine warps about the image centre, each image its own random parameters. */
abstract class AffineAugmentation implements Augmentation {
  abstract readonly name: string;
  private buffer = new Uint8Array(0);

  /** The inverse map (destination → source) for one image, centred coordinates; null leaves it unchanged. */
  protected abstract inverse(rng: Random, h: number, w: number): [number, number, number, number, number, number] | null;

  apply(batch: ImageBatch, rng: Random): void {
    const { height: h, width: w, channels: c, images } = batch;
    const size = h * w * c;
    if (this.buffer.length < size) this.buffer = new Uint8Array(size);
    for (let i = 0; i < batch.count; i++) {
      const m = this.inverse(rng, h, w);
      if (!m) continue;
      // Conjugate by the centre shift: x' = M (x - c) + c.
      const cx = (w - 1) / 2;
      const cy = (h - 1) / 2;
      const full: [number, number, number, number, number, number] = [
        m[0], m[1], m[2] + cx - m[0] * cx - m[1] * cy,
        m[3], m[4], m[5] + cy - m[3] * cx - m[4] * cy,
      ];
      const img = images.subarray(i * size, (i + 1) * size);
      this.buffer.set(img);
      warpAffine(this.buffer, img, h, w, c, full);
    }
  }
}

/** Rotation by a uniform angle in [−degrees, degrees], zeros outside. */
export class RandomRotation extends AffineAugmentation {
  readonly name = 'rotate';
  constructor(readonly degrees = 15) {
    super();
    if (!(degrees >= 0)) throw new RangeError(`rotate: degrees must be >= 0 but got ${degrees}`);
  }

  protected inverse(rng: Random): [number, number, number, number, number, number] {
    const a = (rng.uniform(-this.degrees, this.degrees) * Math.PI) / 180;
    const cos = Math.cos(a);
    const sin = Math.sin(a);
    return [cos, sin, 0, -sin, cos, 0];
  }
}

/** Translation by up to `fraction` of the width and height, zeros outside. */
export class RandomTranslation extends AffineAugmentation {
  readonly name = 'translate';
  constructor(readonly fraction = 0.1) {
    super();
    if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`translate: fraction must be in [0, 1) but got ${fraction}`);
  }

  protected inverse(rng: Random, h: number, w: number): [number, number, number, number, number, number] {
    return [1, 0, -Math.round(rng.uniform(-this.fraction, this.fraction) * w), 0, 1, -Math.round(rng.uniform(-this.fraction, this.fraction) * h)];
  }
}

/**
 * Random resized crop (the Inception / ImageNet augmentation): a crop of
 * random area (fraction `scale`) and aspect ratio (log-uniform in `ratio`) at
 * a random place, scaled back to the full size.
 */
export class RandomResizedCrop extends AffineAugmentation {
  readonly name = 'resizedCrop';
  constructor(
    readonly scale: readonly [number, number] = [0.35, 1],
    readonly ratio: readonly [number, number] = [3 / 4, 4 / 3],
  ) {
    super();
    if (!(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1)) throw new RangeError('resizedCrop: scale must be 0 < low <= high <= 1');
    if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) throw new RangeError('resizedCrop: ratio must be 0 < low <= high');
  }

  protected inverse(rng: Random, h: number, w: number): [number, number, number, number, number, number] {
    for (let attempt = 0; attempt < 10; attempt++) {
      const area = rng.uniform(this.scale[0], this.scale[1]);
      const aspect = Math.exp(rng.uniform(Math.log(this.ratio[0]), Math.log(this.ratio[1])));
      const cw = Math.sqrt(area * aspect) * w;
      const ch = Math.sqrt(area / aspect) * h;
      if (cw > w || ch > h) continue;
      // Offsets keep the sampled pixel centres within the source's (x ∈ [0, w − 1]), so no fill is blended in.
      const mx = ((w - cw) / 2) * ((w - 1) / w);
      const my = ((h - ch) / 2) * ((h - 1) / h);
      const ox = rng.uniform(-mx, mx);
      const oy = rng.uniform(-my, my);
      return [cw / w, 0, ox, 0, ch / h, oy];
    }
    return [1, 0, 0, 0, 1, 0];
  }
}
