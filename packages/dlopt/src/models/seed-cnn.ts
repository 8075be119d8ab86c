import * as tfl from '@tensorflow/tfjs-layers';
import { SpatialDropout2D } from '../layers/spatial-dropout2d.js';
import { deriveSeed } from '../util/random.js';
import { kernelOptions } from './regularization.js';
import type { ModelBuildOptions } from './preset.js';

/**
 * The article's practice-case CNN, exactly as its Keras code:
 * Conv2D(32, 3×3, relu) → MaxPool(2×2) → Conv2D(64, 3×3, relu) → MaxPool(2×2)
 * → Flatten → Dense(classes, softmax). Keras defaults otherwise ('valid'
 * padding, Glorot-uniform kernels, zero biases). Regularization options add
 * penalties and constraints to its kernels, and dropout (off by default)
 * before the classifier. Kernels are seeded so the
 * same seed gives the same initial weights, and layers are named so saved
 * models do not depend on how many models the process built before.
 */
export function buildSeedCnn({ inputShape, numClasses, seed, regularization }: ModelBuildOptions): tfl.LayersModel {
  const init = (layer: number) => tfl.initializers.glorotUniform({ seed: deriveSeed(seed, layer) });
  const conv = kernelOptions(regularization, 4);
  const dense = kernelOptions(regularization, 2);
  const model = tfl.sequential({ name: 'seed_cnn' });
  model.add(
    tfl.layers.conv2d({ name: 'conv1', inputShape: [...inputShape], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(0), ...conv }),
  );
  model.add(tfl.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
  const spatial = regularization?.spatialDropout ?? 0;
  if (spatial > 0) model.add(new SpatialDropout2D({ name: 'spatial_dropout1', rate: spatial }));
  model.add(tfl.layers.conv2d({ name: 'conv2', filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(1), ...conv }));
  model.add(tfl.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }));
  if (spatial > 0) model.add(new SpatialDropout2D({ name: 'spatial_dropout2', rate: spatial }));
  model.add(tfl.layers.flatten({ name: 'flatten' }));
  // Not in the article's model: only when dropout is asked for.
  if ((regularization?.dropout ?? 0) > 0) model.add(tfl.layers.dropout({ name: 'dropout', rate: regularization!.dropout! }));
  model.add(tfl.layers.dense({ name: 'dense', units: numClasses, activation: 'softmax', kernelInitializer: init(2), ...dense }));
  return model;
}
