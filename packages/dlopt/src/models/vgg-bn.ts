import * as tfl from '@tensorflow/tfjs-layers';
import { SpatialDropout2D } from '../layers/spatial-dropout2d.js';
import { deriveSeed } from '../util/random.js';
import type { ModelBuildOptions } from './preset.js';
import { kernelOptions } from './regularization.js';

type Tensor = tfl.SymbolicTensor;

export interface VggOptions {
  /** Filters of each stage (two 3×3 convolutions per stage, then 2×2 max pooling). */
  widths?: readonly number[];
  /**
   * 'dense': flatten → Dense(hidden, relu) → dropout → classifier, the classic VGG head.
   * 'gap': global average pooling → classifier (no big dense layer).
   */
  head?: 'dense' | 'gap';
  hiddenUnits?: number;
  /** 'separable': depthwise-separable convolutions after the first one. */
  conv?: 'standard' | 'separable';
}

/**
 * A VGG-style CIFAR-10 CNN with batch normalisation (Simonyan & Zisserman,
 * scaled to what a CPU trains in minutes): stages of two 3×3 conv → BN → ReLU,
 * each followed by 2×2 max pooling. The classic head puts most parameters in
 * one dense layer; the reduced variant replaces it with global average pooling
 * and its convolutions with depthwise-separable ones — the parameter-reduction
 * techniques the article describes.
 */
export function buildVggBn(build: ModelBuildOptions, options: VggOptions = {}): tfl.LayersModel {
  const { inputShape, numClasses, seed, regularization } = build;
  const { widths = [32, 64, 128], head = 'dense', hiddenUnits = 256, conv = 'standard' } = options;
  let layerIndex = 0;
  const init = () => tfl.initializers.heNormal({ seed: deriveSeed(seed, layerIndex++) });
  const convReg = kernelOptions(regularization, 4);
  const denseReg = kernelOptions(regularization, 2);

  const input = tfl.input({ shape: [...inputShape], name: 'image' });
  let x: Tensor = input;
  let first = true;
  widths.forEach((filters, stage) => {
    for (let i = 1; i <= 2; i++) {
      const name = `block${stage + 1}_conv${i}`;
      // The first convolution sees only 3 channels: a separable one would save nothing and lose capacity.
      const layer =
        conv === 'separable' && !first
          ? tfl.layers.separableConv2d({
              name,
              filters,
              kernelSize: 3,
              padding: 'same',
              useBias: false,
              depthwiseInitializer: init(),
              pointwiseInitializer: init(),
              ...(convReg.kernelRegularizer && { depthwiseRegularizer: convReg.kernelRegularizer, pointwiseRegularizer: convReg.kernelRegularizer }),
              ...(convReg.kernelConstraint && { pointwiseConstraint: convReg.kernelConstraint }),
            })
          : tfl.layers.conv2d({ name, filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(), ...convReg });
      first = false;
      x = layer.apply(x) as Tensor;
      x = tfl.layers.batchNormalization({ name: `block${stage + 1}_bn${i}` }).apply(x) as Tensor;
      x = tfl.layers.reLU({ name: `block${stage + 1}_relu${i}` }).apply(x) as Tensor;
    }
    x = tfl.layers.maxPooling2d({ name: `block${stage + 1}_pool`, poolSize: 2 }).apply(x) as Tensor;
    if ((regularization?.spatialDropout ?? 0) > 0) {
      x = new SpatialDropout2D({ name: `block${stage + 1}_spatial_dropout`, rate: regularization!.spatialDropout! }).apply(x) as Tensor;
    }
  });

  const dropout = regularization?.dropout ?? (head === 'dense' ? 0.5 : 0);
  if (head === 'dense') {
    x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as Tensor;
    x = tfl.layers.dense({ name: 'fc', units: hiddenUnits, activation: 'relu', kernelInitializer: init(), ...denseReg }).apply(x) as Tensor;
  } else {
    x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Tensor;
  }
  if (dropout > 0) x = tfl.layers.dropout({ name: 'dropout', rate: dropout }).apply(x) as Tensor;
  const glorot = tfl.initializers.glorotUniform({ seed: deriveSeed(seed, layerIndex++) });
  const output = tfl.layers
    .dense({ name: 'classifier', units: numClasses, activation: 'softmax', kernelInitializer: glorot, ...denseReg })
    .apply(x) as Tensor;
  return tfl.model({ inputs: input, outputs: output, name: head === 'dense' && conv === 'standard' ? 'vgg_bn' : 'vgg_bn_reduced' });
}
