import type * as tfl from '@tensorflow/tfjs-layers';
import { countsFlops } from '../layers/counts-flops.js';

type Layer = tfl.LayersModel['layers'][number];

/**
 * Floating-point operations per image for one inference pass through a layer.
 * Convention (the usual one for CNN papers): a multiply-add counts as 2, a bias
 * add or an elementwise activation as 1 per output element, softmax as 3
 * (exp, sum, divide), pooling as one operation per window element.
 * Returns undefined for layer types this count does not know, so totals can
 * say they are incomplete rather than silently low.
 */
export function layerFlops(layer: Layer): number | undefined {
  const config = layer.getConfig() as Record<string, unknown>;
  // The first call's shapes (a shared layer may be called on several inputs).
  const inputShapes = layer.inboundNodes[0]?.inputShapes ?? [];
  const input = firstShape(inputShapes);
  const output = firstShape(layer.outputShape);
  const outElems = elements(output);
  switch (layer.getClassName()) {
    case 'InputLayer':
    case 'Flatten':
    case 'Reshape':
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
      return 0;
    case 'Conv2D': {
      const [kh, kw] = pair(config.kernelSize);
      const cin = config.dataFormat === 'channelsFirst' ? input[0]! : input.at(-1)!;
      const macs = outElems * kh * kw * cin;
      return 2 * macs + (config.useBias === false ? 0 : outElems) + activationFlops(config.activation, outElems);
    }
    case 'DepthwiseConv2D': {
      const [kh, kw] = pair(config.kernelSize);
      const macs = outElems * kh * kw;
      return 2 * macs + (config.useBias === false ? 0 : outElems) + activationFlops(config.activation, outElems);
    }
    case 'SeparableConv2D': {
      // Depthwise k×k per input channel (× depth multiplier) at the output resolution, then a 1×1 conv.
      const [kh, kw] = pair(config.kernelSize);
      const cin = input.at(-1)!;
      const depth = cin * Number(config.depthMultiplier ?? 1);
      const positions = outElems / output.at(-1)!;
      const macs = positions * depth * kh * kw + outElems * depth;
      return 2 * macs + (config.useBias === false ? 0 : outElems) + activationFlops(config.activation, outElems);
    }
    case 'Dense': {
      const inUnits = input.at(-1)!;
      const rows = elements(input) / inUnits;
      return rows * 2 * inUnits * output.at(-1)! + (config.useBias === false ? 0 : outElems) +
        activationFlops(config.activation, outElems);
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const [ph, pw] = pair(config.poolSize);
      return outElems * ph * pw;
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      return elements(input);
    case 'BatchNormalization':
      // At inference BN folds to one multiply and one add per element.
      return 2 * outElems;
    case 'Activation':
    case 'ReLU':
    case 'LeakyReLU':
    case 'ELU':
    case 'Softmax':
      return activationFlops(config.activation ?? layer.getClassName().toLowerCase(), outElems);
    case 'Add':
    case 'Multiply':
    case 'Average':
    case 'Maximum':
    case 'Minimum':
      return outElems * Math.max(1, (Array.isArray(inputShapes[0]) ? inputShapes.length : 1) - 1);
    case 'Concatenate':
      return 0;
    default:
      // dlopt's own layers know their cost.
      return countsFlops(layer) ? layer.flopsPerExample() : undefined;
  }
}

function activationFlops(activation: unknown, elems: number): number {
  if (activation === undefined || activation === null || activation === 'linear') return 0;
  return activation === 'softmax' ? 3 * elems : elems;
}

/** A layer's shape without the batch dimension. */
function firstShape(shape: tfl.Shape | tfl.Shape[]): number[] {
  const s = (Array.isArray(shape[0]) || shape[0] === undefined ? shape[0] : shape) as tfl.Shape | undefined;
  if (!s) return [];
  return s.slice(1).map((d) => d ?? 1);
}

function elements(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function pair(value: unknown): [number, number] {
  if (Array.isArray(value)) return [Number(value[0]), Number(value[1] ?? value[0])];
  return [Number(value), Number(value)];
}
