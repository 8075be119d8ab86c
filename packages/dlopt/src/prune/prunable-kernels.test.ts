import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { GroupedConv2D } from '../layers/grouped-conv2d.js';
import { prunableKernels } from './prunable-kernels.js';

/** Every layer kind pruning knows, with biases and batch norm around them, and a nested model. */
function mixedModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [8, 8, 4] });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'pk_conv' }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization({ name: 'pk_bn' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'pk_sep' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'pk_dw' }).apply(x) as tfl.SymbolicTensor;
  x = new GroupedConv2D({ filters: 4, kernelSize: 1, groups: 2, name: 'pk_group' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.flatten({ name: 'pk_flat' }).apply(x) as tfl.SymbolicTensor;
  const head = tfl.sequential({
    name: 'pk_head',
    layers: [tfl.layers.dense({ inputShape: [256], units: 6, name: 'pk_dense' }), tfl.layers.dense({ units: 3, useBias: false, name: 'pk_out' })],
  });
  return tfl.model({ inputs: input, outputs: head.apply(x) as tfl.SymbolicTensor });
}

describe('prunableKernels', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('finds the multiplying kernels of every supported layer, in model order, and nothing else', () => {
    const model = mixedModel();
    const kernels = prunableKernels(model);
    assert.deepEqual(
      kernels.map((k) => [k.layer, k.name, k.shape, k.size, k.inputAxisReduces]),
      [
        ['pk_conv', 'pk_conv/kernel', [3, 3, 4, 4], 144, true],
        ['pk_sep', 'pk_sep/depthwise_kernel', [3, 3, 4, 1], 36, false],
        ['pk_sep', 'pk_sep/pointwise_kernel', [1, 1, 4, 8], 32, true],
        ['pk_dw', 'pk_dw/depthwise_kernel', [3, 3, 8, 1], 72, false],
        ['pk_group', 'pk_group/kernel', [1, 1, 4, 4], 16, true],
        ['pk_dense', 'pk_dense/kernel', [256, 6], 1536, true],
        ['pk_out', 'pk_out/kernel', [6, 3], 18, true],
      ],
    );
    for (const k of kernels) {
      assert.equal(model.weights[k.index], k.weight, `${k.name}: index is its position in model.weights`);
      assert.deepEqual(model.getWeights()[k.index]!.shape, k.shape);
    }
    // Biases, gamma/beta and moving statistics are all among the weights, and none is picked.
    const picked = new Set(kernels.map((k) => k.weight));
    const others = model.weights.filter((w) => !picked.has(w)).map((w) => w.originalName.split('/').pop());
    assert.deepEqual([...new Set(others)].sort(), ['beta', 'bias', 'gamma', 'moving_mean', 'moving_variance']);
    model.dispose();
  });

  it('finds none in a model without such layers', () => {
    const model = tfl.sequential({ layers: [tfl.layers.batchNormalization({ inputShape: [4] }), tfl.layers.activation({ activation: 'relu' })] });
    assert.deepEqual(prunableKernels(model), []);
    model.dispose();
  });
});
