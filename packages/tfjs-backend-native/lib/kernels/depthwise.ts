import { backend_util } from '@tensorflow/tfjs-core';
import type {
  DepthwiseConv2dNativeAttrs, DepthwiseConv2dNativeBackpropFilterAttrs, DepthwiseConv2dNativeBackpropInputAttrs,
  FusedDepthwiseConv2DAttrs, TensorInfo,
} from '@tensorflow/tfjs-core';
import { convGeometry } from './geometry.js';
import { ACTIVATIONS, allFloat32, f32, isPerColumn, type NativeKernel } from './kernel.js';

type Shape4 = [number, number, number, number];

/** DepthwiseConv2dNative and FusedDepthwiseConv2D (bias + activation). NHWC only. */
export const depthwiseConv2D: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as FusedDepthwiseConv2DAttrs & DepthwiseConv2dNativeAttrs;
  const format = backend_util.convertConv2DDataFormat(attrs.dataFormat ?? 'NHWC');
  const act = ACTIVATIONS[attrs.activation ?? 'linear'];
  if (format !== 'channelsLast' || act === undefined || preluActivationWeights || !allFloat32(x, filter, bias)) return fallback();
  const info = backend_util.computeConv2DInfo(
    x!.shape as Shape4, filter!.shape as Shape4, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true, format,
  );
  if (bias && !isPerColumn(bias.shape, info.outChannels)) return fallback();
  const out = backend.makeOutputFloat32(info.outShape);
  addon.depthwiseConv2d(f32(backend, x!), f32(backend, filter!), bias ? f32(backend, bias) : null, out.values, convGeometry(info), act, attrs.leakyreluAlpha ?? 0.2);
  return out.info;
};

export const depthwiseConv2DBackpropInput: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { dy, filter } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  if (!allFloat32(dy, filter)) return fallback();
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape as Shape4, filter!.shape as Shape4, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true,
  );
  const out = backend.makeOutputFloat32(info.inShape);
  addon.depthwiseConv2dBackpropInput(f32(backend, dy!), f32(backend, filter!), out.values, convGeometry(info));
  return out.info;
};

export const depthwiseConv2DBackpropFilter: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { x, dy } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  if (!allFloat32(x, dy)) return fallback();
  const info = backend_util.computeConv2DInfo(
    x!.shape as Shape4, attrs.filterShape as Shape4, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true,
  );
  const out = backend.makeOutputFloat32(info.filterShape);
  addon.depthwiseConv2dBackpropFilter(f32(backend, x!), f32(backend, dy!), out.values, convGeometry(info));
  return out.info;
};
