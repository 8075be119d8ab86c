import type { ImageSet } from '../data/image-set.js';
import { imageSize } from '../data/image-set.js';

/**
 * A training batch while it is augmented: uint8 NHWC images (a copy, so
 * augmentations work in place) and labels as class probabilities (soft
 * targets: one-hot until mixup or cutmix blends them).
 */
export interface ImageBatch {
  images: Uint8Array;
  /** count × classes probabilities. */
  labels: Float32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classes: number;
}

/** Copies the images at `indices` out of a dataset, with one-hot labels. */
export function gatherBatch(set: ImageSet, indices: ArrayLike<number>, classes: number): ImageBatch {
  const size = imageSize(set);
  const count = indices.length;
  const images = new Uint8Array(count * size);
  const labels = new Float32Array(count * classes);
  for (let i = 0; i < count; i++) {
    const j = indices[i]!;
    images.set(set.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i * classes + set.labels[j]!] = 1;
  }
  return { images, labels, count, height: set.height, width: set.width, channels: set.channels, classes };
}

