import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAIN_GRAD_KERNEL, BATCH_NORM_TRAIN_KERNEL, CHANNEL_MOMENTS_KERNEL } from './kernels/batch-norm-training.js';
import { BACKEND_NAME } from './register.js';

/**
 * tfjs-core's module object as CommonJS code sees it (tfjs-layers looks ops
 * up on it at call time); the ESM namespace is a read-only snapshot.
 */
const core = createRequire(import.meta.url)('@tensorflow/tfjs-core') as Record<string, unknown>;

/** Batch moments computed by the native moments kernel: mean tensor → the input and variance it came with. */
const batchMoments = new WeakMap<Tensor, { x: Tensor; variance: Tensor }>();

type Moments = (x: Tensor, axis?: number | number[], keepDims?: boolean) => { mean: Tensor; variance: Tensor };
type BatchNorm = (x: Tensor, mean: Tensor, variance: Tensor, offset?: Tensor | null, scale?: Tensor | null, varianceEpsilon?: number) => Tensor;

const momentsGrad: GradConfig['gradFunc'] = (dys, saved) => {
  const [x, mean] = saved as [Tensor, Tensor];
  const [dMean, dVariance] = dys as (Tensor | undefined)[];
  const rows = x.size / x.shape.at(-1)!;
  return {
    x: () => {
      let dx = dMean ? tf.mul(tf.onesLike(x), tf.div(dMean, rows)) : tf.zerosLike(x);
      if (dVariance) dx = tf.add(dx, tf.mul(tf.sub(x, mean), tf.mul(dVariance, 2 / rows)));
      return dx;
    },
  };
};

const batchNormTrainGrad: GradConfig['gradFunc'] = (dy, saved, attrs) => {
  const [x, scale, offset] = saved as [Tensor, Tensor, Tensor];
  // One kernel for all three gradients, called here: each thunk runs in its own tidy scope.
  const [dx, dScale, dOffset] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD_KERNEL, { dy: dy as Tensor, x, scale }, attrs) as Tensor[];
  return { x: () => dx!, scale: () => tf.reshape(dScale!, scale.shape), offset: () => tf.reshape(dOffset!, offset.shape) };
};

/** Whether `t` is absent or one value per channel. */
function perChannel(t: Tensor | null | undefined, c: number): boolean {
  return t == null || (t instanceof tf.Tensor && t.dtype === 'float32' && t.size === c && t.shape.at(-1) === c);
}

let installed = false;

/**
 * Batch norm's training step as two kernels instead of about twenty. In
 * training, tfjs-layers' BatchNormalization computes tf.moments over every
 * axis but the channels and passes them to tf.batchNorm; tfjs differentiates
 * that composition op by op (Tile, broadcasting, several full passes each),
 * which cost more than the convolutions in a ResNet step. On the native
 * backend, moments over all axes but the last become one kernel (with its
 * own gradient, so any other use stays exact), and a batchNorm of x with
 * x's own batch moments becomes one kernel whose gradient is the closed-form
 * batch-norm gradient through the mean and variance. Anything else takes
 * tfjs's path unchanged.
 */
export function installBatchNormFusion(): void {
  if (installed) return;
  installed = true;
  tf.registerGradient({ kernelName: CHANNEL_MOMENTS_KERNEL, inputsToSave: ['x'], outputsToSave: [true, false], gradFunc: momentsGrad });
  tf.registerGradient({ kernelName: BATCH_NORM_TRAIN_KERNEL, inputsToSave: ['x', 'scale', 'offset'], gradFunc: batchNormTrainGrad });

  const moments = core.moments as Moments;
  core.moments = ((x: Tensor, axis?: number | number[], keepDims = false) => {
    if (tf.getBackend() !== BACKEND_NAME || keepDims || !(x instanceof tf.Tensor) || x.dtype !== 'float32' || x.rank < 2 || x.size === 0) {
      return moments(x, axis, keepDims);
    }
    const axes = tf.util.parseAxisParam(axis ?? [...Array(x.rank).keys()], x.shape).sort((a, b) => a - b);
    if (axes.length !== x.rank - 1 || axes.some((a, i) => a !== i)) return moments(x, axis, keepDims);
    const [mean, variance] = tf.engine().runKernel(CHANNEL_MOMENTS_KERNEL, { x }, {}) as Tensor[];
    batchMoments.set(mean!, { x, variance: variance! });
    return { mean: mean!, variance: variance! };
  }) as Moments;

  for (const name of ['batchNorm', 'batchNorm2d', 'batchNorm3d', 'batchNorm4d']) {
    const original = core[name] as BatchNorm;
    core[name] = ((x, mean, variance, offset, scale, varianceEpsilon = 0.001) => {
      const source = mean instanceof tf.Tensor ? batchMoments.get(mean) : undefined;
      const c = x instanceof tf.Tensor ? x.shape.at(-1)! : 0;
      if (!source || source.x !== x || source.variance !== variance || tf.getBackend() !== BACKEND_NAME || !perChannel(offset, c) || !perChannel(scale, c)) {
        return original(x, mean, variance, offset, scale, varianceEpsilon);
      }
      // Absent scale and offset become ones and zeros: every input of a kernel needs a gradient, and these are cheap.
      const inputs = { x, scale: scale ?? tf.ones([c]), offset: offset ?? tf.zeros([c]) };
      const attrs = { mean: Float32Array.from(mean.dataSync()), variance: Float32Array.from(variance.dataSync()), varianceEpsilon };
      return tf.engine().runKernel(BATCH_NORM_TRAIN_KERNEL, inputs, attrs as unknown as NamedAttrMap) as Tensor;
    }) as BatchNorm;
  }
}
