/**
 * @dlopt/tfjs-backend-native: importing this module registers a TensorFlow.js
 * backend named `native` (priority above `cpu`), whose hot kernels run in C++
 * (SGEMM-based convolutions, pooling, elementwise ops, reductions) across a
 * persistent thread pool. Everything else is tfjs's cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import { addon, addonError } from './addon.js';
import type { NativeBackend } from './backend.js';
import { installFusedOps } from './fusion.js';
import { installGradients } from './gradients.js';
import { BACKEND_NAME, NATIVE_KERNELS, registerNativeBackend } from './register.js';

export { NativeBackend } from './backend.js';
export { NativeAdam } from './optimizers.js';
export { BACKEND_NAME };

const active = registerNativeBackend();
if (active) installGradients();
if (active && process.env.DLOPT_NATIVE_FUSION !== '0') installFusedOps();

export interface NativeBackendInfo {
  /** Whether the addon loaded and the backend is registered. */
  available: boolean;
  /** Why not, when it is unavailable. */
  error?: string;
  /** Kernel set in use: "avx512", "avx2" or "generic". */
  isa?: string;
  /** Kernel sets this CPU can run, fastest first. */
  isas?: string[];
  /** Threads the kernels use (DLOPT_NUM_THREADS overrides). */
  threads?: number;
  /** tfjs kernels with native implementations. */
  kernels: string[];
}

export function nativeBackendInfo(): NativeBackendInfo {
  const kernels = Object.keys(NATIVE_KERNELS).sort();
  if (!active || !addon) return { available: false, ...(addonError && { error: addonError }), kernels };
  return { available: true, isa: addon.isa(), isas: addon.availableIsas(), threads: addon.numThreads(), kernels };
}

/**
 * Switches the kernel set ("avx512", "avx2", "generic"), e.g. to compare them;
 * DLOPT_NATIVE_ISA does the same at load time. Returns false if this CPU cannot run it.
 */
export function setIsa(name: string): boolean {
  return addon ? addon.selectIsa(name) : false;
}

/**
 * A float32 tensor of images gathered from a uint8 dataset and scaled (e.g.
 * by 1/255): rows `index` of `images` (each `shape[1..]` bytes). Converted in
 * native code into a recycled buffer; undefined when the native backend is
 * not the active one, so callers keep their own conversion for that case.
 */
export function imagesToTensor(images: Uint8Array, index: Uint32Array, shape: number[], scale: number): tf.Tensor | undefined {
  if (!addon || tf.getBackend() !== BACKEND_NAME) return undefined;
  const size = shape.slice(1).reduce((a, b) => a * b, 1);
  // Checked before the output exists, so a bad call leaves nothing behind.
  if (shape[0] !== index.length) throw new RangeError(`imagesToTensor: shape[0] is ${shape[0]} but there are ${index.length} indices`);
  const count = size > 0 ? Math.floor(images.length / size) : 0;
  for (const i of index) if (i >= count) throw new RangeError(`imagesToTensor: index ${i} out of range (${count} images)`);
  const backend = tf.backend() as NativeBackend;
  const out = backend.makeOutputFloat32(shape);
  addon.gatherU8(images, index, size, scale, out.values);
  return tf.engine().makeTensorFromTensorInfo(out.info);
}
