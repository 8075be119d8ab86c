import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { layerFlops } from './flops.js';
import { createModel } from './presets.js';

type Layer = tfl.LayersModel['layers'][number];

before(async () => {
  assert.ok(await tf.setBackend('cpu'));
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
});

/** Calls the layer on a symbolic input of the given shape (batch dimension unknown); returns it. */
function single(layer: Layer, inputShape: number[]): Layer {
  layer.apply(tfl.input({ shape: inputShape }));
  assert.equal(layer.inboundNodes.length, 1);
  return layer;
}

/*
 * The convention (flops.ts): a multiply-add is 2, a bias add or elementwise
 * activation is 1 per output element, softmax is 3 per element, pooling is 1
 * per window element. Every expected value below is worked out by hand.
 */
describe('layerFlops on the seed CNN (32×32×3 → 10 classes)', () => {
  let model: tfl.LayersModel;
  before(() => {
    model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
  });
  const byName = (name: string) => layerFlops(model.getLayer(name));

  it('conv1: 30×30×32 outputs, each 3·3·3 multiply-adds, plus bias and relu', () => {
    assert.equal(byName('conv1'), 2 * 30 * 30 * 32 * 27 + 2 * 30 * 30 * 32);
    assert.equal(byName('conv1'), 1_612_800);
  });

  it('pool1: 15×15×32 windows of 2×2', () => {
    assert.equal(byName('pool1'), 15 * 15 * 32 * 4);
  });

  it('conv2: 13×13×64 outputs, each 3·3·32 multiply-adds, plus bias and relu', () => {
    assert.equal(byName('conv2'), 2 * 13 * 13 * 64 * (3 * 3 * 32) + 2 * 13 * 13 * 64);
    assert.equal(byName('conv2'), 6_251_648);
  });

  it('pool2: 6×6×64 windows of 2×2 (floor of 13/2)', () => {
    assert.equal(byName('pool2'), 6 * 6 * 64 * 4);
  });

  it('flatten is free', () => {
    assert.equal(byName('flatten'), 0);
  });

  it('dense: 2304×10 multiply-adds, bias, and softmax at 3 per element', () => {
    assert.equal(byName('dense'), 2 * 2304 * 10 + 10 + 3 * 10);
  });

  it('totals 7,948,584', () => {
    const total = model.layers.reduce((n, l) => n + layerFlops(l)!, 0);
    assert.equal(total, 7_948_584);
  });

  it('follows the input shape and class count', () => {
    const small = createModel('seed-cnn', { inputShape: [16, 16, 1], numClasses: 5, seed: 1 });
    // 16 → conv 14 → pool 7 → conv 5 → pool 2; flatten 2·2·64 = 256
    assert.deepEqual(
      small.layers.map((l) => layerFlops(l)),
      [
        2 * 14 * 14 * 32 * 9 + 2 * 14 * 14 * 32,
        7 * 7 * 32 * 4,
        2 * 5 * 5 * 64 * 288 + 2 * 5 * 5 * 64,
        2 * 2 * 64 * 4,
        0,
        2 * 256 * 5 + 5 + 3 * 5,
      ],
    );
  });
});

describe('layerFlops per layer type', () => {
  it('Dense with a linear activation and no bias is only multiply-adds', () => {
    assert.equal(layerFlops(single(tfl.layers.dense({ units: 5, useBias: false }), [7])), 2 * 7 * 5);
  });

  it('Dense with bias and relu adds 1 + 1 per output', () => {
    assert.equal(layerFlops(single(tfl.layers.dense({ units: 5, activation: 'relu' }), [7])), 2 * 7 * 5 + 5 + 5);
  });

  it('Dense with sigmoid counts 1 per element (only softmax is 3)', () => {
    assert.equal(layerFlops(single(tfl.layers.dense({ units: 4, activation: 'sigmoid' }), [3])), 2 * 3 * 4 + 4 + 4);
  });

  it('Dense on a 3-D input applies to every row', () => {
    // [4, 7] → [4, 5]: 4 rows of 7×5 multiply-adds, bias on 20 outputs
    assert.equal(layerFlops(single(tfl.layers.dense({ units: 5 }), [4, 7])), 4 * 2 * 7 * 5 + 20);
  });

  it("Conv2D with stride 2 and 'same' padding: ceil(7/2) = 4 outputs a side", () => {
    const layer = single(tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }), [7, 7, 3]);
    assert.deepEqual(layer.outputShape, [null, 4, 4, 4]);
    assert.equal(layerFlops(layer), 2 * (4 * 4 * 4) * (3 * 3 * 3) + 4 * 4 * 4);
  });

  it('Conv2D with a non-square kernel, no bias, relu', () => {
    const layer = single(tfl.layers.conv2d({ filters: 3, kernelSize: [3, 1], useBias: false, activation: 'relu' }), [5, 6, 2]);
    assert.deepEqual(layer.outputShape, [null, 3, 6, 3]);
    assert.equal(layerFlops(layer), 2 * 54 * (3 * 1 * 2) + 54);
  });

  it('Conv2D with channelsFirst data takes input channels from the first axis', () => {
    // [C=3, H=8, W=8] → [4, 6, 6]; each output reads 3·3·3 inputs (not 3·3·8).
    const layer = single(tfl.layers.conv2d({ filters: 4, kernelSize: 3, dataFormat: 'channelsFirst' }), [3, 8, 8]);
    assert.deepEqual(layer.outputShape, [null, 4, 6, 6]);
    assert.equal(layerFlops(layer), 2 * 144 * 27 + 144);
  });

  it('Conv2D cost does not depend on a fixed batch size', () => {
    const model = tfl.sequential({
      layers: [tfl.layers.conv2d({ batchInputShape: [8, 5, 5, 2], filters: 3, kernelSize: 3 })],
    });
    assert.equal(layerFlops(model.layers[0]!), 2 * 27 * 18 + 27);
  });

  it('DepthwiseConv2D: one kh·kw multiply-add per output element', () => {
    const layer = single(tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }), [5, 5, 2]);
    assert.deepEqual(layer.outputShape, [null, 3, 3, 4]);
    assert.equal(layerFlops(layer), 2 * 36 * 9 + 36);
  });

  it('AveragePooling2D: one per window element', () => {
    const layer = single(tfl.layers.averagePooling2d({ poolSize: [2, 3], strides: [2, 3] }), [6, 9, 2]);
    assert.deepEqual(layer.outputShape, [null, 3, 3, 2]);
    assert.equal(layerFlops(layer), 3 * 3 * 2 * 6);
  });

  it('MaxPooling2D with overlapping windows counts every window', () => {
    const layer = single(tfl.layers.maxPooling2d({ poolSize: 2, strides: 1 }), [4, 4, 1]);
    assert.equal(layerFlops(layer), 3 * 3 * 4);
  });

  it('BatchNormalization: a multiply and an add per element', () => {
    assert.equal(layerFlops(single(tfl.layers.batchNormalization({}), [4, 4, 3])), 2 * 48);
  });

  it('GlobalAveragePooling2D and GlobalMaxPooling2D: one per input element', () => {
    assert.equal(layerFlops(single(tfl.layers.globalAveragePooling2d({}), [4, 5, 3])), 60);
    assert.equal(layerFlops(single(tfl.layers.globalMaxPooling2d({}), [4, 5, 3])), 60);
  });

  it('activation layers: softmax 3 per element, others 1, linear 0', () => {
    assert.equal(layerFlops(single(tfl.layers.activation({ activation: 'softmax' }), [6])), 18);
    assert.equal(layerFlops(single(tfl.layers.activation({ activation: 'tanh' }), [2, 3])), 6);
    assert.equal(layerFlops(single(tfl.layers.activation({ activation: 'linear' }), [2, 3])), 0);
    assert.equal(layerFlops(single(tfl.layers.reLU(), [2, 3])), 6);
    assert.equal(layerFlops(single(tfl.layers.leakyReLU(), [2, 3])), 6);
    assert.equal(layerFlops(single(tfl.layers.elu(), [5])), 5);
    assert.equal(layerFlops(single(tfl.layers.softmax(), [4])), 12);
  });

  it('shape-only layers are free', () => {
    assert.equal(layerFlops(single(tfl.layers.flatten(), [2, 3])), 0);
    assert.equal(layerFlops(single(tfl.layers.reshape({ targetShape: [3, 2] }), [6])), 0);
    assert.equal(layerFlops(single(tfl.layers.dropout({ rate: 0.5 }), [6])), 0);
  });

  it('merge layers: one op per output element for each extra input; concatenate is free', () => {
    const input = tfl.input({ shape: [4] });
    const branches = [0, 1, 2].map(() => tfl.layers.dense({ units: 3 }).apply(input) as tfl.SymbolicTensor);
    const add2 = tfl.layers.add();
    const add3 = tfl.layers.add();
    const concat = tfl.layers.concatenate();
    const model = tfl.model({
      inputs: input,
      outputs: [
        add2.apply(branches.slice(0, 2)) as tfl.SymbolicTensor,
        add3.apply(branches) as tfl.SymbolicTensor,
        concat.apply(branches) as tfl.SymbolicTensor,
      ],
    });
    assert.equal(layerFlops(model.layers[0]!), 0, 'InputLayer');
    assert.equal(model.layers[0]!.getClassName(), 'InputLayer');
    assert.equal(layerFlops(add2), 3);
    assert.equal(layerFlops(add3), 6);
    assert.equal(layerFlops(concat), 0);
  });

  it('unknown layer types give undefined, not a silent 0', () => {
    const rnn = single(tfl.layers.simpleRNN({ units: 4, recurrentInitializer: 'glorotUniform' }), [5, 3]);
    assert.equal(rnn.getClassName(), 'SimpleRNN');
    assert.equal(layerFlops(rnn), undefined);
    assert.equal(layerFlops(single(tfl.layers.upSampling2d({ size: [2, 2] }), [3, 3, 1])), undefined);
    assert.equal(layerFlops(single(tfl.layers.conv1d({ filters: 2, kernelSize: 2 }), [5, 3])), undefined);
  });
});
