import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeAddon } from '../addon.js';
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

// Addon op codes (src/kernels.h): reduce kind 0 sums; binary ops.
const SUM = 0;
const ADD = 0;
const MULTIPLY = 2;
const SQUARED_DIFFERENCE = 7;

/** Elementwise a ∘ b over [rows, c], b either the same shape or one row (a per-channel vector). */
function rowsOp(addon: NativeAddon, op: number, a: Float32Array, b: Float32Array, out: Float32Array, rows: number, c: number): void {
  const perChannel = b.length === c && a.length !== c;
  addon.binary(op, a, b, out, Int32Array.from([rows, c]), Int32Array.from([c, 1]), Int32Array.from(perChannel ? [0, 1] : [c, 1]));
}

/** Sum of every channel over the rows of a [rows, c] array. */
function channelSums(addon: NativeAddon, x: Float32Array, rows: number, c: number): Float32Array {
  const out = new Float32Array(c);
  addon.reduce(SUM, x, out, 1, rows, c);
  return out;
}

/**
 * Mean and (biased) variance of every channel (the last axis) over all other
 * axes: inputs {x}, outputs [mean, variance]. The variance is the mean of
 * squared differences from the mean (two passes), not E[x²] − E[x]², which
 * cancels badly when the mean is large.
 */
export const channelMoments: NativeKernel = ({ args, backend, addon }) => {
  const { x } = args.inputs as { x: TensorInfo };
  const c = x.shape.at(-1)!;
  const values = f32(backend, x);
  const rows = values.length / c;
  const mean = backend.makeOutputFloat32([c]);
  mean.values.set(channelSums(addon, values, rows, c).map((s) => s / rows));
  const squares = new Float32Array(values.length);
  rowsOp(addon, SQUARED_DIFFERENCE, values, mean.values, squares, rows, c);
  const variance = backend.makeOutputFloat32([c]);
  variance.values.set(channelSums(addon, squares, rows, c).map((s) => s / rows));
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
 *   dOffset = Σ dy,  dScale = Σ dy·x̂ = s·(Σ dy·x − μ·Σ dy),
 *   dx = γ·s·(dy − dOffset/M − x̂·dScale/M) = p·dy + q·x + r per channel.
 * Six threaded passes where tfjs's composed gradient (through moments,
 * batchNorm, Tile and broadcasting) takes about twenty.
 */
export const batchNormTrainGrad: NativeKernel = ({ args, backend, addon }) => {
  const { dy, x, scale } = args.inputs as Record<string, TensorInfo | undefined>;
  const { mean, variance, varianceEpsilon } = args.attrs as unknown as BatchNormTrainAttrs;
  const c = x!.shape.at(-1)!;
  const xs = f32(backend, x!);
  const dys = f32(backend, dy!);
  const rows = xs.length / c;
  const sumDy = channelSums(addon, dys, rows, c);
  const temp = new Float32Array(xs.length);
  rowsOp(addon, MULTIPLY, dys, xs, temp, rows, c);
  const sumDyX = channelSums(addon, temp, rows, c);

  const dScale = backend.makeOutputFloat32([c]);
  const dOffset = backend.makeOutputFloat32([c]);
  const g = f32(backend, scale!);
  const p = new Float32Array(c);
  const q = new Float32Array(c);
  const r = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const s = 1 / Math.sqrt(variance[k]! + varianceEpsilon);
    const dS = s * (sumDyX[k]! - mean[k]! * sumDy[k]!);
    dScale.values[k] = dS;
    dOffset.values[k] = sumDy[k]!;
    const gs = g[k]! * s;
    p[k] = gs;
    q[k] = (-gs * s * dS) / rows;
    r[k] = (-gs * sumDy[k]!) / rows - q[k]! * mean[k]!;
  }
  // q·x + r through the batch-norm kernel (mean 0, variance 1, ε 0: an exact affine map), then + p·dy.
  const dx = backend.makeOutputFloat32(x!.shape);
  addon.batchNorm(xs, new Float32Array(c), new Float32Array(c).fill(1), r, q, 0, dx.values, rows, c);
  rowsOp(addon, MULTIPLY, dys, p, temp, rows, c);
  rowsOp(addon, ADD, temp, dx.values, dx.values, rows, c);
  return [dx.info, dScale.info, dOffset.info];
};
