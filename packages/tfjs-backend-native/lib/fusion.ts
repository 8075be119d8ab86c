import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { installBatchNormFusion } from './batch-norm-fusion.js';
import { BACKEND_NAME } from './register.js';
import { isPerColumn } from './kernels/kernel.js';
import { CONV_BACKPROP_FILTER_ACT_KERNEL, CONV_BACKPROP_INPUT_ACT_KERNEL } from './kernels/conv2d.js';

/** Kernel name of the trainable fused convolution (forward = native FusedConv2D). */
export const FUSED_CONV_KERNEL = 'DloptFusedConv2D';

const FUSABLE = new Set(['linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid']);

/** Data of fused conv outputs whose activation is relu. */
export const reluOutputs = new WeakSet<object>();
/**
 * Gradients (by data) that already went back through the relu producing the
 * tensor whose data is the value: a max-pool gradient can apply that relu's
 * derivative for free (see gradients.ts), and then the conv's gradient need
 * not read its output again.
 */
export const reluMaskedGrads = new WeakMap<object, object>();

interface FusedConvAttrs {
  dataFormat: 'NHWC';
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation: string;
  leakyreluAlpha?: number;
  hasBias: boolean;
  /** The bias's own shape ([k], or [1, …, 1, k]): its gradient must have it. */
  biasShape?: number[];
}

type FusedConv2dArgs = Parameters<typeof tf.fused.conv2d>[0];

/**
 * Gradient of conv + bias + activation, from the saved input, filter and
 * output. The activation's derivative is applied inside the two backward
 * convolutions (block by block, in cache) rather than as its own pass, and
 * the bias gradient comes out of the filter-gradient kernel. The input
 * gradient is a thunk, so the first layer's (never needed) is never computed.
 */
const fusedConvGrad: GradConfig['gradFunc'] = (dy, saved, attrs) => {
  const [x, filter, y] = saved as [Tensor, Tensor, Tensor];
  const a = attrs as unknown as FusedConvAttrs;
  const engine = tf.engine();
  // Already through the relu (a max pool's gradient did it): treat as linear, and skip reading y.
  const masked = a.activation === 'relu' && reluMaskedGrads.get((dy as Tensor).dataId) === y.dataId;
  const activation = masked ? 'linear' : a.activation;
  const common = {
    strides: a.strides, pad: a.pad, dilations: a.dilations, dimRoundingMode: a.dimRoundingMode,
    activation, leakyreluAlpha: a.leakyreluAlpha,
  };
  const withY = (inputs: Record<string, Tensor>) => (activation === 'linear' ? inputs : { ...inputs, y });
  // Filter and bias gradients come from one kernel call, made here rather than in a thunk: tfjs runs
  // each thunk in its own tidy scope, which would dispose the output the other thunk returns.
  const [dFilter, dBias] = engine.runKernel(
    CONV_BACKPROP_FILTER_ACT_KERNEL,
    withY({ x, dy: dy as Tensor }),
    { ...common, filterShape: filter.shape, biasGrad: a.hasBias } as unknown as NamedAttrMap,
  ) as Tensor[];
  const grads: Record<string, () => Tensor> = {
    x: () =>
      engine.runKernel(CONV_BACKPROP_INPUT_ACT_KERNEL, withY({ dy: dy as Tensor, filter }), { ...common, inputShape: x.shape } as unknown as NamedAttrMap) as Tensor,
    filter: () => dFilter!,
  };
  if (dBias) grads.bias = () => (a.biasShape && a.biasShape.length !== 1 ? tf.reshape(dBias, a.biasShape) : dBias);
  return grads;
};

function canFuse(args: FusedConv2dArgs): boolean {
  const x = args.x as Tensor;
  const filter = args.filter as Tensor;
  const bias = args.bias as Tensor | undefined;
  return (
    tf.getBackend() === BACKEND_NAME &&
    x instanceof tf.Tensor && filter instanceof tf.Tensor && x.rank === 4 && filter.rank === 4 &&
    x.dtype === 'float32' && filter.dtype === 'float32' &&
    (args.dataFormat === undefined || args.dataFormat === 'NHWC') &&
    FUSABLE.has(args.activation ?? 'linear') &&
    args.preluActivationWeights == null &&
    (bias == null || (bias instanceof tf.Tensor && bias.dtype === 'float32' && isPerColumn(bias.shape, filter.shape[3]!)))
  );
}

let installed = false;

/**
 * Gives training a fused path. tfjs-core turns off conv + bias + activation
 * fusion while a gradient tape is recording (its fused gradient only covers
 * some cases), so a Conv2D layer trains as three ops and three passes over
 * memory. On the native backend, tf.fused.conv2d (which tfjs-layers' Conv2D
 * calls) becomes one kernel with its own gradient. Other backends and unsupported cases take tfjs's
 * own path, unchanged; results are the same.
 */
export function installFusedOps(): void {
  if (installed) return;
  installed = true;
  installBatchNormFusion();
  tf.registerGradient({ kernelName: FUSED_CONV_KERNEL, inputsToSave: ['x', 'filter'], outputsToSave: [true], gradFunc: fusedConvGrad });

  const original = tf.fused.conv2d;
  const fused = tf.fused as { conv2d: typeof tf.fused.conv2d };
  fused.conv2d = ((args: FusedConv2dArgs) => {
    if (!canFuse(args)) return original(args);
    const inputs: Record<string, Tensor> = { x: args.x as Tensor, filter: args.filter as Tensor };
    if (args.bias != null) inputs.bias = args.bias as Tensor;
    const attrs: FusedConvAttrs = {
      dataFormat: 'NHWC',
      strides: args.strides, pad: args.pad as FusedConvAttrs['pad'], dilations: args.dilations ?? 1,
      activation: args.activation ?? 'linear', hasBias: args.bias != null,
      ...(args.bias != null && { biasShape: (args.bias as Tensor).shape }),
      ...(args.dimRoundingMode !== undefined && { dimRoundingMode: args.dimRoundingMode }),
      ...(args.leakyreluAlpha !== undefined && { leakyreluAlpha: args.leakyreluAlpha }),
    };
    const y = tf.engine().runKernel(FUSED_CONV_KERNEL, inputs, attrs as unknown as NamedAttrMap) as Tensor;
    if (attrs.activation === 'relu') reluOutputs.add(y.dataId);
    return y;
  }) as typeof tf.fused.conv2d;
}
