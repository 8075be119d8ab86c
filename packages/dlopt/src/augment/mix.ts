import * as tf from '@tensorflow/tfjs-core';
import type { Random } from '../util/random.js';
import type { Augmentation, FloatAugmentation } from './augmentation.js';
import type { ImageBatch } from './image-batch.js';

/** Blends each row of `labels` with row perm[i]: λ·own + (1−λ)·partner's. */
function mixLabels(labels: Float32Array, classes: number, perm: Uint32Array, lambda: number | Float32Array): void {
  const old = labels.slice();
  for (let i = 0; i < perm.length; i++) {
    const l = typeof lambda === 'number' ? lambda : lambda[i]!;
    for (let k = 0; k < classes; k++) {
      labels[i * classes + k] = l * old[i * classes + k]! + (1 - l) * old[perm[i]! * classes + k]!;
    }
  }
}

/**
 * Mixup (Zhang et al., 2018): the batch is blended with a shuffled copy of
 * itself, images and labels alike, with one λ ~ Beta(α, α) per batch.
 */
export class Mixup implements FloatAugmentation {
  readonly name = 'mixup';
  constructor(readonly alpha = 0.2) {
    if (!(alpha > 0)) throw new RangeError(`mixup: alpha must be > 0 but got ${alpha}`);
  }

  applyFloat(images: tf.Tensor4D, labels: Float32Array, classes: number, rng: Random): tf.Tensor4D {
    const lambda = rng.beta(this.alpha, this.alpha);
    const perm = rng.permutation(images.shape[0]);
    mixLabels(labels, classes, perm, lambda);
    return tf.tidy(() => tf.add(tf.mul(images, lambda), tf.mul(tf.gather(images, Array.from(perm)), 1 - lambda)));
  }
}

/**
 * CutMix (Yun et al., 2019): with probability `p`, a box covering a
 * fraction 1 − λ (λ ~ Beta(α, α)) of each image is replaced by the same box
 * of a shuffled partner; labels mix by the box's exact area.
 */
export class CutMix implements Augmentation {
  readonly name = 'cutmix';
  constructor(
    readonly alpha = 1,
    readonly p = 0.5,
  ) {
    if (!(alpha > 0)) throw new RangeError(`cutmix: alpha must be > 0 but got ${alpha}`);
    if (!(p >= 0 && p <= 1)) throw new RangeError(`cutmix: p must be in [0, 1] but got ${p}`);
  }

  apply(batch: ImageBatch, rng: Random): void {
    if (rng.next() >= this.p) return;
    const { height: h, width: w, channels: c } = batch;
    const lambda = rng.beta(this.alpha, this.alpha);
    const perm = rng.permutation(batch.count);
    const cut = Math.sqrt(1 - lambda);
    const bh = Math.round(h * cut);
    const bw = Math.round(w * cut);
    const cy = rng.int(h);
    const cx = rng.int(w);
    const y0 = Math.max(0, cy - (bh >> 1));
    const y1 = Math.min(h, cy - (bh >> 1) + bh);
    const x0 = Math.max(0, cx - (bw >> 1));
    const x1 = Math.min(w, cx - (bw >> 1) + bw);
    const source = batch.images.slice();
    const size = h * w * c;
    for (let i = 0; i < batch.count; i++) {
      const from = perm[i]! * size;
      for (let y = y0; y < y1; y++) {
        const row = (y * w + x0) * c;
        batch.images.set(source.subarray(from + row, from + row + (x1 - x0) * c), i * size + row);
      }
    }
    mixLabels(batch.labels, batch.classes, perm, 1 - ((y1 - y0) * (x1 - x0)) / (h * w));
  }
}

/** Gaussian noise of standard deviation `std` added to the float images (values in [0, 1]). */
export class GaussianNoise implements FloatAugmentation {
  readonly name = 'noise';
  constructor(readonly std = 0.03) {
    if (!(std > 0)) throw new RangeError(`noise: std must be > 0 but got ${std}`);
  }

  applyFloat(images: tf.Tensor4D, _labels: Float32Array, _classes: number, rng: Random): tf.Tensor4D {
    const seed = rng.int(2 ** 31);
    return tf.tidy(() => tf.add(images, tf.randomNormal(images.shape, 0, this.std, 'float32', seed)));
  }
}
