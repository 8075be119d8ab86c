import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelBuildOptions } from '../models/preset.js';
import { createModel, findPreset } from '../models/presets.js';
import { createOptimizer, type OptimizerSettings } from './optimizers/create-optimizer.js';

/**
 * Categorical cross-entropy against smoothed targets: y·(1 − ε) + ε/K
 * (Szegedy et al., 2016). Works with soft targets (mixup) too.
 */
export function smoothedCrossEntropy(smoothing: number): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor {
  if (!(smoothing >= 0 && smoothing < 1)) throw new RangeError(`label smoothing must be in [0, 1) but got ${smoothing}`);
  return (yTrue, yPred) =>
    tf.tidy(() => {
      const k = yTrue.shape.at(-1)!;
      return tfl.metrics.categoricalCrossentropy(tf.add(tf.mul(yTrue, 1 - smoothing), smoothing / k), yPred);
    });
}

/**
 * Compiles a classifier the way dlopt trains it: categorical cross-entropy
 * (with label smoothing when asked) on one-hot or soft targets, accuracy.
 */
export function compileClassifier(model: tfl.LayersModel, optimizer: tf.Optimizer, options: { labelSmoothing?: number } = {}): void {
  const smoothing = options.labelSmoothing ?? 0;
  model.compile({
    optimizer,
    loss: smoothing > 0 ? smoothedCrossEntropy(smoothing) : 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
}

/**
 * A preset built and compiled for training: Adam at the preset's learning
 * rate unless `optimizer` says otherwise.
 */
export function createClassifier(
  name: string,
  options: ModelBuildOptions & { optimizer?: Partial<OptimizerSettings>; labelSmoothing?: number },
): tfl.LayersModel {
  const preset = findPreset(name);
  const model = createModel(name, options);
  const optimizer = createOptimizer({ name: 'adam', learningRate: preset.defaultLearningRate, ...options.optimizer });
  compileClassifier(model, optimizer, options.labelSmoothing === undefined ? {} : { labelSmoothing: options.labelSmoothing });
  return model;
}
