import type * as tf from '@tensorflow/tfjs-core';
import { Random, deriveSeed } from '../util/random.js';
import type { Augmentation, FloatAugmentation } from './augmentation.js';
import type { ImageBatch } from './image-batch.js';

/**
 * The augmentations of a training run, in order: uint8 ones (geometry,
 * colour, cutout, cutmix) then float ones (mixup, noise). Each batch gets its
 * own random stream, derived from the seed, the epoch and the batch number,
 * so training is reproducible and a resumed run augments exactly as an
 * uninterrupted one.
 */
export class AugmentPipeline {
  constructor(
    readonly byteStage: readonly Augmentation[],
    readonly floatStage: readonly FloatAugmentation[] = [],
  ) {}

  get empty(): boolean {
    return this.byteStage.length === 0 && this.floatStage.length === 0;
  }

  /** The random stream for batch `batch` of epoch `epoch` (both 1-based as the loop counts them). */
  static random(seed: number, epoch: number, batch: number): Random {
    return new Random(deriveSeed(deriveSeed(seed ^ 0x41554721, epoch), batch));
  }

  applyBytes(batch: ImageBatch, rng: Random): void {
    for (const a of this.byteStage) a.apply(batch, rng);
  }

  /** Applies the float stage; disposes the input tensor when a stage replaces it. */
  applyFloat(images: tf.Tensor4D, batch: ImageBatch, rng: Random): tf.Tensor4D {
    let x = images;
    for (const a of this.floatStage) {
      const next = a.applyFloat(x, batch.labels, batch.classes, rng);
      if (next !== x) x.dispose();
      x = next;
    }
    return x;
  }

  describe(): string {
    return [...this.byteStage, ...this.floatStage].map((a) => a.name).join(' → ') || 'none';
  }
}
