import * as tf from '@tensorflow/tfjs-core';
import { imageSize, type ImageSet } from './image-set.js';

/** Pixel scale applied to every batch: uint8 [0, 255] → float [0, 1]. Saved with the model so users can reproduce it. */
export const PIXEL_SCALE = 1 / 255;

/**
 * The images at `indices` as a float32 NHWC tensor scaled to [0, 1] and their
 * labels one-hot. Conversion happens per batch so the dataset stays uint8.
 */
export function makeBatch(
  set: ImageSet,
  indices: ArrayLike<number>,
  numClasses: number,
): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const size = imageSize(set);
  const n = indices.length;
  const pixels = new Float32Array(n * size);
  const onehot = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    const j = indices[i]!;
    const src = set.images.subarray(j * size, (j + 1) * size);
    const base = i * size;
    for (let k = 0; k < size; k++) pixels[base + k] = src[k]! * PIXEL_SCALE;
    onehot[i * numClasses + set.labels[j]!] = 1;
  }
  return {
    x: tf.tensor4d(pixels, [n, set.height, set.width, set.channels], 'float32'),
    y: tf.tensor2d(onehot, [n, numClasses], 'float32'),
  };
}

/** Index ranges [start, end) covering 0..count in batches of batchSize (the last may be smaller). */
export function* batchRanges(count: number, batchSize: number): Generator<[number, number]> {
  for (let start = 0; start < count; start += batchSize) yield [start, Math.min(count, start + batchSize)];
}
