import * as tfl from '@tensorflow/tfjs-layers';
import { deriveSeed } from '../util/random.js';
import type { ModelBuildOptions } from './preset.js';

/**
 * The article's practice-case CNN, exactly as its Keras code:
 * Conv2D(32, 3×3, relu) → MaxPool(2×2) → Conv2D(64, 3×3, relu) → MaxPool(2×2)
 * → Flatten → Dense(classes, softmax). Keras defaults otherwise ('valid'
 * padding, Glorot-uniform kernels, zero biases); kernels are seeded so the
 * same seed gives the same initial weights, and layers are named so saved
 * models do not depend on how many models the process built before.
 */
export function buildSeedCnn({ inputShape, numClasses, seed }: ModelBuildOptions): tfl.LayersModel {
  const init = (layer: number) => tfl.initializers.glorotUniform({ seed: deriveSeed(seed, layer) });
  const model = tfl.sequential({ name: 'seed_cnn' });
  model.add(
    tfl.layers.conv2d({ name: 'conv1', inputShape: [...inputShape], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(0) }),
  );
  model.add(tfl.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
  model.add(tfl.layers.conv2d({ name: 'conv2', filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }));
  model.add(tfl.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }));
  model.add(tfl.layers.flatten({ name: 'flatten' }));
  model.add(tfl.layers.dense({ name: 'dense', units: numClasses, activation: 'softmax', kernelInitializer: init(2) }));
  return model;
}
