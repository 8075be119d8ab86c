import type { KernelBackend, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
import type { NativeBackend } from '../backend.js';

export interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs?: NamedAttrMap;
}

/** What a native kernel gets: the call, the addon, and the stock cpu kernel to fall back on. */
export interface NativeCall {
  args: KernelArgs;
  backend: NativeBackend;
  addon: NativeAddon;
  fallback: () => TensorInfo | TensorInfo[];
}

/** A native kernel: handles the cases it supports and calls `fallback()` for the rest. */
export type NativeKernel = (call: NativeCall) => TensorInfo | TensorInfo[];

/**
 * The float32 values of a tensor, read in place. A few cpu kernels store a
 * float32 tensor's values in another array type; those are converted (and
 * the conversion kept, so it happens once).
 */
export function f32(backend: NativeBackend, t: TensorInfo): Float32Array {
  const entry = backend.data.get(t.dataId);
  const values = entry.values;
  if (values instanceof Float32Array) return values;
  const converted = Float32Array.from(values as ArrayLike<number>);
  entry.values = converted;
  return converted;
}

export function allFloat32(...tensors: (TensorInfo | undefined)[]): boolean {
  return tensors.every((t) => t === undefined || t.dtype === 'float32');
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Fused activations the addon implements (src/kernels.h `Act`). */
export const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, leakyrelu: 3, elu: 4, sigmoid: 5 };

/**
 * Whether a bias of this shape adds one value per output column (shape [n],
 * or [1, …, 1, n]): the only kind the fused native epilogues apply. A bias
 * with n elements along another axis broadcasts differently.
 */
export function isPerColumn(shape: readonly number[], n: number): boolean {
  return shape.length > 0 && shape.at(-1) === n && sizeOf(shape) === n;
}
