import type * as tfl from '@tensorflow/tfjs-layers';

/** One weight tensor that unstructured pruning may zero out. */
export interface PrunableKernel {
  /** Name of the layer that owns it. */
  layer: string;
  weight: tfl.LayerVariable;
  /** The variable's name, as model.json's weight manifest lists it (e.g. `conv1/kernel`). */
  name: string;
  shape: number[];
  size: number;
  /** Position in `model.weights` and `model.getWeights()`. */
  index: number;
  /**
   * Whether the second-to-last axis is the one the layer sums over (input
   * channels of a convolution, inputs of a dense layer): where N:M patterns
   * apply. Depthwise kernels sum over the spatial taps of one channel only.
   */
  inputAxisReduces: boolean;
}

// Layer class → the weights that multiply inputs (never biases). Matched by
// class name so that dlopt's own GroupedConv2D needs no import from layers/.
const KERNELS: Record<string, Record<string, boolean>> = {
  Conv2D: { kernel: true },
  Dense: { kernel: true },
  DepthwiseConv2D: { depthwise_kernel: false },
  SeparableConv2D: { depthwise_kernel: false, pointwise_kernel: true },
  GroupedConv2D: { kernel: true },
};

/**
 * The kernels of a model's Conv2D, Dense, DepthwiseConv2D, SeparableConv2D and
 * GroupedConv2D layers, in model order (nested models included). Biases,
 * batch-norm parameters and other layers' weights are left alone: they are few,
 * and zeroing them changes what a layer computes rather than thinning it.
 */
export function prunableKernels(model: tfl.LayersModel): PrunableKernel[] {
  const positions = new Map<tfl.LayerVariable, number>();
  model.weights.forEach((w, i) => positions.set(w, i));
  const found: PrunableKernel[] = [];
  const visit = (layers: tfl.layers.Layer[]): void => {
    for (const layer of layers) {
      const inner = (layer as { layers?: unknown }).layers;
      if (Array.isArray(inner)) {
        visit(inner as tfl.layers.Layer[]);
        continue;
      }
      const kinds = KERNELS[layer.getClassName()];
      if (!kinds) continue;
      for (const weight of layer.weights) {
        const short = weight.originalName.slice(weight.originalName.lastIndexOf('/') + 1);
        const reduces = kinds[short];
        if (reduces === undefined) continue;
        const index = positions.get(weight);
        // A weight missing from model.weights is not one the model saves or trains.
        if (index === undefined) continue;
        const shape = [...weight.shape] as number[];
        found.push({
          layer: layer.name,
          weight,
          name: weight.originalName,
          shape,
          size: shape.reduce((a, b) => a * b, 1),
          index,
          inputAxisReduces: reduces,
        });
      }
    }
  };
  visit(model.layers);
  return found;
}
