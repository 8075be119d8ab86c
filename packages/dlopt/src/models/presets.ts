import type * as tfl from '@tensorflow/tfjs-layers';
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

/** Builds a preset (uncompiled: train/compile.ts compiles it for training). */
export function createModel(name: string, options: ModelBuildOptions): tfl.LayersModel {
  return findPreset(name).build(options);
}
