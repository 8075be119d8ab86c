import * as tfl from '@tensorflow/tfjs-layers';

type Tensor = tfl.SymbolicTensor;

export interface ResidualBlockOptions {
  /** Layer names start with this (blocks must have distinct names within a model). */
  name: string;
  filters: number;
  /** Stride of the first convolution (2 halves the feature map). */
  strides?: number;
  /** Builds each 3×3 convolution of the block's main path (the shortcut's projection stays a plain 1×1 conv). */
  conv3x3?: (options: { name: string; filters: number; strides: number; kernelInitializer: ReturnType<typeof tfl.initializers.heNormal> }) => tfl.layers.Layer;
  /** Extra options for each plain convolution (regularizers, constraints). */
  convOptions?: Partial<Parameters<typeof tfl.layers.conv2d>[0]>;
  /** Seeds for the block's initializers: seed(i) for its i-th weight-bearing layer. */
  seed: (index: number) => number;
}

/**
 * A ResNet basic block (He et al. 2016, the CIFAR variant): two 3×3
 * convolutions with batch norm, ReLU between and after the sum, and a shortcut
 * that is the identity, or a 1×1 convolution + batch norm when the block
 * changes the feature map's size or width (the "projection" shortcut, which
 * Keras's ResNets use). Built from standard layers, so a model made of
 * blocks saves and loads anywhere without dlopt's code.
 */
export function residualBlock(input: Tensor, options: ResidualBlockOptions): Tensor {
  const { name, filters, strides = 1, seed, convOptions = {} } = options;
  const init = (i: number) => tfl.initializers.heNormal({ seed: seed(i) });
  const conv3x3 =
    options.conv3x3 ??
    ((o) => tfl.layers.conv2d({ ...convOptions, ...o, kernelSize: 3, padding: 'same', useBias: false }));
  const bn = (suffix: string) => tfl.layers.batchNormalization({ name: `${name}_${suffix}` });

  let x = conv3x3({ name: `${name}_conv1`, filters, strides, kernelInitializer: init(0) }).apply(input) as Tensor;
  x = bn('bn1').apply(x) as Tensor;
  x = tfl.layers.reLU({ name: `${name}_relu1` }).apply(x) as Tensor;
  x = conv3x3({ name: `${name}_conv2`, filters, strides: 1, kernelInitializer: init(1) }).apply(x) as Tensor;
  x = bn('bn2').apply(x) as Tensor;

  const inChannels = input.shape.at(-1);
  let shortcut = input;
  if (strides !== 1 || inChannels !== filters) {
    shortcut = tfl.layers
      .conv2d({ ...convOptions, name: `${name}_proj`, filters, kernelSize: 1, strides, useBias: false, kernelInitializer: init(2) })
      .apply(input) as Tensor;
    shortcut = bn('proj_bn').apply(shortcut) as Tensor;
  }
  const sum = tfl.layers.add({ name: `${name}_add` }).apply([x, shortcut]) as Tensor;
  return tfl.layers.reLU({ name: `${name}_out` }).apply(sum) as Tensor;
}
