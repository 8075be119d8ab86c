import type { FusedBatchNormAttrs, PadV2Attrs, TensorInfo } from '@tensorflow/tfjs-core';
import { allFloat32, f32, sizeOf, type NativeKernel } from './kernel.js';

/**
 * FusedBatchNorm (the inference formula, also what batch norm's training path
 * calls with batch moments): parameters must be per channel (the last axis)
 * or scalars; other broadcasts fall back to the cpu kernel.
 */
export const fusedBatchNorm: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
  const { varianceEpsilon } = args.attrs as unknown as FusedBatchNormAttrs;
  if (!x || !mean || !variance || !allFloat32(x, mean, variance, offset, scale) || x.shape.length === 0) return fallback();
  const c = x.shape.at(-1)!;
  const perChannel = (t: TensorInfo | undefined) => !t || sizeOf(t.shape) === 1 || (sizeOf(t.shape) === c && t.shape.at(-1) === c);
  if (c === 0 || ![mean, variance, offset, scale].every(perChannel)) return fallback();
  const out = backend.makeOutputFloat32(x.shape);
  addon.batchNorm(
    f32(backend, x), f32(backend, mean), f32(backend, variance), offset ? f32(backend, offset) : null, scale ? f32(backend, scale) : null,
    varianceEpsilon, out.values, sizeOf(x.shape) / c, c,
  );
  return out.info;
};

/** PadV2 (constant padding). */
export const padV2: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { paddings, constantValue } = args.attrs as unknown as PadV2Attrs;
  if (!allFloat32(x) || x.shape.length === 0 || x.shape.length > 6) return fallback();
  const out = backend.makeOutputFloat32(x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]));
  if (out.values.length > 0) {
    addon.pad(
      f32(backend, x), out.values, Int32Array.from(x.shape),
      Int32Array.from(paddings.map((p) => p[0])), Int32Array.from(paddings.map((p) => p[1])), constantValue,
    );
  }
  return out.info;
};
