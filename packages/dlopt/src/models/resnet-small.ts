import * as tfl from '@tensorflow/tfjs-layers';
import { residualBlock, type ResidualBlockOptions } from '../layers/residual-block.js';
import { deriveSeed } from '../util/random.js';
import type { ModelBuildOptions } from './preset.js';
import { kernelOptions } from './regularization.js';

type Tensor = tfl.SymbolicTensor;

export interface ResNetOptions {
  /** Filters of the three stages; each stage after the first halves the feature map. */
  widths?: readonly [number, number, number];
  /** Basic blocks per stage: depth = 6·n + 2 (n = 3: ResNet-20). */
  blocksPerStage?: number;
  /** Builds the blocks' 3×3 convolutions (the parameter-reduced variant passes grouped ones). */
  conv3x3?: ResidualBlockOptions['conv3x3'];
  name?: string;
}

/**
 * The CIFAR ResNet of He et al. (2016, section 4.2): a 3×3 conv with 16
 * filters, three stages of n basic blocks (16, 32, 64 filters; 32×32, 16×16,
 * 8×8), global average pooling and the classifier. n = 3 is ResNet-20
 * (0.27 M parameters). Batch norm everywhere, so no dropout slot.
 */
export function buildResNetSmall(build: ModelBuildOptions, options: ResNetOptions = {}): tfl.LayersModel {
  const { inputShape, numClasses, seed, regularization } = build;
  const { widths = [16, 32, 64], blocksPerStage = 3, conv3x3, name = 'resnet_small' } = options;
  const convOptions = kernelOptions(regularization, 4);
  let stream = 0;
  const nextSeeds = () => {
    const base = stream;
    stream += 3;
    return (i: number) => deriveSeed(seed, base + i);
  };

  const input = tfl.input({ shape: [...inputShape], name: 'image' });
  const stemSeed = nextSeeds();
  let x = tfl.layers
    .conv2d({ name: 'stem_conv', filters: widths[0], kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tfl.initializers.heNormal({ seed: stemSeed(0) }), ...convOptions })
    .apply(input) as Tensor;
  x = tfl.layers.batchNormalization({ name: 'stem_bn' }).apply(x) as Tensor;
  x = tfl.layers.reLU({ name: 'stem_relu' }).apply(x) as Tensor;
  widths.forEach((filters, stage) => {
    for (let b = 0; b < blocksPerStage; b++) {
      x = residualBlock(x, {
        name: `stage${stage + 1}_block${b + 1}`,
        filters,
        strides: stage > 0 && b === 0 ? 2 : 1,
        seed: nextSeeds(),
        convOptions,
        ...(conv3x3 && { conv3x3 }),
      });
    }
  });
  x = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Tensor;
  if ((regularization?.dropout ?? 0) > 0) x = tfl.layers.dropout({ name: 'dropout', rate: regularization!.dropout! }).apply(x) as Tensor;
  const output = tfl.layers
    .dense({
      name: 'classifier',
      units: numClasses,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: deriveSeed(seed, stream) }),
      ...kernelOptions(regularization, 2),
    })
    .apply(x) as Tensor;
  return tfl.model({ inputs: input, outputs: output, name });
}
