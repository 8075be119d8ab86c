import * as tf from '@tensorflow/tfjs-core';
import { nativeBackendModule } from '../backend/backend.js';
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
  const shape: [number, number, number, number] = [n, set.height, set.width, set.channels];
  const onehot = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) onehot[i * numClasses + set.labels[indices[i]!]!] = 1;
  const y = tf.tensor2d(onehot, [n, numClasses], 'float32');
  // The native backend converts the pixels in C++ into a recycled buffer; JavaScript otherwise.
  const index = indices instanceof Uint32Array ? indices : Uint32Array.from(indices);
  const native = nativeBackendModule()?.imagesToTensor(set.images, index, shape, PIXEL_SCALE);
  if (native) return { x: native as tf.Tensor4D, y };
  const pixels = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    const j = indices[i]!;
    const src = set.images.subarray(j * size, (j + 1) * size);
    const base = i * size;
    for (let k = 0; k < size; k++) pixels[base + k] = src[k]! * PIXEL_SCALE;
  }
  return { x: tf.tensor4d(pixels, shape, 'float32'), y };
}

/** Index ranges [start, end) covering 0..count in batches of batchSize (the last may be smaller). */
export function* batchRanges(count: number, batchSize: number): Generator<[number, number]> {
  for (let start = 0; start < count; start += batchSize) yield [start, Math.min(count, start + batchSize)];
}
