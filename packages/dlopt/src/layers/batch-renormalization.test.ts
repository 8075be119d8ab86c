import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { UsageError } from '../errors.js';
import { describeLayerConformance } from '../test-support/layer-conformance.js';
import { BatchRenormalization, type BatchRenormalizationArgs } from './batch-renormalization.js';

const normal = (seed: number) => ({ className: 'RandomNormal', config: { mean: 0, stddev: 1, seed } });
const constant = (value: number) => ({ className: 'Constant', config: { value } });

describeLayerConformance('BatchRenormalization', [
  {
    name: 'inference, random moving statistics',
    create: () =>
      new BatchRenormalization({
        gammaInitializer: normal(1),
        betaInitializer: normal(2),
        movingMeanInitializer: normal(3),
        movingVarianceInitializer: { className: 'RandomUniform', config: { minval: 0.5, maxval: 2, seed: 4 } },
      }),
    inputShape: [5, 3, 4],
  },
  {
    name: 'training, rMax 1 and dMax 0 (batch normalization)',
    create: () => new BatchRenormalization({ rMax: 1, dMax: 0, gammaInitializer: normal(5), betaInitializer: normal(6) }),
    inputShape: [3, 3, 2],
    batch: 4,
    gradient: { training: true },
  },
  {
    // Renorm σ 0.1 and μ 5 against a batch with σ_B ≈ 1, μ_B ≈ 0: r = rMax and d = −dMax.
    name: 'training, r and d clipped high, features only',
    create: () => new BatchRenormalization({ movingMeanInitializer: constant(5), movingVarianceInitializer: constant(0.01), gammaInitializer: normal(7) }),
    inputShape: [7],
    batch: 6,
    gradient: { training: true },
  },
  {
    // Renorm σ 10 and μ −20: r = 1/rMax and d = dMax; normalizing axis 1 of 3.
    name: 'training, r clipped low, axis 1',
    create: () => new BatchRenormalization({ axis: 1, dMax: 1, movingMeanInitializer: constant(-20), movingVarianceInitializer: constant(100), betaInitializer: normal(8) }),
    inputShape: [3, 4, 2],
    gradient: { training: true },
  },
]);

/** Per-channel (last axis) mean and biased variance, computed here rather than by tfjs. */
function channelStats(x: tf.Tensor): { mean: number[]; variance: number[] } {
  const data = x.dataSync();
  const c = x.shape.at(-1)!;
  const n = data.length / c;
  const mean = Array.from({ length: c }, (_, k) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += data[i * c + k]!;
    return s / n;
  });
  const variance = mean.map((m, k) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += (data[i * c + k]! - m) ** 2;
    return s / n;
  });
  return { mean, variance };
}

/** Applies f(value, channel) to every element of x (channels last). */
function mapChannels(x: tf.Tensor, f: (value: number, channel: number) => number): number[] {
  const c = x.shape.at(-1)!;
  return Array.from(x.dataSync(), (v, i) => f(v, i % c));
}

function assertClose(actual: tf.Tensor | ArrayLike<number>, expected: tf.Tensor | ArrayLike<number>, tolerance = 1e-4): void {
  const a = actual instanceof tf.Tensor ? actual.dataSync() : actual;
  const e = expected instanceof tf.Tensor ? expected.dataSync() : expected;
  assert.equal(a.length, e.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - e[i]!) <= tolerance * (1 + Math.abs(e[i]!)), `element ${i}: ${a[i]} vs ${e[i]}`);
  }
}

/** Weights in the layer's order: gamma, beta, moving mean, moving variance, renorm mean, renorm stddev. */
function setStats(layer: BatchRenormalization, stats: { gamma?: number[]; beta?: number[]; movingMean?: number[]; movingVariance?: number[]; renormMean?: number[]; renormStddev?: number[] }): void {
  const current = layer.getWeights();
  const names = ['gamma', 'beta', 'movingMean', 'movingVariance', 'renormMean', 'renormStddev'] as const;
  layer.setWeights(names.map((name, i) => (stats[name] ? tf.tensor1d(stats[name]) : current[i]!)));
}

function weight(layer: BatchRenormalization, name: string): number[] {
  const w = layer.weights.find((v) => v.originalName.split('/').at(-1) === name);
  assert.ok(w, `weight ${name}`);
  return Array.from(w.read().dataSync());
}

const EPS = 1e-3;

describe('BatchRenormalization', () => {
  before(async () => {
    await initBackend('native');
  });

  it('names its weights like Keras, the statistics non-trainable', () => {
    const layer = new BatchRenormalization();
    layer.apply(tf.zeros([2, 3]));
    assert.deepEqual(layer.trainableWeights.map((w) => w.originalName.split('/').at(-1)), ['gamma', 'beta']);
    assert.deepEqual(layer.nonTrainableWeights.map((w) => w.originalName.split('/').at(-1)), ['moving_mean', 'moving_variance', 'renorm_mean', 'renorm_stddev']);
    // renorm_stddev starts at √(initial moving variance).
    const scaled = new BatchRenormalization({ movingVarianceInitializer: constant(4) });
    scaled.apply(tf.zeros([2, 3]));
    assert.deepEqual(weight(scaled, 'renorm_stddev'), [2, 2, 2]);
  });

  it('is batch normalization when the renorm statistics equal the batch statistics (r = 1, d = 0)', () => {
    const x = tf.randomNormal([8, 3, 3, 2], 1.5, 2, 'float32', 21);
    const { mean, variance } = channelStats(x);
    const gamma = [0.7, -1.3];
    const beta = [0.2, 0.9];
    const layer = new BatchRenormalization();
    layer.build(x.shape);
    setStats(layer, { gamma, beta, renormMean: mean, renormStddev: variance.map((v) => Math.sqrt(v + EPS)) });
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const bn = tfl.layers.batchNormalization({ epsilon: EPS });
    bn.build(x.shape);
    bn.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta), tf.zeros([2]), tf.ones([2])]);
    assertClose(y, bn.apply(x, { training: true }) as tf.Tensor);
    assertClose(y, mapChannels(x, (v, k) => gamma[k]! * ((v - mean[k]!) / Math.sqrt(variance[k]! + EPS)) + beta[k]!));
  });

  it('with rMax 1 and dMax 0 is batch normalization whatever the renorm statistics', () => {
    const x = tf.randomNormal([6, 4], -2, 3, 'float32', 22);
    const { mean, variance } = channelStats(x);
    const layer = new BatchRenormalization({ rMax: 1, dMax: 0 });
    layer.build(x.shape);
    setStats(layer, { renormMean: [7, -7, 0.1, 3], renormStddev: [0.01, 50, 2, 1] });
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    assertClose(y, mapChannels(x, (v, k) => (v - mean[k]!) / Math.sqrt(variance[k]! + EPS)));
  });

  it('corrects the batch statistics by r and d within their bounds', () => {
    const x = tf.randomNormal([10, 3], 0.5, 1.5, 'float32', 23);
    const { mean, variance } = channelStats(x);
    const std = variance.map((v) => Math.sqrt(v + EPS));
    const layer = new BatchRenormalization({ rMax: 2, dMax: 1.5 });
    layer.build(x.shape);
    // Renorm σ and μ chosen so channel 0 is unclipped, 1 has σ_B/σ > rMax and d < −dMax, 2 has σ_B/σ < 1/rMax and d > dMax.
    const renormStddev = [std[0]! * 1.3, std[1]! / 5, std[2]! * 5];
    const renormMean = [mean[0]! - 0.4, mean[1]! + 10, mean[2]! - 1000];
    setStats(layer, { gamma: [2, -1, 0.5], beta: [0.5, 0, -3], renormMean, renormStddev });
    const r = [1 / 1.3, 2, 0.5];
    const d = [0.4 / renormStddev[0]!, -1.5, 1.5];
    const expected = mapChannels(x, (v, k) => [2, -1, 0.5][k]! * (((v - mean[k]!) / std[k]!) * r[k]! + d[k]!) + [0.5, 0, -3][k]!);
    assertClose(layer.apply(x, { training: true }) as tf.Tensor, expected);
    // The clipping bounds can be changed between steps (a ramp), and are saved.
    layer.rMax = 1;
    layer.dMax = 0;
    setStats(layer, { renormMean, renormStddev });
    const plain = mapChannels(x, (v, k) => [2, -1, 0.5][k]! * ((v - mean[k]!) / std[k]!) + [0.5, 0, -3][k]!);
    assertClose(layer.apply(x, { training: true }) as tf.Tensor, plain);
    assert.equal(layer.getConfig().rMax, 1);
    assert.equal(layer.getConfig().dMax, 0);
  });

  it('moves the moving and renorm statistics toward the batch by their momenta in training calls only', () => {
    const layer = new BatchRenormalization({ momentum: 0.9, renormMomentum: 0.8 });
    const x1 = tf.randomNormal([16, 2], 3, 2, 'float32', 24);
    const x2 = tf.randomNormal([16, 2], -1, 0.5, 'float32', 25);
    layer.build(x1.shape);
    let expected = { mean: [0, 0], variance: [1, 1], renormMean: [0, 0], renormStddev: [1, 1] };
    for (const x of [x1, x2]) {
      const { mean, variance } = channelStats(x);
      expected = {
        mean: expected.mean.map((m, k) => 0.9 * m + 0.1 * mean[k]!),
        variance: expected.variance.map((v, k) => 0.9 * v + 0.1 * variance[k]!),
        renormMean: expected.renormMean.map((m, k) => 0.8 * m + 0.2 * mean[k]!),
        renormStddev: expected.renormStddev.map((s, k) => 0.8 * s + 0.2 * Math.sqrt(variance[k]! + EPS)),
      };
      layer.apply(x, { training: true });
      assertClose(weight(layer, 'moving_mean'), expected.mean, 1e-5);
      assertClose(weight(layer, 'moving_variance'), expected.variance, 1e-5);
      assertClose(weight(layer, 'renorm_mean'), expected.renormMean, 1e-5);
      assertClose(weight(layer, 'renorm_stddev'), expected.renormStddev, 1e-5);
      layer.apply(x);
      layer.apply(x, { training: false });
      assertClose(weight(layer, 'moving_mean'), expected.mean, 1e-5);
    }
  });

  it('normalizes with the moving statistics at inference, each example on its own', () => {
    const x = tf.randomNormal([5, 2, 3], 0, 2, 'float32', 26);
    const layer = new BatchRenormalization({ epsilon: 0.01 });
    layer.build(x.shape);
    const stats = { gamma: [1.5, -0.5, 2], beta: [0, 1, -1], movingMean: [0.3, -2, 5], movingVariance: [0.5, 4, 9], renormMean: [100, 100, 100], renormStddev: [0.01, 0.01, 0.01] };
    setStats(layer, stats);
    const y = layer.apply(x) as tf.Tensor;
    assertClose(y, mapChannels(x, (v, k) => (stats.gamma[k]! * (v - stats.movingMean[k]!)) / Math.sqrt(stats.movingVariance[k]! + 0.01) + stats.beta[k]!));
    const first = layer.apply(tf.slice(x, 0, 1)) as tf.Tensor;
    assertClose(first, tf.slice(y, 0, 1));
  });

  it('treats r and d as constants in the gradient', () => {
    // Unclipped r and d. Differentiating through them would give ∂y/∂x = γ/σ (x̂ reduces to (x − μ)/σ);
    // the layer must instead give the batch-norm gradient scaled by r.
    const x = tf.randomNormal([6, 3], 0.2, 1.2, 'float32', 27);
    const projection = tf.randomNormal([6, 3], 0, 1, 'float32', 28);
    const { mean, variance } = channelStats(x);
    const renormMean = [0.1, 0.4, -0.2];
    const renormStddev = [1.1, 1.4, 0.9];
    const gamma = [1.2, 0.8, -1];
    const r = variance.map((v, k) => Math.sqrt(v + EPS) / renormStddev[k]!);
    const d = mean.map((m, k) => (m - renormMean[k]!) / renormStddev[k]!);
    assert.ok(r.every((v) => v > 1 / 3 && v < 3) && d.every((v) => Math.abs(v) < 5), 'r and d are not clipped');
    const layer = new BatchRenormalization();
    layer.build(x.shape);
    const f = (t: tf.Tensor) => {
      setStats(layer, { gamma, renormMean, renormStddev });
      return tf.sum(tf.mul(layer.apply(t, { training: true }) as tf.Tensor, projection));
    };
    const analytic = tf.grad(f)(x);
    const reference = tf.grad((t: tf.Tensor) => {
      const { mean: m, variance: v } = tf.moments(t, 0);
      const xhat = tf.add(tf.mul(tf.div(tf.sub(t, m), tf.sqrt(tf.add(v, EPS))), r), d);
      return tf.sum(tf.mul(tf.mul(xhat, gamma), projection));
    })(x);
    assertClose(analytic, reference, 1e-4);
    const throughRd = mapChannels(projection, (p, k) => (gamma[k]! * p) / renormStddev[k]!);
    const gap = Math.max(...Array.from(analytic.dataSync(), (g, i) => Math.abs(g - throughRd[i]!)));
    assert.ok(gap > 0.1, `the gradient differs from the one through r and d (max gap ${gap})`);
  });

  it('works without gamma and beta (center and scale false)', () => {
    const x = tf.randomNormal([4, 2], 1, 2, 'float32', 29);
    const layer = new BatchRenormalization({ center: false, scale: false, rMax: 1, dMax: 0 });
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    assert.equal(layer.trainableWeights.length, 0);
    const { mean, variance } = channelStats(x);
    assertClose(y, mapChannels(x, (v, k) => (v - mean[k]!) / Math.sqrt(variance[k]! + EPS)));
  });

  it('rejects bad arguments and inputs', () => {
    const bad: [BatchRenormalizationArgs, RegExp][] = [
      [{ momentum: 1.5 }, /momentum must be between 0 and 1 \(got 1.5\)/],
      [{ renormMomentum: -0.1 }, /renormMomentum must be between 0 and 1 \(got -0.1\)/],
      [{ epsilon: 0 }, /epsilon must be a positive number \(got 0\)/],
      [{ rMax: 0.5 }, /rMax must be a number of at least 1 \(got 0.5\)/],
      [{ dMax: -1 }, /dMax must be a non-negative number \(got -1\)/],
      [{ axis: 1.5 }, /axis must be an integer \(got 1.5\)/],
      [{ gammaInitializer: 'nope' }, /BatchRenormalization: gammaInitializer "nope" is not a registered initializer/],
      [{ betaRegularizer: 'ones' }, /BatchRenormalization: betaRegularizer "ones" is not a registered regularizer; use one of l1l2/],
    ];
    for (const [args, message] of bad) {
      assert.throws(() => new BatchRenormalization(args), (e: unknown) => e instanceof UsageError && message.test(e.message));
    }
    const layer = new BatchRenormalization();
    assert.throws(() => (layer.rMax = 0), /rMax must be a number of at least 1 \(got 0\)/);
    assert.throws(() => new BatchRenormalization({ axis: 3 }).apply(tf.zeros([2, 3])), /axis 3 is out of range for an input of rank 2/);
    assert.throws(() => new BatchRenormalization({ axis: 0 }).apply(tf.zeros([2, 3])), /must not be the batch axis/);
    assert.throws(() => new BatchRenormalization().apply(tfl.input({ batchShape: [null, 3, null] })), /axis -1 of its input to have a known size/);
  });

  it('counts 2 FLOPs per element (it folds to a multiply and an add)', () => {
    const layer = new BatchRenormalization();
    layer.apply(tfl.input({ shape: [4, 5, 3] }));
    assert.equal(layer.flopsPerExample(), 2 * 60);
    assert.throws(() => new BatchRenormalization().flopsPerExample(), /needs the layer built/);
  });

  it('trains in a small model with model.fit (loss decreases) and updates its statistics', async () => {
    const renorm = new BatchRenormalization({ momentum: 0.9, renormMomentum: 0.9 });
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 8, inputShape: [5], kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
        renorm,
        tfl.layers.activation({ activation: 'relu' }),
        tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
    const x = tf.add(tf.mul(tf.randomNormal([32, 5], 0, 1, 'float32', 30), 3), 2);
    const y = tf.tidy(() => tf.reshape(tf.sum(tf.mul(x, tf.tensor1d([1, -1, 0.5, 0, 2])), 1), [32, 1]));
    const history = await model.fit(x, y, { epochs: 20, batchSize: 8, shuffle: false, verbose: 0 });
    const loss = history.history.loss as number[];
    assert.ok(loss.at(-1)! < 0.5 * loss[0]!, `loss ${loss[0]} → ${loss.at(-1)}`);
    assert.ok(weight(renorm, 'moving_mean').some((m) => Math.abs(m) > 0.1), 'the moving mean moved');
    assert.ok(weight(renorm, 'renorm_stddev').some((s) => Math.abs(s - 1) > 0.1), 'the renorm deviation moved');
    const evaluated = model.evaluate(x, y) as tf.Scalar;
    assert.ok(Number.isFinite(evaluated.dataSync()[0]!));
  });
});
