import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { compileClassifier, createClassifier, smoothedCrossEntropy } from './compile.js';
import { createOptimizer } from './optimizers/create-optimizer.js';
import { TrainingOptimizer } from './optimizers/training-optimizer.js';

/** Predicted probabilities (rows sum to 1) and targets for K = 4 classes. */
const P = [
  [0.7, 0.1, 0.15, 0.05],
  [0.2, 0.2, 0.5, 0.1],
  [0.25, 0.25, 0.25, 0.25],
];
const ONE_HOT = [
  [1, 0, 0, 0],
  [0, 0, 0, 1],
  [0, 0, 0, 1],
];
/** Mixup-style soft targets. */
const SOFT = [
  [0.6, 0.4, 0, 0],
  [0, 0.3, 0.7, 0],
  [0.5, 0, 0, 0.5],
];

/** −Σ_k (y_k(1 − ε) + ε/K) · log p_k per row, in float64. */
function byHand(y: number[][], p: number[][], eps: number): number[] {
  return y.map((row, i) => {
    const k = row.length;
    return -row.reduce((s, yk, j) => s + (yk * (1 - eps) + eps / k) * Math.log(p[i]![j]!), 0);
  });
}

function perSample(loss: (y: tf.Tensor, p: tf.Tensor) => tf.Tensor, y: number[][], p: number[][]): number[] {
  return tf.tidy(() => Array.from(loss(tf.tensor2d(y), tf.tensor2d(p)).dataSync()));
}

function assertClose(actual: number[], expected: number[], tolerance: number, what = ''): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= tolerance, `${what}[${i}]: ${a} should be ${expected[i]}`));
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * A model that ignores its input and predicts softmax(bias) = `probabilities`
 * for every image, so its loss can be computed by hand.
 */
function constantModel(probabilities: number[]): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.flatten({ inputShape: [2, 2, 1] }));
  model.add(tfl.layers.dense({ units: probabilities.length, activation: 'softmax', kernelInitializer: 'zeros' }));
  model.layers[1]!.setWeights([tf.zeros([4, probabilities.length]), tf.tensor1d(probabilities.map(Math.log))]);
  return model;
}

describe('smoothedCrossEntropy', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('is the cross-entropy against y(1 − ε) + ε/K, computed by hand', () => {
    for (const eps of [0.1, 0.3]) {
      const smoothed = perSample(smoothedCrossEntropy(eps), ONE_HOT, P);
      assertClose(smoothed, byHand(ONE_HOT, P, eps), 1e-5, `ε ${eps}`);
      const plain = byHand(ONE_HOT, P, 0);
      // Rows 0 and 1 are not uniform predictions: smoothing changes their loss.
      assert.ok(Math.abs(smoothed[0]! - plain[0]!) > 0.05, `row 0: ${smoothed[0]} vs plain ${plain[0]}`);
      assert.ok(Math.abs(smoothed[1]! - plain[1]!) > 0.05, `row 1: ${smoothed[1]} vs plain ${plain[1]}`);
      // A uniform prediction has the same loss whatever the targets.
      assert.ok(Math.abs(smoothed[2]! - Math.log(4)) < 1e-5);
    }
    // By how much: ε·(CE(uniform target) − CE(y)) per row.
    const eps = 0.2;
    const uniform = P.map((row) => -row.reduce((s, pk) => s + Math.log(pk) / 4, 0));
    const plain = byHand(ONE_HOT, P, 0);
    assertClose(perSample(smoothedCrossEntropy(eps), ONE_HOT, P), plain.map((c, i) => c + eps * (uniform[i]! - c)), 1e-5, 'difference');
  });

  it('with ε = 0 equals tfjs\'s categoricalCrossentropy', () => {
    const ours = perSample(smoothedCrossEntropy(0), ONE_HOT, P);
    const theirs = perSample((y, p) => tfl.metrics.categoricalCrossentropy(y, p), ONE_HOT, P);
    assert.deepEqual(ours, theirs);
    assertClose(ours, byHand(ONE_HOT, P, 0), 1e-5, 'plain');
  });

  it('works with soft (mixup) targets', () => {
    assertClose(perSample(smoothedCrossEntropy(0.1), SOFT, P), byHand(SOFT, P, 0.1), 1e-5, 'soft');
    assertClose(perSample(smoothedCrossEntropy(0), SOFT, P), byHand(SOFT, P, 0), 1e-5, 'soft, plain');
  });

  it('rejects smoothing outside [0, 1)', () => {
    for (const eps of [-0.1, 1, 1.5, Number.NaN]) {
      assert.throws(() => smoothedCrossEntropy(eps), /label smoothing must be in \[0, 1\)/, `ε ${eps}`);
    }
  });
});

describe('compileClassifier', () => {
  before(async () => {
    await initBackend('cpu');
  });

  const p = P[0]!;

  /** Loss reported by trainOnBatch (before its update) and by evaluate, for targets y. */
  async function reported(y: number[][], labelSmoothing?: number): Promise<{ train: number; evaluate: number }> {
    const model = constantModel(p);
    // A negligible learning rate: the weights do not move, so evaluate sees the same model.
    compileClassifier(model, createOptimizer({ name: 'sgd', learningRate: 1e-30 }), labelSmoothing === undefined ? {} : { labelSmoothing });
    const yt = tf.tensor2d(y);
    const x = tf.zeros([y.length, 2, 2, 1]);
    const evaluated = model.evaluate(x, yt) as tf.Scalar[];
    const evaluate = evaluated[0]!.dataSync()[0]!;
    const [train] = (await model.trainOnBatch(x, yt)) as number[];
    tf.dispose([x, yt, ...evaluated]);
    model.dispose();
    return { train: train!, evaluate };
  }

  it('a model compiled with smoothing reports the smoothed loss from trainOnBatch and evaluate', async () => {
    const y = [[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0]];
    const rows = y.map(() => p);
    const expected = mean(byHand(y, rows, 0.1));
    const plain = mean(byHand(y, rows, 0));
    const smoothed = await reported(y, 0.1);
    assert.ok(Math.abs(smoothed.train - expected) < 1e-5, `trainOnBatch ${smoothed.train} vs ${expected}`);
    assert.ok(Math.abs(smoothed.evaluate - expected) < 1e-5, `evaluate ${smoothed.evaluate} vs ${expected}`);
    assert.ok(Math.abs(expected - plain) > 0.05);
    const none = await reported(y);
    assert.ok(Math.abs(none.train - plain) < 1e-5, `no smoothing: ${none.train} vs ${plain}`);
    assert.ok(Math.abs(none.evaluate - plain) < 1e-5);
    const zero = await reported(y, 0);
    assert.ok(Math.abs(zero.train - plain) < 1e-5, 'smoothing 0 is plain cross-entropy');
  });

  it('trains on soft targets with smoothing', async () => {
    const rows = SOFT.map(() => p);
    const expected = mean(byHand(SOFT, rows, 0.2));
    const r = await reported(SOFT, 0.2);
    assert.ok(Math.abs(r.train - expected) < 1e-5, `${r.train} vs ${expected}`);
  });

  it('smoothing changes the gradient: the predictions move toward the smoothed targets', async () => {
    // At p = one-hot-ish targets the plain loss keeps pushing the top class up; smoothing pulls it back.
    const confident = [0.97, 0.01, 0.01, 0.01];
    const top = async (labelSmoothing: number) => {
      const model = constantModel(confident);
      compileClassifier(model, createOptimizer({ name: 'sgd', learningRate: 1 }), { labelSmoothing });
      const y = tf.tensor2d([[1, 0, 0, 0]]);
      const one = tf.zeros([1, 2, 2, 1]);
      await model.trainOnBatch(one, y);
      const after = tf.tidy(() => (model.predict(one) as tf.Tensor).dataSync()[0]!);
      tf.dispose([y, one]);
      model.dispose();
      return after;
    };
    assert.ok((await top(0)) > 0.97, 'plain cross-entropy raises the top class');
    // Smoothed target for the top class: 0.7 + 0.3/4 = 0.775 < 0.97.
    assert.ok((await top(0.3)) < 0.97, 'smoothing lowers an over-confident top class');
  });
});

describe('createClassifier', () => {
  before(async () => {
    await initBackend('cpu');
  });

  const build = { inputShape: [16, 16, 3] as const, numClasses: 10, seed: 1 };

  it('compiles Adam at the preset\'s default learning rate, with plain cross-entropy', () => {
    const model = createClassifier('seed-cnn', build);
    const opt = model.optimizer as unknown as TrainingOptimizer;
    assert.ok(opt instanceof TrainingOptimizer);
    assert.equal(opt.inner.getClassName(), 'Adam');
    assert.equal(opt.learningRate, 1e-3);
    assert.equal(opt.weightDecay, 0);
    assert.equal(model.loss, 'categoricalCrossentropy');
    model.dispose();
  });

  it('takes optimizer overrides and label smoothing', () => {
    const lr = createClassifier('seed-cnn', { ...build, optimizer: { learningRate: 0.05 } });
    assert.equal((lr.optimizer as unknown as TrainingOptimizer).learningRate, 0.05);
    assert.equal((lr.optimizer as unknown as TrainingOptimizer).inner.getClassName(), 'Adam');
    lr.dispose();
    const sgdw = createClassifier('seed-cnn', { ...build, optimizer: { name: 'sgdw' }, labelSmoothing: 0.1 });
    const opt = sgdw.optimizer as unknown as TrainingOptimizer;
    assert.equal(opt.inner.getClassName(), 'Momentum');
    assert.equal(opt.learningRate, 1e-3, 'the preset rate when only the name changes');
    assert.equal(opt.weightDecay, 5e-4);
    assert.equal(typeof sgdw.loss, 'function', 'a smoothed loss function, not the plain one');
    sgdw.dispose();
  });

  it('rejects an unknown preset', () => {
    assert.throws(() => createClassifier('nope', build), /unknown model "nope"/);
  });
});
