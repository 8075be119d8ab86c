import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { UsageError } from '../errors.js';
import { layerFlops } from '../models/flops.js';
import { describeLayerConformance } from '../test-support/layer-conformance.js';
import { GroupedConv2D, type GroupedConv2DArgs } from './grouped-conv2d.js';

const random = { className: 'RandomNormal', config: { mean: 0, stddev: 0.5, seed: 7 } };

describeLayerConformance('GroupedConv2D', [
  {
    name: 'groups 2, 3x3 same, random bias',
    create: () => new GroupedConv2D({ filters: 6, kernelSize: 3, padding: 'same', groups: 2, biasInitializer: random }),
    inputShape: [5, 7, 4],
  },
  {
    name: 'groups 3, 2x3 kernel, stride 2, valid, tanh',
    create: () => new GroupedConv2D({ filters: 3, kernelSize: [2, 3], strides: 2, groups: 3, activation: 'tanh', biasInitializer: random }),
    inputShape: [7, 6, 6],
  },
  {
    name: 'one channel per group (depthwise path), dilation 2, same, batch 1',
    create: () => new GroupedConv2D({ filters: 8, kernelSize: 3, padding: 'same', dilationRate: 2, groups: 4, biasInitializer: random }),
    inputShape: [6, 5, 4],
    batch: 1,
  },
  {
    name: 'groups 2, dilation [2, 3], valid, odd sizes',
    create: () => new GroupedConv2D({ filters: 4, kernelSize: [2, 3], dilationRate: [2, 3], groups: 2, biasInitializer: random }),
    inputShape: [7, 9, 6],
  },
  {
    name: 'groups 1, sigmoid, no bias',
    create: () => new GroupedConv2D({ filters: 3, kernelSize: 3, activation: 'sigmoid', useBias: false }),
    inputShape: [5, 5, 2],
  },
]);

/** The [kh, kw, cin, filters] kernel of a plain convolution equal to the grouped one: zeros across groups. */
function blockDiagonal(kernel: tf.Tensor4D, groups: number): tf.Tensor4D {
  const [kh, kw, cinPerGroup, filters] = kernel.shape;
  const fPerGroup = filters / groups;
  const src = kernel.arraySync();
  const dense = tf.buffer([kh, kw, cinPerGroup * groups, filters]);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < cinPerGroup; c++)
        for (let f = 0; f < filters; f++) {
          const g = Math.floor(f / fPerGroup);
          dense.set(src[i]![j]![c]![f]!, i, j, g * cinPerGroup + c, f);
        }
  return dense.toTensor() as tf.Tensor4D;
}

function assertClose(actual: tf.Tensor, expected: tf.Tensor, tolerance = 1e-4): void {
  assert.deepEqual(actual.shape, expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - e[i]!) <= tolerance * (1 + Math.abs(e[i]!)), `element ${i}: ${a[i]} vs ${e[i]}`);
  }
}

describe('GroupedConv2D', () => {
  before(async () => {
    await initBackend('native');
  });

  const equivalents: { name: string; args: GroupedConv2DArgs; input: number[] }[] = [
    { name: 'groups 2, same', args: { filters: 6, kernelSize: 3, padding: 'same', groups: 2 }, input: [2, 6, 5, 4] },
    { name: 'groups 3, stride 2, valid, relu', args: { filters: 9, kernelSize: [3, 2], strides: 2, groups: 3, activation: 'relu' }, input: [2, 7, 8, 6] },
    { name: 'groups 2, dilation 2, same, tanh', args: { filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same', groups: 2, activation: 'tanh' }, input: [1, 7, 7, 4] },
    { name: 'groups 3, dilation [3, 2], valid, odd sizes', args: { filters: 6, kernelSize: [2, 3], dilationRate: [3, 2], groups: 3 }, input: [2, 8, 9, 3] },
    { name: 'groups 1, dilation 2, same', args: { filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same' }, input: [1, 5, 6, 2] },
    { name: 'groups = channels, dilation 3, same, even kernel', args: { filters: 6, kernelSize: 2, dilationRate: 3, padding: 'same', groups: 3 }, input: [2, 7, 5, 3] },
    { name: 'groups = channels = filters', args: { filters: 5, kernelSize: 3, padding: 'same', groups: 5 }, input: [2, 4, 6, 5] },
    { name: 'groups = channels, 3 filters each, stride 2', args: { filters: 6, kernelSize: 3, strides: 2, groups: 2 }, input: [2, 7, 7, 2] },
  ];
  for (const c of equivalents) {
    it(`equals a Conv2D whose kernel is block-diagonal: ${c.name}`, () => {
      const x = tf.randomNormal(c.input, 0, 1, 'float32', 3);
      const grouped = new GroupedConv2D({ ...c.args, biasInitializer: random });
      const y = grouped.apply(x) as tf.Tensor;
      const [kernel, bias] = grouped.getWeights() as [tf.Tensor4D, tf.Tensor1D];
      const { groups: _groups, ...convArgs } = c.args;
      const conv = tfl.layers.conv2d(convArgs as Parameters<typeof tfl.layers.conv2d>[0]);
      conv.build(c.input);
      conv.setWeights([blockDiagonal(kernel, c.args.groups ?? 1), bias]);
      assertClose(y, conv.apply(x) as tf.Tensor);
      assert.deepEqual(y.shape, grouped.computeOutputShape(c.input));
    });
  }

  it('with groups 1 equals Conv2D given the same weights, and counts the same FLOPs', () => {
    const args = { filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' } as const;
    const x = tf.randomNormal([3, 9, 9, 3], 0, 1, 'float32', 5);
    const grouped = new GroupedConv2D({ ...args, biasInitializer: random });
    const y = grouped.apply(x) as tf.Tensor;
    const model = tfl.sequential({ layers: [tfl.layers.conv2d({ ...args, inputShape: [9, 9, 3] })] });
    model.layers[0]!.setWeights(grouped.getWeights());
    assertClose(y, model.predict(x) as tf.Tensor);
    assert.equal(grouped.flopsPerExample(), layerFlops(model.layers[0]!));
  });

  it('a grouped layer costs 1/groups of the Conv2D multiply-adds: flopsPerExample by hand', () => {
    // 8x8x4 input, 3x3 same, 6 filters in 2 groups: 8·8·6 outputs, each 3·3·2 multiply-adds, + bias + relu.
    const layer = new GroupedConv2D({ filters: 6, kernelSize: 3, padding: 'same', groups: 2, activation: 'relu' });
    layer.apply(tfl.input({ shape: [8, 8, 4] }));
    assert.equal(layer.flopsPerExample(), 2 * 384 * 18 + 384 + 384);
    // Valid, stride 2, no bias, linear: 3x3 outputs of 4 filters, 2·2·(6/3) multiply-adds each.
    const strided = new GroupedConv2D({ filters: 4, kernelSize: 2, strides: 2, groups: 2, useBias: false });
    strided.apply(tf.zeros([1, 7, 6, 6]));
    assert.equal(strided.flopsPerExample(), 2 * (3 * 3 * 4) * (2 * 2 * 3));
    // Softmax counts 3 per element, like models/flops.ts.
    const soft = new GroupedConv2D({ filters: 2, kernelSize: 1, groups: 2, activation: 'softmax', useBias: false });
    soft.apply(tf.zeros([1, 2, 2, 2]));
    assert.equal(soft.flopsPerExample(), 2 * 8 * 1 + 3 * 8);
    assert.throws(() => new GroupedConv2D({ filters: 2, kernelSize: 1 }).flopsPerExample(), /needs the layer built/);
  });

  it('softmax runs across all filters, not per group', () => {
    const layer = new GroupedConv2D({ filters: 4, kernelSize: 1, groups: 2, activation: 'softmax' });
    const sums = tf.sum(layer.apply(tf.randomNormal([1, 3, 3, 4], 0, 1, 'float32', 2)) as tf.Tensor, -1).dataSync();
    for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-5, `softmax sums to ${s}`);
  });

  it('rejects bad arguments with messages naming the problem', () => {
    const bad: [Partial<GroupedConv2DArgs>, RegExp][] = [
      [{ filters: 10, groups: 4 }, /filters must be divisible by groups \(got 10 filters, 4 groups\)/],
      [{ filters: 0 }, /GroupedConv2D: filters must be a positive integer but got 0/],
      [{ filters: 2.5 }, /filters must be a positive integer/],
      [{ groups: 0 }, /GroupedConv2D: groups must be a positive integer but got 0/],
      [{ kernelSize: [3, 3, 3] }, /GroupedConv2D: kernelSize must be a positive integer or a pair of them but got \[3,3,3\]/],
      [{ kernelSize: 0 }, /kernelSize must be a positive integer/],
      [{ kernelSize: undefined }, /needs kernelSize/],
      [{ strides: 2, dilationRate: 2 }, /strides and dilationRate cannot both be above 1/],
      [{ padding: 'causal' as 'same' }, /padding must be 'valid' or 'same' \(got "causal"\)/],
      [{ dataFormat: 'channelsFirst' as 'channelsLast' }, /only dataFormat 'channelsLast'/],
      [{ activation: 'nope' }, /unknown activation "nope"/],
      [{ kernelInitializer: 'nope' }, /GroupedConv2D: kernelInitializer "nope" is not a registered initializer; use one of .*heNormal/],
      [{ kernelInitializer: 'dense' }, /kernelInitializer "dense" is not a registered initializer/],
      [{ kernelRegularizer: 'glorotNormal' }, /kernelRegularizer "glorotNormal" is not a registered regularizer/],
      [{ kernelInitializer: 'constant' }, /kernelInitializer "Constant" with config \{\}: /],
      [{ kernelConstraint: 42 as never }, /GroupedConv2D: kernelConstraint must be a name, an instance or a \{ className, config \} object but got 42/],
    ];
    for (const [args, message] of bad) {
      assert.throws(() => new GroupedConv2D({ filters: 4, kernelSize: 3, ...args } as GroupedConv2DArgs), (e: unknown) => {
        assert.ok(e instanceof UsageError, `${JSON.stringify(args)} throws a UsageError`);
        assert.match(e.message, message);
        return true;
      });
    }
    assert.throws(() => new GroupedConv2D({ filters: 4, kernelSize: 3, groups: 4 }).apply(tf.zeros([1, 5, 5, 6])), /input channels must be divisible by groups \(got 6 channels, 4 groups\)/);
    assert.throws(() => new GroupedConv2D({ filters: 4, kernelSize: 3 }).apply(tf.zeros([1, 5, 6])), /expects NHWC input of rank 4 \(got shape \[1, 5, 6\]\)/);
    assert.throws(() => new GroupedConv2D({ filters: 4, kernelSize: 5 }).apply(tf.zeros([1, 3, 3, 2])), /does not fit the 3x3 input/);
  });

  it('takes initializers, regularizers and constraints by name, instance or serialized form', () => {
    const layer = new GroupedConv2D({
      filters: 4,
      kernelSize: 1,
      groups: 2,
      kernelInitializer: tfl.initializers.constant({ value: 0.5 }),
      biasInitializer: 'ones',
      kernelRegularizer: { className: 'L1L2', config: { l1: 0, l2: 0.1 } },
      biasRegularizer: 'l1l2',
      kernelConstraint: 'nonNeg',
      biasConstraint: tfl.constraints.maxNorm({ maxValue: 2 }),
    });
    const y = layer.apply(tf.ones([1, 1, 1, 4])) as tf.Tensor;
    // Each filter sees its group's 2 channels: 2·0.5 + bias 1.
    assert.deepEqual(Array.from(y.dataSync()), [2, 2, 2, 2]);
    const config = layer.getConfig();
    assert.deepEqual(config.kernelInitializer, { className: 'Constant', config: { value: 0.5 } });
    assert.deepEqual(config.kernelRegularizer, { className: 'L1L2', config: { l1: 0, l2: 0.1 } });
    assert.equal((config.kernelConstraint as tf.serialization.ConfigDict).className, 'NonNeg');
    assert.equal((config.biasConstraint as tf.serialization.ConfigDict).className, 'MaxNorm');
    // The kernel regularizer adds 0.1 · Σ w² = 0.1 · 8 · 0.25 to the losses; l1l2 on the bias 0.01 · (4 + 4).
    const losses = layer.losses.map((l) => (l() as tf.Scalar).dataSync()[0]!);
    assert.equal(losses.length, 2);
    assert.ok(Math.abs(losses[0]! - 0.2) < 1e-6 && Math.abs(losses[1]! - 0.08) < 1e-6, `losses ${losses}`);
  });

  it('trains in a small model with model.fit (loss decreases)', async () => {
    const model = tfl.sequential({
      layers: [
        new GroupedConv2D({ filters: 8, kernelSize: 3, padding: 'same', groups: 2, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: 1 }), batchInputShape: [null, 6, 6, 4] }),
        new GroupedConv2D({ filters: 8, kernelSize: 3, strides: 2, groups: 8, kernelInitializer: tfl.initializers.heNormal({ seed: 2 }) }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    const x = tf.randomNormal([16, 6, 6, 4], 0, 1, 'float32', 11);
    const y = tf.tidy(() => tf.mul(tf.reshape(tf.mean(x, [1, 2, 3]), [16, 1]), 4));
    const history = await model.fit(x, y, { epochs: 15, batchSize: 8, shuffle: false, verbose: 0 });
    const loss = history.history.loss as number[];
    assert.ok(loss.at(-1)! < 0.5 * loss[0]!, `loss ${loss[0]} → ${loss.at(-1)}`);
  });
});
