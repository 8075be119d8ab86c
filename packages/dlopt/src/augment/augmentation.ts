import type * as tf from '@tensorflow/tfjs-core';
import type { Random } from '../util/random.js';
import type { ImageBatch } from './image-batch.js';

/**
 * An augmentation of uint8 image batches, applied in place before the batch
 * becomes float. Draws all its randomness from `rng`, which the training loop
 * derives from the seed, the epoch and the batch: the same seed gives the same
 * augmented batches, also after a resume.
 */
export interface Augmentation {
  readonly name: string;
  apply(batch: ImageBatch, rng: Random): void;
}

/**
 * An augmentation of the float batch (values in [0, 1]) and its soft labels:
 * for what blends images (mixup) or adds noise. Returns the new images tensor
 * (the caller disposes the old one) and may rewrite `labels` in place.
 */
export interface FloatAugmentation {
  readonly name: string;
  applyFloat(images: tf.Tensor4D, labels: Float32Array, classes: number, rng: Random): tf.Tensor4D;
}
