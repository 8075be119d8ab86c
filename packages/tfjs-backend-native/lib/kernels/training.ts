import type { TensorInfo } from '@tensorflow/tfjs-core';
import { ACTIVATIONS, allFloat32, f32, sizeOf, type NativeKernel } from './kernel.js';

/** Kernel names of dlopt's training kernels (no cpu equivalents; see fusion.ts and optimizers.ts). */
export const ADAM_KERNEL = 'DloptAdam';
export const ACTIVATION_GRAD_KERNEL = 'DloptActivationGrad';

export interface AdamAttrs {
  /** lr, beta1, beta2, 1 - beta1, 1 - beta2, epsilon, 1 - beta1^t, 1 - beta2^t */
  params: number[];
}

/** One Adam step for one variable: inputs {w, m, v, g}, outputs [w', m', v']. */
export const adam: NativeKernel = ({ args, backend, addon }) => {
  const { w, m, v, g } = args.inputs as Record<string, TensorInfo>;
  if (!allFloat32(w, m, v, g)) throw new Error(`${ADAM_KERNEL} needs float32 tensors`);
  const { params } = args.attrs as unknown as AdamAttrs;
  const wOut = backend.makeOutputFloat32(w!.shape);
  const mOut = backend.makeOutputFloat32(w!.shape);
  const vOut = backend.makeOutputFloat32(w!.shape);
  addon.adam(f32(backend, w!), f32(backend, m!), f32(backend, v!), f32(backend, g!), wOut.values, mOut.values, vOut.values, Float64Array.from(params));
  return [wOut.info, mOut.info, vOut.info];
};

export interface ActivationGradAttrs {
  activation: string;
  leakyreluAlpha?: number;
  /** Also return the bias gradient: dx summed over every axis but the last. */
  biasGrad: boolean;
}

/**
 * Gradient through a fused activation, from its output y: inputs {dy, y},
 * outputs [dx] or [dx, dbias]. One pass over memory where tfjs's formulas
 * take three (Step, Cast, Multiply) plus a Sum for the bias.
 */
export const activationGrad: NativeKernel = ({ args, backend, addon }) => {
  const { dy, y } = args.inputs as Record<string, TensorInfo>;
  const attrs = args.attrs as unknown as ActivationGradAttrs;
  const act = ACTIVATIONS[attrs.activation];
  if (act === undefined || !allFloat32(dy, y)) throw new Error(`${ACTIVATION_GRAD_KERNEL}: unsupported activation ${attrs.activation}`);
  const c = dy!.shape.at(-1) ?? 1;
  const dx = backend.makeOutputFloat32(dy!.shape);
  const dbias = attrs.biasGrad ? backend.makeOutputFloat32([c]) : undefined;
  addon.actGrad(act, attrs.leakyreluAlpha ?? 0.2, f32(backend, dy!), f32(backend, y!), dx.values, dbias?.values ?? null, sizeOf(dy!.shape) / c, c);
  return dbias ? [dx.info, dbias.info] : [dx.info];
};
