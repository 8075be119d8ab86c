import { backend_util } from '@tensorflow/tfjs-core';
import type { AvgPoolAttrs, AvgPoolGradAttrs, MaxPoolAttrs, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { poolGeometry } from './geometry.js';
import { allFloat32, f32, type NativeKernel } from './kernel.js';

type Shape4 = [number, number, number, number];

function poolInfo(x: TensorInfo, attrs: MaxPoolAttrs | AvgPoolAttrs): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(x.shape as Shape4, attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
}

export const maxPool: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { x } = args.inputs as { x: TensorInfo };
  if (!allFloat32(x) || x.shape.length !== 4) return fallback();
  const info = poolInfo(x, args.attrs as unknown as MaxPoolAttrs);
  const out = backend.makeOutputFloat32(info.outShape);
  addon.maxPool(f32(backend, x), out.values, poolGeometry(info));
  return out.info;
};

export const avgPool: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { x } = args.inputs as { x: TensorInfo };
  if (!allFloat32(x) || x.shape.length !== 4) return fallback();
  const info = poolInfo(x, args.attrs as unknown as AvgPoolAttrs);
  const out = backend.makeOutputFloat32(info.outShape);
  addon.avgPool(f32(backend, x), out.values, poolGeometry(info));
  return out.info;
};

/** Gradient of MaxPool: tfjs passes the pooled input; the maximum's position is recomputed from it. */
export const maxPoolGrad: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  if (!allFloat32(dy, input) || input.shape.length !== 4) return fallback();
  const info = poolInfo(input, args.attrs as unknown as MaxPoolGradAttrs);
  const out = backend.makeOutputFloat32(input.shape);
  addon.maxPoolGrad(f32(backend, input), f32(backend, dy), out.values, poolGeometry(info));
  return out.info;
};

/**
 * Gradient of AvgPool. Unlike tfjs's cpu kernel (which divides by the full
 * window size even where 'same' padding leaves fewer positions inside the
 * image), each position gets dy divided by the count the forward pass used.
 */
export const avgPoolGrad: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  if (!allFloat32(dy, input) || input.shape.length !== 4) return fallback();
  const info = poolInfo(input, args.attrs as unknown as AvgPoolGradAttrs);
  const out = backend.makeOutputFloat32(input.shape);
  addon.avgPoolGrad(f32(backend, dy), out.values, poolGeometry(info));
  return out.info;
};

export const MAX_POOL_GRAD_RELU_KERNEL = 'DloptMaxPoolGradRelu';

/**
 * MaxPoolGrad followed by the gradient of the relu that produced the pooled
 * input, in one pass: inputs {dy, input} (input = relu output), MaxPoolGrad's
 * attributes. See gradients.ts for when it is used.
 */
export const maxPoolGradRelu: NativeKernel = ({ args, backend, addon }) => {
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const info = poolInfo(input, args.attrs as unknown as MaxPoolGradAttrs);
  const out = backend.makeOutputFloat32(input.shape);
  addon.maxPoolGrad(f32(backend, input), f32(backend, dy), out.values, poolGeometry(info), true);
  return out.info;
};
