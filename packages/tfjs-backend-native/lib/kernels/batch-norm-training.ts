import type { TensorInfo } from '@tensorflow/tfjs-core';
import { f32, type NativeKernel } from './kernel.js';

/** Kernel names of batch norm's training path (see batch-norm-fusion.ts): no cpu equivalents. */
export const CHANNEL_MOMENTS_KERNEL = 'DloptChannelMoments';
export const BATCH_NORM_TRAIN_KERNEL = 'DloptBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD_KERNEL = 'DloptBatchNormTrainGrad';

export interface BatchNormTrainAttrs {
  /** Per-channel batch mean and variance, as the moments kernel computed them. */
  mean: Float32Array;
  variance: Float32Array;
  varianceEpsilon: number;
}

/**
 * Mean and (biased) variance of every channel (the last axis) over all other
 * axes: inputs {x}, outputs [mean, variance]. The variance is the mean of
 * squared differences from the mean (a second pass), not E[x²] − E[x]²,
 * which cancels badly when the mean is large.
 */
export const channelMoments: NativeKernel = ({ args, backend, addon }) => {
  const { x } = args.inputs as { x: TensorInfo };
  const c = x.shape.at(-1)!;
  const values = f32(backend, x);
  const rows = values.length / c;
  const mean = backend.makeOutputFloat32([c]);
  const variance = backend.makeOutputFloat32([c]);
  addon.bnSums(values, null, null, null, mean.values, variance.values, rows, c);
  for (let k = 0; k < c; k++) mean.values[k]! /= rows;
  addon.bnSums(values, mean.values, null, null, new Float32Array(c), variance.values, rows, c);
  for (let k = 0; k < c; k++) variance.values[k]! /= rows;
  return [mean.info, variance.info];
};

/** y = (x − mean)/√(variance + ε)·scale + offset per channel: inputs {x, scale?, offset?}, output [y]. */
export const batchNormTrain: NativeKernel = ({ args, backend, addon }) => {
  const { x, scale, offset } = args.inputs as Record<string, TensorInfo | undefined>;
  const { mean, variance, varianceEpsilon } = args.attrs as unknown as BatchNormTrainAttrs;
  const c = x!.shape.at(-1)!;
  const out = backend.makeOutputFloat32(x!.shape);
  addon.batchNorm(
    f32(backend, x!), mean, variance, offset ? f32(backend, offset) : null, scale ? f32(backend, scale) : null,
    varianceEpsilon, out.values, out.values.length / c, c,
  );
  return out.info;
};

/**
 * The whole training-mode batch-norm gradient, through the batch mean and
 * variance as well: inputs {dy, x, scale}, outputs [dx, dScale, dOffset].
 * With s = 1/√(σ² + ε), x̂ = (x − μ)·s and M values per channel:
 *   dOffset = Σ dy,  dScale = Σ dy·x̂ = s·Σ dy·(x − μ),
 *   dx = γ·s·(dy − dOffset/M − x̂·dScale/M) = p·dy + q·x + r per channel.
 * Two threaded passes where tfjs's composed gradient (through moments,
 * batchNorm, Tile and broadcasting) takes about twenty.
 */
export const batchNormTrainGrad: NativeKernel = ({ args, backend, addon }) => {
  const { dy, x, scale } = args.inputs as Record<string, TensorInfo | undefined>;
  const { mean, variance, varianceEpsilon } = args.attrs as unknown as BatchNormTrainAttrs;
  const c = x!.shape.at(-1)!;
  const xs = f32(backend, x!);
  const dys = f32(backend, dy!);
  const rows = xs.length / c;
  const dScale = backend.makeOutputFloat32([c]);
  const dOffset = backend.makeOutputFloat32([c]);
  // dOffset = Σ dy and Σ dy·(x − μ) in one pass.
  addon.bnSums(dys, null, xs, mean, dOffset.values, dScale.values, rows, c);
  const g = f32(backend, scale!);
  const p = new Float32Array(c);
  const q = new Float32Array(c);
  const r = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const s = 1 / Math.sqrt(variance[k]! + varianceEpsilon);
    const dS = s * dScale.values[k]!;
    dScale.values[k] = dS;
    const gs = g[k]! * s;
    p[k] = gs;
    q[k] = (-gs * s * dS) / rows;
    r[k] = (-gs * dOffset.values[k]!) / rows - q[k]! * mean[k]!;
  }
  const dx = backend.makeOutputFloat32(x!.shape);
  addon.bnAffine2(dys, xs, p, q, r, dx.values, rows, c);
  return [dx.info, dScale.info, dOffset.info];
};
