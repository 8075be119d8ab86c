import * as tf from '@tensorflow/tfjs-core';
import { nativeBackendModule } from '../backend/backend.js';
import type { ImageSet } from './image-set.js';

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
  const n = indices.length;
  const onehot = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) onehot[i * numClasses + set.labels[indices[i]!]!] = 1;
  return {
    x: pixelsToTensor(set.images, indices, [n, set.height, set.width, set.channels]),
    y: tf.tensor2d(onehot, [n, numClasses], 'float32'),
  };
}

/**
 * Images `indices` of a uint8 NHWC array (each shape[1..] bytes) as a float32
 * tensor of `shape` scaled by PIXEL_SCALE: in C++ into a recycled buffer on
 * the native backend, in JavaScript otherwise.
 */
export function pixelsToTensor(images: Uint8Array, indices: ArrayLike<number>, shape: [number, number, number, number]): tf.Tensor4D {
  const index = indices instanceof Uint32Array ? indices : Uint32Array.from(indices);
  const native = nativeBackendModule()?.imagesToTensor(images, index, shape, PIXEL_SCALE);
  if (native) return native as tf.Tensor4D;
  const size = shape[1] * shape[2] * shape[3];
  const pixels = new Float32Array(index.length * size);
  for (let i = 0; i < index.length; i++) {
    const src = images.subarray(index[i]! * size, (index[i]! + 1) * size);
    const base = i * size;
    for (let k = 0; k < size; k++) pixels[base + k] = src[k]! * PIXEL_SCALE;
  }
  return tf.tensor4d(pixels, shape, 'float32');
}

/** Index ranges [start, end) covering 0..count in batches of batchSize (the last may be smaller). */
export function* batchRanges(count: number, batchSize: number): Generator<[number, number]> {
  for (let start = 0; start < count; start += batchSize) yield [start, Math.min(count, start + batchSize)];
}
