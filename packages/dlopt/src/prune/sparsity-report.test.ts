import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { weightSparsity } from './sparsity-report.js';

describe('weightSparsity', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('counts exact zeros (both signs) in the kernels and in all weights', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [3], units: 2, name: 'sr_a' }),
        tfl.layers.batchNormalization({ name: 'sr_bn' }),
        tfl.layers.dense({ units: 2, name: 'sr_b' }),
      ],
    });
    const values = [
      tf.tensor2d([[0, 1], [-0, 2], [3, 1e-30]]), // sr_a kernel: 2 zeros (1e-30 is not one)
      tf.tensor1d([0, 5]), // sr_a bias
      tf.tensor1d([1, 1]), // gamma
      tf.tensor1d([0, 0]), // beta
      tf.tensor2d([[1, 2], [3, 4]]), // sr_b kernel
      tf.tensor1d([0, 0]), // sr_b bias
      tf.tensor1d([0, 0]), // moving mean
      tf.tensor1d([1, 1]), // moving variance
    ];
    model.setWeights(values);
    tf.dispose(values);
    assert.deepEqual(weightSparsity(model), {
      layers: [
        { layer: 'sr_a', weight: 'sr_a/kernel', size: 6, zeros: 2 },
        { layer: 'sr_b', weight: 'sr_b/kernel', size: 4, zeros: 0 },
      ],
      prunableSize: 10,
      prunableZeros: 2,
      totalParams: 22,
      nonzeroParams: 22 - 2 - 1 - 2 - 2 - 2,
    });
    model.dispose();
  });
});
