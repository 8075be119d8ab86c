import * as tfl from '@tensorflow/tfjs-layers';
import type { Regularization } from './preset.js';

type KernelOptions = {
  kernelRegularizer?: ReturnType<typeof tfl.regularizers.l1l2>;
  kernelConstraint?: ReturnType<typeof tfl.constraints.maxNorm>;
};

/**
 * Layer options that apply a regularization setting to a kernel: an L1/L2
 * penalty (tfjs-layers adds it to the loss) and a max-norm constraint over
 * each output unit's incoming weights (axes of the kernel but the last).
 */
export function kernelOptions(r: Regularization | undefined, kernelRank: 2 | 4): KernelOptions {
  const out: KernelOptions = {};
  if (!r) return out;
  if ((r.l1 ?? 0) > 0 || (r.l2 ?? 0) > 0) out.kernelRegularizer = tfl.regularizers.l1l2({ l1: r.l1 ?? 0, l2: r.l2 ?? 0 });
  if (r.maxNorm !== undefined) {
    // tfjs's MaxNorm sums over `axis` with tf.sum, which takes a list; its typing says number only.
    const axis = (kernelRank === 4 ? [0, 1, 2] : 0) as number;
    out.kernelConstraint = tfl.constraints.maxNorm({ maxValue: r.maxNorm, axis });
  }
  return out;
}
