import type { Random } from '../util/random.js';
import type { Augmentation } from './augmentation.js';
import type { ImageBatch } from './image-batch.js';
import { toByte } from './pixels.js';

/** Luma weights (ITU-R 601), as torchvision's grayscale uses. */
const LUMA = [0.299, 0.587, 0.114] as const;

/**
 * Colour jitter on RGB images, each image its own factors (torchvision's
 * ColorJitter, in a fixed order): brightness multiplies by 1 ± brightness;
 * contrast blends with the image's mean grey; saturation blends with each
 * pixel's grey (these three factors never below 0); hue rotates colours by up
 * to ±hue of a full turn (in YIQ space, a linear approximation of an HSV hue
 * shift).
 */
export class ColorJitter implements Augmentation {
  readonly name = 'color';
  constructor(
    readonly brightness = 0,
    readonly contrast = 0,
    readonly saturation = 0,
    readonly hue = 0,
  ) {
    for (const [key, v] of Object.entries({ brightness, contrast, saturation })) {
      if (!(v >= 0)) throw new RangeError(`color: ${key} must be >= 0 but got ${v}`);
    }
    if (!(hue >= 0 && hue <= 0.5)) throw new RangeError(`color: hue must be in [0, 0.5] but got ${hue}`);
  }

  apply(batch: ImageBatch, rng: Random): void {
    if (batch.channels !== 3) throw new RangeError(`color jitter needs RGB images, got ${batch.channels} channels`);
    const pixels = batch.height * batch.width;
    for (let i = 0; i < batch.count; i++) {
      // Factors in [max(0, 1 − x), 1 + x], as torchvision: a negative one would invert the image.
      const b = rng.uniform(Math.max(0, 1 - this.brightness), 1 + this.brightness);
      const c = rng.uniform(Math.max(0, 1 - this.contrast), 1 + this.contrast);
      const s = rng.uniform(Math.max(0, 1 - this.saturation), 1 + this.saturation);
      const h = rng.uniform(-this.hue, this.hue) * 2 * Math.PI;
      adjustImage(batch.images.subarray(i * pixels * 3, (i + 1) * pixels * 3), b, c, s, h);
    }
  }
}

/** Brightness, contrast and saturation factors and a hue angle (radians) applied to one RGB image. */
export function adjustImage(img: Uint8Array, brightness: number, contrast: number, saturation: number, hue: number): void {
  const pixels = img.length / 3;
  let mean = 0;
  if (contrast !== 1) {
    for (let p = 0; p < pixels; p++) mean += LUMA[0] * img[3 * p]! + LUMA[1] * img[3 * p + 1]! + LUMA[2] * img[3 * p + 2]!;
    mean = (mean / pixels) * brightness;
  }
  const cos = Math.cos(hue);
  const sin = Math.sin(hue);
  for (let p = 0; p < pixels; p++) {
    let r = img[3 * p]! * brightness;
    let g = img[3 * p + 1]! * brightness;
    let b = img[3 * p + 2]! * brightness;
    if (contrast !== 1) {
      r = mean + (r - mean) * contrast;
      g = mean + (g - mean) * contrast;
      b = mean + (b - mean) * contrast;
    }
    if (saturation !== 1) {
      const grey = LUMA[0] * r + LUMA[1] * g + LUMA[2] * b;
      r = grey + (r - grey) * saturation;
      g = grey + (g - grey) * saturation;
      b = grey + (b - grey) * saturation;
    }
    if (hue !== 0) {
      const y = 0.299 * r + 0.587 * g + 0.114 * b;
      const i0 = 0.596 * r - 0.274 * g - 0.322 * b;
      const q0 = 0.211 * r - 0.523 * g + 0.312 * b;
      const i1 = i0 * cos - q0 * sin;
      const q1 = i0 * sin + q0 * cos;
      r = y + 0.956 * i1 + 0.621 * q1;
      g = y - 0.272 * i1 - 0.647 * q1;
      b = y - 1.106 * i1 + 1.703 * q1;
    }
    img[3 * p] = toByte(r);
    img[3 * p + 1] = toByte(g);
    img[3 * p + 2] = toByte(b);
  }
}
