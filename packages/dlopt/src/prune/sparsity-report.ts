import type * as tfl from '@tensorflow/tfjs-layers';
import { prunableKernels } from './prunable-kernels.js';

/** Exact zeros in one kernel. */
export interface LayerSparsity {
  layer: string;
  /** The weight's name in model.json (e.g. `conv1/kernel`). */
  weight: string;
  size: number;
  zeros: number;
}

export interface WeightSparsity {
  /** One entry per prunable kernel, in model order. */
  layers: LayerSparsity[];
  prunableSize: number;
  prunableZeros: number;
  /** All weights, biases and batch-norm statistics included (Keras's "Total params"). */
  totalParams: number;
  nonzeroParams: number;
}

/**
 * How sparse a model really is, counted from its weights (−0 counts as zero):
 * what a pruning run reports, and a check that nothing undid the pruning.
 */
export function weightSparsity(model: tfl.LayersModel): WeightSparsity {
  const layers = prunableKernels(model).map((k) => ({
    layer: k.layer,
    weight: k.name,
    size: k.size,
    zeros: countZeros(k.weight.read().dataSync()),
  }));
  let totalParams = 0;
  let zeros = 0;
  for (const w of model.weights) {
    const values = w.read().dataSync();
    totalParams += values.length;
    zeros += countZeros(values);
  }
  return {
    layers,
    prunableSize: layers.reduce((n, l) => n + l.size, 0),
    prunableZeros: layers.reduce((n, l) => n + l.zeros, 0),
    totalParams,
    nonzeroParams: totalParams - zeros,
  };
}

/** Exact zeros among values (both signs). */
export function countZeros(values: ArrayLike<number>): number {
  let zeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
  return zeros;
}
