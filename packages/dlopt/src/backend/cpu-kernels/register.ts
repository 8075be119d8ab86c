import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { makeConv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';

/** Kernels replaced, with the stock versions kept (tests use them as the oracle). */
const stock = new Map<string, tf.KernelConfig>();

/**
 * Replaces pathologically slow kernels of tfjs's `cpu` backend with
 * loop-based versions that compute the same result. Idempotent.
 */
export function patchCpuKernels(): void {
  if (stock.size > 0) return;
  const original = tf.getKernel(tf.Conv2DBackpropFilter, 'cpu');
  if (!original) return;
  stock.set(tf.Conv2DBackpropFilter, original);
  tf.unregisterKernel(tf.Conv2DBackpropFilter, 'cpu');
  tf.registerKernel({ ...original, kernelFunc: makeConv2dBackpropFilterKernel(original.kernelFunc) });
}

/** The stock cpu kernel that patchCpuKernels replaced. */
export function stockCpuKernel(name: string): tf.KernelConfig | undefined {
  return stock.get(name);
}
