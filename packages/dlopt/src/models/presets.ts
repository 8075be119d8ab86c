import * as tfl from '@tensorflow/tfjs-layers';
import { UsageError } from '../errors.js';
import type { ModelBuildOptions, ModelPreset } from './preset.js';
import { buildResNetSmall } from './resnet-small.js';
import { buildSeedCnn } from './seed-cnn.js';
import { buildVggBn } from './vgg-bn.js';

export const PRESETS: readonly ModelPreset[] = [
  {
    name: 'seed-cnn',
    description: "the article's CIFAR-10 CNN: Conv32-Pool-Conv64-Pool-Dense, Adam, cross-entropy",
    defaultLearningRate: 1e-3,
    build: buildSeedCnn,
  },
  {
    name: 'vgg-bn',
    description: 'VGG-style CNN with batch norm: 3 stages of 2 conv3x3-BN-ReLU (32, 64, 128) + max pool, Dense(256), dropout 0.5',
    defaultLearningRate: 1e-3,
    build: (o) => buildVggBn(o),
  },
  {
    name: 'vgg-bn-reduced',
    description: 'vgg-bn with depthwise-separable convolutions and global average pooling instead of the dense layer',
    defaultLearningRate: 1e-3,
    build: (o) => buildVggBn(o, { head: 'gap', conv: 'separable' }),
  },
  {
    name: 'resnet-small',
    description: 'ResNet-20 for CIFAR (He et al. 2016): conv3x3, 3 stages of 3 basic blocks (16, 32, 64), global average pooling',
    defaultLearningRate: 1e-3,
    build: (o) => buildResNetSmall(o),
  },
  {
    name: 'resnet-small-reduced',
    description: 'resnet-small with depthwise-separable 3x3 convolutions in its blocks',
    defaultLearningRate: 1e-3,
    build: (o) =>
      buildResNetSmall(o, {
        name: 'resnet_small_reduced',
        conv3x3: ({ name, filters, strides, kernelInitializer }) =>
          tfl.layers.separableConv2d({
            name,
            filters,
            strides,
            kernelSize: 3,
            padding: 'same',
            useBias: false,
            depthwiseInitializer: kernelInitializer,
            pointwiseInitializer: kernelInitializer,
          }),
      }),
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
