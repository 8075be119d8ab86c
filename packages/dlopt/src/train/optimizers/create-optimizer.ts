import * as tf from '@tensorflow/tfjs-core';
import { createAdam } from '../../backend/optimizers.js';
import { TrainingOptimizer } from './training-optimizer.js';

export const OPTIMIZER_NAMES = ['adam', 'adamw', 'sgd', 'sgdw', 'momentum', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface OptimizerSettings {
  name: OptimizerName;
  learningRate: number;
  /** momentum and sgdw (default 0.9); rmsprop (default 0). */
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay; adamw defaults to 0.01 and sgdw to 5e-4, the others to 0. */
  weightDecay?: number;
  clipNorm?: number;
  clipValue?: number;
}

/**
 * The optimizer a model trains with: tfjs's (Adam natively on the native
 * backend) inside dlopt's TrainingOptimizer, which adds decoupled weight
 * decay, gradient clipping and schedulable learning rates. `sgd` is plain
 * (mini-batch) SGD; `adamw` and `sgdw` are Adam and momentum SGD with
 * decoupled weight decay (Loshchilov & Hutter).
 */
export function createOptimizer(s: OptimizerSettings): TrainingOptimizer {
  if (!(s.learningRate > 0)) throw new RangeError(`learning rate must be > 0 but got ${s.learningRate}`);
  let inner: tf.Optimizer;
  let weightDecay = s.weightDecay ?? 0;
  switch (s.name) {
    case 'adam':
    case 'adamw':
      inner = s.beta1 === undefined && s.beta2 === undefined && s.epsilon === undefined
        ? createAdam(s.learningRate)
        : tf.train.adam(s.learningRate, s.beta1 ?? 0.9, s.beta2 ?? 0.999, s.epsilon);
      if (s.name === 'adamw') weightDecay = s.weightDecay ?? 0.01;
      break;
    case 'sgd':
      inner = tf.train.sgd(s.learningRate);
      break;
    case 'momentum':
    case 'sgdw':
      inner = tf.train.momentum(s.learningRate, s.momentum ?? 0.9, s.nesterov ?? false);
      if (s.name === 'sgdw') weightDecay = s.weightDecay ?? 5e-4;
      break;
    case 'rmsprop':
      inner = tf.train.rmsprop(s.learningRate, 0.9, s.momentum ?? 0, s.epsilon);
      break;
    default:
      throw new RangeError(`unknown optimizer "${String(s.name)}"; choose one of ${OPTIMIZER_NAMES.join(', ')}`);
  }
  return new TrainingOptimizer(inner, {
    weightDecay,
    ...(s.clipNorm !== undefined && { clipNorm: s.clipNorm }),
    ...(s.clipValue !== undefined && { clipValue: s.clipValue }),
  });
}
