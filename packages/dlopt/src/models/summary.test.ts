import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { UsageError } from '../errors.js';
import { createClassifier } from '../train/compile.js';
import { TrainingOptimizer } from '../train/optimizers/training-optimizer.js';
import { PRESETS, findPreset } from './presets.js';
import { formatSummary, summarizeModel } from './summary.js';

before(async () => {
  assert.ok(await tf.setBackend('cpu'));
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
});

const CIFAR = { inputShape: [32, 32, 3] as const, numClasses: 10 };

function seedCnn(seed = 1, learningRate?: number): tfl.LayersModel {
  return createClassifier('seed-cnn', { ...CIFAR, seed, ...(learningRate !== undefined && { optimizer: { learningRate } }) });
}

async function weightValues(model: tfl.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

describe('seed-cnn preset', () => {
  it('is listed and found by name; an unknown name is a usage error naming the presets', () => {
    assert.deepEqual(
      PRESETS.map((p) => p.name),
      ['seed-cnn', 'vgg-bn', 'vgg-bn-reduced', 'resnet-small', 'resnet-small-reduced'],
    );
    assert.equal(findPreset('seed-cnn').defaultLearningRate, 1e-3);
    assert.throws(
      () => findPreset('resnet-9000'),
      (error: unknown) => error instanceof UsageError && /unknown model "resnet-9000".*seed-cnn/.test(error.message),
    );
  });

  it('has exactly the article layers: Conv32 3×3 relu, Pool 2, Conv64 3×3 relu, Pool 2, Flatten, Dense softmax', () => {
    const model = seedCnn();
    const layers = model.layers.map((l) => {
      const c = l.getConfig() as Record<string, unknown>;
      return {
        name: l.name,
        type: l.getClassName(),
        ...(c.filters !== undefined && { filters: c.filters, kernelSize: c.kernelSize, strides: c.strides, padding: c.padding }),
        ...(c.poolSize !== undefined && { poolSize: c.poolSize, strides: c.strides, padding: c.padding }),
        ...(c.units !== undefined && { units: c.units }),
        ...(c.activation !== undefined && { activation: c.activation }),
      };
    });
    assert.deepEqual(layers, [
      { name: 'conv1', type: 'Conv2D', filters: 32, kernelSize: [3, 3], strides: [1, 1], padding: 'valid', activation: 'relu' },
      { name: 'pool1', type: 'MaxPooling2D', poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
      { name: 'conv2', type: 'Conv2D', filters: 64, kernelSize: [3, 3], strides: [1, 1], padding: 'valid', activation: 'relu' },
      { name: 'pool2', type: 'MaxPooling2D', poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
      { name: 'flatten', type: 'Flatten' },
      { name: 'dense', type: 'Dense', units: 10, activation: 'softmax' },
    ]);
    assert.deepEqual(model.inputs[0]!.shape, [null, 32, 32, 3]);
    assert.deepEqual(model.outputs[0]!.shape, [null, 10]);
  });

  it('is compiled with categorical cross-entropy, Adam at the preset learning rate, and accuracy', () => {
    const model = seedCnn();
    assert.equal(model.loss, 'categoricalCrossentropy');
    assert.ok(model.optimizer instanceof TrainingOptimizer);
    const inner = (model.optimizer as TrainingOptimizer).inner;
    assert.ok(inner instanceof tf.AdamOptimizer);
    assert.equal((inner as tf.AdamOptimizer).getConfig().learningRate, 1e-3);
    assert.deepEqual(model.metricsNames, ['loss', 'acc']);
    const custom = seedCnn(1, 0.01);
    assert.equal((custom.optimizer as TrainingOptimizer).learningRate, 0.01);
  });

  it('gives identical initial weights for the same seed', async () => {
    const a = await weightValues(seedCnn(42));
    const b = await weightValues(seedCnn(42));
    assert.equal(a.length, 6);
    assert.deepEqual(a, b);
  });

  it('gives different kernels for a different seed (biases start at zero either way)', async () => {
    const a = await weightValues(seedCnn(42));
    const b = await weightValues(seedCnn(43));
    for (const k of [0, 2, 4]) {
      assert.notDeepEqual(a[k], b[k], `kernel ${k}`);
      // Glorot-uniform: bounded by sqrt(6 / (fanIn + fanOut)), and not all zero.
      assert.ok(a[k]!.some((v) => v !== 0));
    }
    const limit = Math.sqrt(6 / (3 * 3 * 3 + 3 * 3 * 32));
    assert.ok(a[0]!.every((v) => Math.abs(v) <= limit), 'conv1 kernel within the Glorot bound');
    for (const k of [1, 3, 5]) {
      assert.ok(a[k]!.every((v) => v === 0), `bias ${k} is zero`);
      assert.deepEqual(a[k], b[k]);
    }
    // The three layers get their own streams, not one seed reused.
    assert.notDeepEqual(a[0]!.subarray(0, 16), a[2]!.subarray(0, 16));
  });
});

describe('summarizeModel', () => {
  it('lists the seed CNN layers with shapes, parameters and FLOPs', () => {
    const s = summarizeModel(seedCnn());
    assert.deepEqual(s.layers, [
      { name: 'conv1', type: 'Conv2D', outputShape: [30, 30, 32], params: 896, flops: 2 * 30 * 30 * 32 * 27 + 2 * 30 * 30 * 32 },
      { name: 'pool1', type: 'MaxPooling2D', outputShape: [15, 15, 32], params: 0, flops: 15 * 15 * 32 * 4 },
      { name: 'conv2', type: 'Conv2D', outputShape: [13, 13, 64], params: 18496, flops: 2 * 13 * 13 * 64 * 288 + 2 * 13 * 13 * 64 },
      { name: 'pool2', type: 'MaxPooling2D', outputShape: [6, 6, 64], params: 0, flops: 6 * 6 * 64 * 4 },
      { name: 'flatten', type: 'Flatten', outputShape: [2304], params: 0, flops: 0 },
      { name: 'dense', type: 'Dense', outputShape: [10], params: 23050, flops: 2 * 2304 * 10 + 10 + 30 },
    ]);
    // 3·3·3·32 + 32, 3·3·32·64 + 64, 2304·10 + 10
    assert.equal(896, 3 * 3 * 3 * 32 + 32);
    assert.equal(18496, 3 * 3 * 32 * 64 + 64);
    assert.equal(23050, 2304 * 10 + 10);
    assert.equal(s.params, 42_442);
    assert.equal(s.trainableParams, 42_442);
    assert.equal(s.flops, 7_948_584);
    assert.equal(s.flopsComplete, true);
  });

  it('counts frozen layers as non-trainable', () => {
    const model = seedCnn();
    model.getLayer('conv1').trainable = false;
    const s = summarizeModel(model);
    assert.equal(s.params, 42_442);
    assert.equal(s.trainableParams, 42_442 - 896);
  });

  it("counts BatchNormalization's moving statistics as non-trainable", () => {
    const model = tfl.sequential({ layers: [tfl.layers.batchNormalization({ inputShape: [4, 4, 3] })] });
    const s = summarizeModel(model);
    assert.equal(s.params, 12);
    assert.equal(s.trainableParams, 6);
    assert.equal(s.flops, 96);
    assert.match(formatSummary('bn', s), /^Non-trainable params: 6$/m);
  });

  it('marks the FLOP total incomplete when a layer type is unknown, keeping the known part', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.simpleRNN({ name: 'rnn', units: 5, inputShape: [null, 3], returnSequences: true, recurrentInitializer: 'glorotUniform' }),
        tfl.layers.dense({ name: 'head', units: 2 }),
      ],
    });
    const s = summarizeModel(model);
    assert.deepEqual(s.layers, [
      { name: 'rnn', type: 'SimpleRNN', outputShape: [null, 5], params: 3 * 5 + 5 * 5 + 5, flops: undefined },
      // Per time step (unknown length counted as 1): 5×2 multiply-adds + bias
      { name: 'head', type: 'Dense', outputShape: [null, 2], params: 12, flops: 2 * 5 * 2 + 2 },
    ]);
    assert.equal(s.flops, 22);
    assert.equal(s.flopsComplete, false);
  });
});

describe('formatSummary', () => {
  it('prints the seed CNN as a Keras-style table', () => {
    const text = formatSummary('seed-cnn', summarizeModel(seedCnn()));
    const rule = '='.repeat(56);
    assert.deepEqual(text.split('\n'), [
      'Model: seed-cnn',
      rule,
      'Layer (type)           Output shape   Params       FLOPs',
      rule,
      'conv1 (Conv2D)         [30, 30, 32]      896   1,612,800',
      'pool1 (MaxPooling2D)   [15, 15, 32]        0      28,800',
      'conv2 (Conv2D)         [13, 13, 64]   18,496   6,251,648',
      'pool2 (MaxPooling2D)   [6, 6, 64]          0       9,216',
      'flatten (Flatten)      [2304]              0           0',
      'dense (Dense)          [10]           23,050      46,120',
      rule,
      'Total params: 42,442',
      'Trainable params: 42,442',
      'Non-trainable params: 0',
      'FLOPs per image: 7,948,584 (7.95M)',
      '(FLOPs count a multiply-add as 2; bias adds and activations as 1 per element)',
    ]);
    assert.doesNotMatch(text, /lower bound|\?/);
  });

  it("marks unknown FLOPs with '?', unknown dimensions as None, and the total as a lower bound", () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.simpleRNN({ name: 'rnn', units: 5, inputShape: [null, 3], returnSequences: true, recurrentInitializer: 'glorotUniform' }),
        tfl.layers.dense({ name: 'head', units: 2 }),
      ],
    });
    const lines = formatSummary('rnn-model', summarizeModel(model)).split('\n');
    const rnnRow = lines.find((l) => l.startsWith('rnn (SimpleRNN)'));
    const headRow = lines.find((l) => l.startsWith('head (Dense)'));
    assert.ok(rnnRow && headRow);
    assert.match(rnnRow, /^rnn \(SimpleRNN\)\s+\[None, 5\]\s+45\s+\?$/);
    assert.match(headRow, /^head \(Dense\)\s+\[None, 2\]\s+12\s+22$/);
    // Columns line up: every table row is as wide as the rule.
    const rule = lines[1]!;
    assert.match(rule, /^=+$/);
    for (const row of [lines[2]!, rnnRow, headRow]) assert.equal(row.length, rule.length, row);
    assert.ok(lines.includes('Total params: 57'));
    assert.ok(lines.includes('FLOPs per image: 22 (22) — lower bound: layers marked ? are not counted'));
  });
});
