import { backend_util } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs, Conv2DBackpropInputAttrs, FusedConv2DAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry } from './geometry.js';
import { ACTIVATIONS, allFloat32, f32, isPerColumn, type NativeKernel } from './kernel.js';

type Shape4 = [number, number, number, number];

/** Conv2D and FusedConv2D (bias + activation applied as the GEMM result is stored). */
export const conv2D: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as FusedConv2DAttrs;
  const format = backend_util.convertConv2DDataFormat(attrs.dataFormat);
  const act = ACTIVATIONS[attrs.activation ?? 'linear'];
  if (format !== 'channelsLast' || act === undefined || preluActivationWeights || !allFloat32(x, filter, bias)) return fallback();
  const info = backend_util.computeConv2DInfo(
    x!.shape as Shape4, filter!.shape as Shape4, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, format,
  );
  if (bias && !isPerColumn(bias.shape, info.outChannels)) return fallback();
  const out = backend.makeOutputFloat32(info.outShape);
  addon.conv2d(f32(backend, x!), f32(backend, filter!), bias ? f32(backend, bias) : null, out.values, convGeometry(info), act, attrs.leakyreluAlpha ?? 0.2);
  return out.info;
};

export const conv2DBackpropInput: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { dy, filter } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs & { dilations?: number | [number, number] };
  const format = backend_util.convertConv2DDataFormat(attrs.dataFormat);
  if (format !== 'channelsLast' || !allFloat32(dy, filter)) return fallback();
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape as Shape4, filter!.shape as Shape4, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, false, format,
  );
  const out = backend.makeOutputFloat32(info.inShape);
  addon.conv2dBackpropInput(f32(backend, dy!), f32(backend, filter!), out.values, convGeometry(info));
  return out.info;
};

export const conv2DBackpropFilter: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { x, dy } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };
  const format = backend_util.convertConv2DDataFormat(attrs.dataFormat);
  if (format !== 'channelsLast' || !allFloat32(x, dy)) return fallback();
  const info = backend_util.computeConv2DInfo(
    x!.shape as Shape4, attrs.filterShape as Shape4, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, false, format,
  );
  const out = backend.makeOutputFloat32(info.filterShape);
  addon.conv2dBackpropFilter(f32(backend, x!), f32(backend, dy!), out.values, convGeometry(info));
  return out.info;
};

export const CONV_BACKPROP_INPUT_ACT_KERNEL = 'DloptConv2DBackpropInputAct';
export const CONV_BACKPROP_FILTER_ACT_KERNEL = 'DloptConv2DBackpropFilterAct';

export interface ConvBackpropActAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation: string;
  leakyreluAlpha?: number;
  inputShape?: number[];
  filterShape?: number[];
  biasGrad?: boolean;
}

function actInfo(attrs: ConvBackpropActAttrs): [number, number] {
  const act = ACTIVATIONS[attrs.activation];
  if (act === undefined) throw new Error(`unsupported activation ${attrs.activation}`);
  return [act, attrs.leakyreluAlpha ?? 0.2];
}

/**
 * Input gradient of act(conv2d(x, filter) + bias) from dy and the saved output
 * y: {dy, y, filter} → dx. act'(y) is applied to dy block by block, in cache,
 * instead of as a separate pass over memory. Without y (or with activation
 * 'linear'), dy is used as it is.
 */
export const conv2DBackpropInputAct: NativeKernel = ({ args, backend, addon }) => {
  const { dy, y, filter } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as unknown as ConvBackpropActAttrs;
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape as Shape4, filter!.shape as Shape4, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast',
  );
  const [act, alpha] = actInfo(attrs);
  const out = backend.makeOutputFloat32(info.inShape);
  addon.conv2dBackpropInput(f32(backend, dy!), f32(backend, filter!), out.values, convGeometry(info), y ? f32(backend, y) : null, act, alpha);
  return out.info;
};

/** Filter (and bias) gradient of act(conv2d(x, filter) + bias): {x, dy, y} → [dw] or [dw, dbias]. */
export const conv2DBackpropFilterAct: NativeKernel = ({ args, backend, addon }) => {
  const { x, dy, y } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as unknown as ConvBackpropActAttrs;
  const info = backend_util.computeConv2DInfo(
    x!.shape as Shape4, attrs.filterShape as Shape4, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast',
  );
  const [act, alpha] = actInfo(attrs);
  const dw = backend.makeOutputFloat32(info.filterShape);
  const dbias = attrs.biasGrad ? backend.makeOutputFloat32([info.outChannels]) : undefined;
  addon.conv2dBackpropFilter(f32(backend, x!), f32(backend, dy!), dw.values, convGeometry(info), y ? f32(backend, y) : null, act, alpha, dbias?.values ?? null);
  return dbias ? [dw.info, dbias.info] : [dw.info];
};
