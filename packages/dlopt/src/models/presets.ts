import type * as tfl from '@tensorflow/tfjs-layers';
import { createAdam } from '../backend/optimizers.js';
import { UsageError } from '../errors.js';
import type { ModelBuildOptions, ModelPreset } from './preset.js';
import { buildSeedCnn } from './seed-cnn.js';

export const PRESETS: readonly ModelPreset[] = [
  {
    name: 'seed-cnn',
    description: "the article's CIFAR-10 CNN: Conv32-Pool-Conv64-Pool-Dense, Adam, cross-entropy",
    defaultLearningRate: 1e-3,
    build: buildSeedCnn,
  },
];

export function findPreset(name: string): ModelPreset {
  const preset = PRESETS.find((p) => p.name === name);
  if (!preset) {
    throw new UsageError(`unknown model "${name}"; available: ${PRESETS.map((p) => p.name).join(', ')}`);
  }
  return preset;
}

/**
 * Compiles a model the way every preset is trained: categorical
 * cross-entropy on one-hot labels, Adam, accuracy.
 */
export function compileClassifier(model: tfl.LayersModel, learningRate: number): void {
  model.compile({ optimizer: createAdam(learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
}

/** Builds and compiles a preset. */
export function createModel(name: string, options: ModelBuildOptions & { learningRate?: number }): tfl.LayersModel {
  const preset = findPreset(name);
  const model = preset.build(options);
  compileClassifier(model, options.learningRate ?? preset.defaultLearningRate);
  return model;
}
