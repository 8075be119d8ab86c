import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { UsageError } from '../errors.js';
import { describeLayerConformance } from '../test-support/layer-conformance.js';
import { Random } from '../util/random.js';
import { MixtureOfExperts } from './mixture-of-experts.js';

describeLayerConformance('MixtureOfExperts', [
  {
    name: '4 experts, top-2, tanh',
    create: () => new MixtureOfExperts({ numExperts: 4, units: 3, activation: 'tanh', biasInitializer: 'randomNormal', seed: 1 }),
    inputShape: [5],
    batch: 4,
  },
  {
    name: 'sequence input, two-layer gelu experts, top-1',
    create: () => new MixtureOfExperts({ numExperts: 3, units: 2, topK: 1, expertHiddenUnits: 4, activation: 'gelu', biasInitializer: 'randomNormal', seed: 2 }),
    inputShape: [3, 4],
  },
  {
    name: 'topK = numExperts, linear, no bias',
    create: () => new MixtureOfExperts({ numExperts: 3, units: 4, topK: 3, useBias: false, seed: 3 }),
    inputShape: [6],
    batch: 3,
  },
]);

type Matrix = number[][];
const matVec = (x: number[], w: Matrix) => w[0]!.map((_, j) => x.reduce((s, xi, i) => s + xi * w[i]![j]!, 0));
const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
/** Indices of the k largest values, ties to the lower index. */
const topK = (p: number[], k: number) => p.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k).map(([, i]) => i);
const ACT: Record<string, (v: number) => number> = { linear: (v) => v, relu: (v) => Math.max(0, v), tanh: Math.tanh };

/** The layer's weights as nested arrays: gate, then per expert kernel, bias (one-Dense experts with bias). */
function weightsOf(layer: MixtureOfExperts): { gate: Matrix; kernels: Matrix[]; biases: number[][] } {
  const w = layer.getWeights().map((t) => t.arraySync());
  const gate = w[0] as Matrix;
  const kernels: Matrix[] = [];
  const biases: number[][] = [];
  for (let i = 1; i < w.length; i += 2) {
    kernels.push(w[i] as Matrix);
    biases.push(w[i + 1] as number[]);
  }
  return { gate, kernels, biases };
}

/** One example through the mixture, in float64: gate probabilities, kept experts, each expert's output and the result. */
function referenceExample(x: number[], layer: MixtureOfExperts) {
  const { gate, kernels, biases } = weightsOf(layer);
  const probs = softmax(matVec(x, gate));
  const kept = topK(probs, layer.topK);
  const z = kept.reduce((s, i) => s + probs[i]!, 0);
  const experts = kernels.map((k, i) => matVec(x, k).map((v, j) => ACT[layer.activation]!(v + biases[i]![j]!)));
  const out = experts[0]!.map((_, j) => kept.reduce((s, i) => s + (probs[i]! / z) * experts[i]![j]!, 0));
  return { probs, kept, experts, out };
}

const randomInput = (seed: number, rows: number, cols: number) => {
  const rng = new Random(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
};

function assertNear(actual: number[], expected: number[], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= tolerance * (1 + Math.abs(expected[i]!)), `${what}[${i}]: ${a} vs ${expected[i]}`));
}

/** loadBalanceCoef · E · Σ_i f_i P_i by hand from float64 gate probabilities. */
function referenceAuxLoss(x: Matrix, layer: MixtureOfExperts): number {
  const e = layer.numExperts;
  const f = new Array<number>(e).fill(0);
  const p = new Array<number>(e).fill(0);
  for (const row of x) {
    const { probs, kept } = referenceExample(row, layer);
    for (const i of kept) f[i]! += 1 / x.length;
    probs.forEach((v, i) => (p[i]! += v / x.length));
  }
  return layer.loadBalanceCoef * e * f.reduce((s, fi, i) => s + fi * p[i]!, 0);
}

describe('MixtureOfExperts', () => {
  before(async () => {
    await initBackend('native');
  });

  it('with topK = numExperts it is the dense softmax-gate-weighted sum of the experts', () => {
    const layer = new MixtureOfExperts({ numExperts: 3, units: 4, topK: 3, activation: 'tanh', biasInitializer: 'randomNormal', seed: 10 });
    const x = randomInput(11, 5, 6);
    const out = (layer.apply(tf.tensor2d(x)) as tf.Tensor).arraySync() as Matrix;
    x.forEach((row, n) => {
      const { probs, experts } = referenceExample(row, layer);
      const dense = experts[0]!.map((_, j) => probs.reduce((s, p, i) => s + p * experts[i]![j]!, 0));
      assertNear(out[n]!, dense, 1e-5, `example ${n}`);
    });
  });

  it('with topK = 1 each example gets exactly one expert\'s output, times 1: the most probable one', () => {
    const layer = new MixtureOfExperts({ numExperts: 4, units: 3, topK: 1, activation: 'relu', biasInitializer: 'randomNormal', seed: 12 });
    const x = randomInput(13, 16, 5);
    const out = (layer.apply(tf.tensor2d(x)) as tf.Tensor).arraySync() as Matrix;
    const chosen = new Set<number>();
    x.forEach((row, n) => {
      const { probs, experts } = referenceExample(row, layer);
      const best = probs.indexOf(Math.max(...probs));
      chosen.add(best);
      assertNear(out[n]!, experts[best]!, 1e-5, `example ${n}`);
    });
    assert.ok(chosen.size > 1, 'the test routes examples to several experts');
  });

  it('with topK = 2 it renormalises the two kept gates (float64 reference)', () => {
    const layer = new MixtureOfExperts({ numExperts: 5, units: 2, biasInitializer: 'randomNormal', seed: 14 });
    const x = randomInput(15, 8, 3);
    const out = (layer.apply(tf.tensor2d(x)) as tf.Tensor).arraySync() as Matrix;
    x.forEach((row, n) => assertNear(out[n]!, referenceExample(row, layer).out, 1e-5, `example ${n}`));
  });

  it('ties in the gate keep the lower-numbered experts', () => {
    const layer = new MixtureOfExperts({ numExperts: 4, units: 2, kernelInitializer: 'glorotUniform', seed: 16 });
    const x = tf.tensor2d(randomInput(17, 3, 3));
    layer.apply(x);
    const w = layer.getWeights();
    w[0] = tf.zeros([3, 4]); // every gate probability 1/4
    layer.setWeights(w);
    const expected = (x.arraySync() as Matrix).map((row) => {
      const { experts } = referenceExample(row, layer);
      return experts[0]!.map((v, j) => (v + experts[1]![j]!) / 2);
    });
    assertNear(Array.from((layer.apply(x) as tf.Tensor).dataSync()), expected.flat(), 1e-5, 'output');
  });

  it('routes each token of a [batch, time, features] input on its own', () => {
    const layer = new MixtureOfExperts({ numExperts: 3, units: 2, expertHiddenUnits: 4, seed: 18 });
    const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 19);
    const seq = layer.apply(x) as tf.Tensor;
    assert.deepEqual(seq.shape, [2, 5, 2]);
    const flat = layer.apply(tf.reshape(x, [10, 3])) as tf.Tensor;
    assertNear(Array.from(seq.dataSync()), Array.from(flat.dataSync()), 1e-6, 'tokens');
    const swapped = layer.apply(tf.reverse(x, 1)) as tf.Tensor;
    assertNear(Array.from(tf.reverse(swapped, 1).dataSync()), Array.from(seq.dataSync()), 1e-6, 'reversed time');
  });

  it('the load-balancing loss after a training call equals coef · E · Σ f_i P_i by hand; zero at inference', () => {
    const layer = new MixtureOfExperts({ numExperts: 4, units: 3, topK: 2, loadBalanceCoef: 0.5, seed: 20 });
    const rows = randomInput(21, 12, 5);
    const x = tf.tensor2d(rows);
    layer.apply(x); // builds
    const expected = referenceAuxLoss(rows, layer);
    assert.ok(expected > 0.5 * 2 - 1e-9, 'at least the balanced value coef·k');
    const loss = tf.tidy(() => {
      layer.apply(x, { training: true });
      const losses = layer.calculateLosses();
      assert.equal(losses.length, 1);
      return losses[0]!;
    });
    assert.ok(Math.abs(loss.dataSync()[0]! - expected) < 1e-5, `${loss.dataSync()[0]} vs ${expected}`);
    // The training call's tensors went with its scope: nothing is left to compute from.
    assert.equal(layer.calculateLosses()[0]!.dataSync()[0], 0);
    tf.tidy(() => {
      layer.apply(x, { training: true });
      layer.apply(x); // inference clears the stored routing
      assert.equal(layer.calculateLosses()[0]!.dataSync()[0], 0);
    });
    const off = new MixtureOfExperts({ numExperts: 4, units: 3, loadBalanceCoef: 0, seed: 20 });
    tf.tidy(() => {
      off.apply(x, { training: true });
      assert.equal(off.calculateLosses()[0]!.dataSync()[0], 0);
    });
  });

  it('trainOnBatch\'s loss is the task loss plus the auxiliary loss, gradients reach the gate, and no tensor leaks', async () => {
    const inp = tfl.input({ shape: [5] });
    const moe = new MixtureOfExperts({ numExperts: 4, units: 2, loadBalanceCoef: 0.3, seed: 22 });
    const model = tfl.model({ inputs: inp, outputs: moe.apply(inp) as tfl.SymbolicTensor });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const rows = randomInput(23, 10, 5);
    const x = tf.tensor2d(rows);
    const y = tf.randomNormal([10, 2], 0, 1, 'float32', 24);
    const mse = tf.tidy(() => tf.losses.meanSquaredError(y, model.predict(x) as tf.Tensor).dataSync()[0]!);
    assert.deepEqual(model.calculateLosses().map((t) => t.dataSync()[0]), [0], 'nothing at inference');
    const aux = referenceAuxLoss(rows, moe);
    const gateBefore = moe.getWeights()[0]!.dataSync().slice();
    const loss = (await model.trainOnBatch(x, y)) as number;
    assert.ok(Math.abs(loss - (mse + aux)) < 1e-5, `loss ${loss} vs task ${mse} + auxiliary ${aux}`);
    assert.notDeepEqual(Array.from(moe.getWeights()[0]!.dataSync()), Array.from(gateBefore), 'the gate kernel was updated');
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
    assert.equal(tf.memory().numTensors, tensors);
  });

  it('with a large coefficient model.fit spreads the tokens over the experts; with 0 it does not (top-1 router)', async () => {
    const n = 64;
    const rng = new Random(40);
    // Feature 0 is always 1 and the gate starts with it strongly preferring expert 0.
    const x = tf.tensor2d(Array.from({ length: n }, () => [1, rng.normal(), rng.normal(), rng.normal()]));
    const y = tf.randomNormal([n, 2], 0, 1, 'float32', 41);
    const train = async (coef: number) => {
      const inp = tfl.input({ shape: [4] });
      const moe = new MixtureOfExperts({ numExperts: 4, units: 2, topK: 1, loadBalanceCoef: coef, seed: 42 });
      const model = tfl.model({ inputs: inp, outputs: moe.apply(inp) as tfl.SymbolicTensor });
      const w = moe.getWeights();
      w[0] = tf.add(tf.tensor2d([[4, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]), tf.randomNormal([4, 4], 0, 0.3, 'float32', 43));
      moe.setWeights(w);
      model.compile({ optimizer: tf.train.sgd(1), loss: 'meanSquaredError' });
      const usage = () =>
        tf.tidy(() => {
          const top = tf.argMax(moe.gateProbabilities(x), 1);
          return Array.from(tf.sum(tf.oneHot(top, 4), 0).dataSync(), (c) => c / n);
        });
      const auxLoss = () => tf.tidy(() => referenceAuxLoss(x.arraySync(), moe));
      const before = { usage: usage(), aux: auxLoss() };
      await model.fit(x, y, { epochs: 20, batchSize: n, verbose: 0 });
      return { before, after: { usage: usage(), aux: auxLoss() } };
    };
    const balanced = await train(1);
    const plain = await train(0);
    assert.ok(Math.max(...balanced.before.usage) > 0.9, `starts imbalanced: ${balanced.before.usage}`);
    assert.deepEqual(plain.after.usage, plain.before.usage, 'top-1 gates get no gradient from the task loss');
    assert.ok(Math.max(...balanced.after.usage) < 0.6, `spread out: ${balanced.after.usage}`);
    assert.ok(balanced.after.aux < balanced.before.aux - 0.5, `auxiliary loss ${balanced.before.aux} → ${balanced.after.aux}`);
  });

  it('flopsPerExample: gate, softmax, renormalisation, every expert (dense) and the mixture counted by hand', () => {
    const one = new MixtureOfExperts({ numExperts: 4, units: 3, activation: 'relu' });
    one.apply(tfl.input({ shape: [6] }));
    const gate = 2 * 6 * 4 + 3 * 4; // matMul + softmax = 60
    const keep = 3 * 4; // mask multiply, sum, divide = 12
    const experts = 4 * (2 * 6 * 3 + 3 + 3); // 4 × (matMul + bias + relu) = 168
    const mix = 2 * 4 * 3; // 24
    assert.equal(one.flopsPerExample(), gate + keep + experts + mix);
    assert.equal(one.flopsPerExample(), 264);

    const mlp = new MixtureOfExperts({ numExperts: 2, units: 3, expertHiddenUnits: 5, useBias: false, topK: 1 });
    mlp.apply(tfl.input({ shape: [7, 4] }));
    // 7 tokens; per token: gate 2·4·2 + 3·2, keep 3·2, experts 2 × (2·4·5 + relu 5 + 2·5·3), mix 2·2·3.
    assert.equal(mlp.flopsPerExample(), 7 * (2 * 4 * 2 + 3 * 2 + 3 * 2 + 2 * (2 * 4 * 5 + 5 + 2 * 5 * 3) + 2 * 2 * 3));
  });

  it('defaults: top-2, linear one-Dense experts, relu two-layer experts, coefficient 0.01', () => {
    const config = new MixtureOfExperts({ numExperts: 3, units: 2 }).getConfig();
    assert.equal(config.topK, 2);
    assert.equal(config.activation, 'linear');
    assert.equal(config.loadBalanceCoef, 0.01);
    assert.equal(new MixtureOfExperts({ numExperts: 3, units: 2, expertHiddenUnits: 4 }).activation, 'relu');
  });

  it('rejects bad options and inputs with clear errors', () => {
    const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && re.test(e.message);
    assert.throws(() => new MixtureOfExperts({ numExperts: 1, units: 2 }), usage(/numExperts must be at least 2 but got 1/));
    assert.throws(() => new MixtureOfExperts({ numExperts: 3, units: 0 }), usage(/units must be a positive integer but got 0/));
    assert.throws(() => new MixtureOfExperts({ numExperts: 3, units: 2, topK: 4 }), usage(/topK \(4\) cannot exceed numExperts \(3\)/));
    assert.throws(() => new MixtureOfExperts({ numExperts: 3, units: 2, activation: 'softmax' }), usage(/unknown activation "softmax"/));
    assert.throws(() => new MixtureOfExperts({ numExperts: 3, units: 2, loadBalanceCoef: -1 }), usage(/loadBalanceCoef must be a finite number ≥ 0 but got -1/));
    assert.throws(() => new MixtureOfExperts({ numExperts: 3, units: 2, expertHiddenUnits: 2.5 }), usage(/expertHiddenUnits must be a positive integer/));
    assert.throws(() => new MixtureOfExperts({ numExperts: 3, units: 2 }).apply(tfl.input({ shape: [2, 2, 2] })), /must be \[batch, features\] or \[batch, time, features\] but got \[null, 2, 2, 2\]/);
  });
});
