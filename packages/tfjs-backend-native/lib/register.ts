import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { addon, addonError } from './addon.js';
import { NativeBackend } from './backend.js';
import {
  conv2D, conv2DBackpropFilter, conv2DBackpropFilterAct, conv2DBackpropInput, conv2DBackpropInputAct,
  CONV_BACKPROP_FILTER_ACT_KERNEL, CONV_BACKPROP_INPUT_ACT_KERNEL,
} from './kernels/conv2d.js';
import { BINARY_OPS, binaryKernel, eluGrad, reluGrad, UNARY_KERNEL_NAMES, unaryKernel } from './kernels/elementwise.js';
import type { KernelArgs, NativeKernel } from './kernels/kernel.js';
import { depthwiseConv2D, depthwiseConv2DBackpropFilter, depthwiseConv2DBackpropInput } from './kernels/depthwise.js';
import { batchMatMul } from './kernels/matmul.js';
import { fusedBatchNorm, padV2 } from './kernels/normalization.js';
import { avgPool, avgPoolGrad, MAX_POOL_GRAD_RELU_KERNEL, maxPool, maxPoolGrad, maxPoolGradRelu } from './kernels/pool.js';
import { argMax, reduceKernel, softmax, transpose } from './kernels/reduce.js';
import { slice, splitV } from './kernels/slice.js';
import { tile } from './kernels/tile.js';
import {
  BATCH_NORM_TRAIN_GRAD_KERNEL, BATCH_NORM_TRAIN_KERNEL, batchNormTrain, batchNormTrainGrad, CHANNEL_MOMENTS_KERNEL, channelMoments,
} from './kernels/batch-norm-training.js';
import { activationGrad, ACTIVATION_GRAD_KERNEL, adam, ADAM_KERNEL } from './kernels/training.js';

export const BACKEND_NAME = 'native';
/** Above the cpu backend's 1 (and webgl's 2), so tfjs picks it by default. */
export const BACKEND_PRIORITY = 3;

/** Kernels with a native implementation, by tfjs kernel name. */
export const NATIVE_KERNELS: Readonly<Record<string, NativeKernel>> = {
  Conv2D: conv2D,
  FusedConv2D: conv2D,
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  DepthwiseConv2dNative: depthwiseConv2D,
  FusedDepthwiseConv2D: depthwiseConv2D,
  DepthwiseConv2dNativeBackpropInput: depthwiseConv2DBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseConv2DBackpropFilter,
  FusedBatchNorm: fusedBatchNorm,
  PadV2: padV2,
  MaxPool: maxPool,
  AvgPool: avgPool,
  MaxPoolGrad: maxPoolGrad,
  AvgPoolGrad: avgPoolGrad,
  BatchMatMul: batchMatMul,
  _FusedMatMul: batchMatMul,
  Sum: reduceKernel(0),
  Max: reduceKernel(1),
  Min: reduceKernel(2),
  Mean: reduceKernel(0, true),
  ArgMax: argMax,
  Softmax: softmax,
  Transpose: transpose,
  Tile: tile,
  Slice: slice,
  SplitV: splitV,
  EluGrad: eluGrad,
  ...Object.fromEntries(Object.entries(BINARY_OPS).map(([name, op]) => [name, binaryKernel(op)])),
  ...Object.fromEntries(UNARY_KERNEL_NAMES.map((name) => [name, unaryKernel(name)])),
};

/** Kernels the cpu backend does not have, used by dlopt's fused paths. */
export const EXTRA_KERNELS: Readonly<Record<string, NativeKernel>> = {
  DloptReluGrad: reluGrad,
  DloptFusedConv2D: conv2D,
  [ADAM_KERNEL]: adam,
  [ACTIVATION_GRAD_KERNEL]: activationGrad,
  [CONV_BACKPROP_INPUT_ACT_KERNEL]: conv2DBackpropInputAct,
  [CONV_BACKPROP_FILTER_ACT_KERNEL]: conv2DBackpropFilterAct,
  [MAX_POOL_GRAD_RELU_KERNEL]: maxPoolGradRelu,
  [CHANNEL_MOMENTS_KERNEL]: channelMoments,
  [BATCH_NORM_TRAIN_KERNEL]: batchNormTrain,
  [BATCH_NORM_TRAIN_GRAD_KERNEL]: batchNormTrainGrad,
};

let registered = false;
let warned = false;

/**
 * Registers the `native` backend: tfjs's cpu backend with every kernel that
 * has a native version replaced (the rest are the cpu kernels themselves).
 * Returns false, after one warning, when the addon is unavailable.
 */
export function registerNativeBackend(): boolean {
  if (registered) return true;
  if (!addon) {
    if (!warned) {
      warned = true;
      const line = '='.repeat(78);
      console.warn(`${line}\n@dlopt/tfjs-backend-native is not active: ${addonError}\n` +
        `TensorFlow.js falls back to its JavaScript cpu backend, which is thousands of times slower.\n${line}`);
    }
    return false;
  }
  const native = addon;
  const wrap = (kernel: NativeKernel, fallback?: tf.KernelFunc): tf.KernelFunc => (args) =>
    kernel({
      args: args as KernelArgs,
      backend: args.backend as NativeBackend,
      addon: native,
      fallback: () => {
        if (!fallback) throw new Error('no cpu kernel to fall back on');
        return fallback(args);
      },
    });
  tf.registerBackend(BACKEND_NAME, () => new NativeBackend(), BACKEND_PRIORITY);
  for (const config of tf.getKernelsForBackend('cpu')) {
    const kernel = NATIVE_KERNELS[config.kernelName];
    tf.registerKernel({ ...config, backendName: BACKEND_NAME, kernelFunc: kernel ? wrap(kernel, config.kernelFunc) : config.kernelFunc });
  }
  for (const [kernelName, kernel] of Object.entries(EXTRA_KERNELS)) {
    tf.registerKernel({ kernelName, backendName: BACKEND_NAME, kernelFunc: wrap(kernel) });
  }
  registered = true;
  return true;
}
