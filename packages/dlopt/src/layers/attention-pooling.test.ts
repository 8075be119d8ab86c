import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { UsageError } from '../errors.js';
import { describeLayerConformance } from '../test-support/layer-conformance.js';
import { Random } from '../util/random.js';
import { AttentionPooling } from './attention-pooling.js';

describeLayerConformance('AttentionPooling', [
  { name: 'sequence, 1 head', create: () => new AttentionPooling({ units: 4, biasInitializer: 'randomNormal', seed: 1 }), inputShape: [5, 3] },
  { name: 'sequence, 2 heads, no bias', create: () => new AttentionPooling({ units: 3, numHeads: 2, useBias: false, seed: 2 }), inputShape: [4, 4] },
  { name: 'image feature map, 3 heads', create: () => new AttentionPooling({ units: 4, numHeads: 3, biasInitializer: 'randomNormal', seed: 3 }), inputShape: [3, 3, 2] },
]);

/** Additive attention pooling in float64 loops, from the definition. */
function reference(x: number[][][], w: number[][], b: number[], v: number[][]): number[][] {
  const heads = v[0]!.length;
  return x.map((tokens) => {
    const hidden = tokens.map((xt) => b.map((bj, j) => Math.tanh(bj + xt.reduce((s, xi, i) => s + xi * w[i]![j]!, 0))));
    const out: number[] = [];
    for (let h = 0; h < heads; h++) {
      const scores = hidden.map((ht) => ht.reduce((s, hj, j) => s + hj * v[j]![h]!, 0));
      const max = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - max));
      const z = e.reduce((a, c) => a + c, 0);
      for (let c = 0; c < tokens[0]!.length; c++) out.push(tokens.reduce((s, xt, t) => s + (e[t]! / z) * xt[c]!, 0));
    }
    return out;
  });
}

const matrix = (rng: Random, r: number, c: number) => Array.from({ length: r }, () => Array.from({ length: c }, () => rng.normal()));
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe('AttentionPooling', () => {
  before(async () => {
    await initBackend('native');
  });

  it('equals Σ_t softmax(tanh(x W + b) v)_t x_t computed by hand, per head, heads concatenated', () => {
    const rng = new Random(20);
    const [batch, t, d, units, heads] = [2, 4, 3, 5, 2];
    const x = Array.from({ length: batch }, () => matrix(rng, t, d));
    const w = matrix(rng, d, units);
    const b = matrix(rng, 1, units)[0]!;
    const v = matrix(rng, units, heads);
    const layer = new AttentionPooling({ units, numHeads: heads });
    layer.apply(tf.tensor3d(x));
    // Creation order: kernel, score_kernel, bias.
    layer.setWeights([tf.tensor2d(w), tf.tensor2d(v), tf.tensor1d(b)]);
    const out = layer.apply(tf.tensor3d(x)) as tf.Tensor;
    assert.deepEqual(out.shape, [batch, heads * d]);
    const expected = reference(x, w, b, v);
    (out.arraySync() as number[][]).flat().forEach((a, i) => assert.ok(Math.abs(a - expected.flat()[i]!) < 1e-5, `element ${i}: ${a} vs ${expected.flat()[i]}`));
  });

  it('with equal scores it is the mean over time (global average pooling)', () => {
    const layer = new AttentionPooling({ units: 3, kernelInitializer: 'zeros' });
    const x = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 1);
    assert.ok(maxDiff(layer.apply(x) as tf.Tensor, tf.mean(x, 1)) < 1e-6);
  });

  it('is invariant to permuting the time axis, and not to changing a token', () => {
    const layer = new AttentionPooling({ units: 4, numHeads: 2, biasInitializer: 'randomNormal', seed: 4 });
    const x = tf.randomNormal([3, 6, 4], 0, 1, 'float32', 2);
    const base = layer.apply(x) as tf.Tensor;
    const permuted = layer.apply(tf.gather(x, tf.tensor1d([5, 2, 0, 4, 1, 3], 'int32'), 1)) as tf.Tensor;
    assert.ok(maxDiff(base, permuted) < 1e-5);
    const changed = tf.concat([tf.slice(x, [0, 0, 0], [3, 5, 4]), tf.zeros([3, 1, 4])], 1);
    assert.ok(maxDiff(base, layer.apply(changed) as tf.Tensor) > 1e-3);
  });

  it('pools an image feature map as its h·w tokens, in any spatial order', () => {
    const layer = new AttentionPooling({ units: 4, biasInitializer: 'randomNormal', seed: 5 });
    const image = tf.randomNormal([2, 2, 3, 4], 0, 1, 'float32', 3);
    const fromImage = layer.apply(image) as tf.Tensor;
    const seqLayer = new AttentionPooling({ units: 4 });
    const tokens = tf.reshape(image, [2, 6, 4]);
    seqLayer.apply(tokens);
    seqLayer.setWeights(layer.getWeights());
    assert.ok(maxDiff(fromImage, seqLayer.apply(tokens) as tf.Tensor) < 1e-6);
    const flipped = tf.reverse(image, [1, 2]);
    assert.ok(maxDiff(fromImage, layer.apply(flipped) as tf.Tensor) < 1e-5);
  });

  it('the pooled vector is a convex combination of the tokens (inside their range, per feature)', () => {
    const layer = new AttentionPooling({ units: 8, numHeads: 3, seed: 6 });
    const x = tf.randomNormal([4, 7, 5], 0, 1, 'float32', 4);
    const out = tf.reshape(layer.apply(x) as tf.Tensor, [4, 3, 5]);
    const lo = tf.min(x, 1, true);
    const hi = tf.max(x, 1, true);
    assert.equal(tf.sum(tf.cast(tf.logicalOr(tf.less(out, tf.sub(lo, 1e-6)), tf.greater(out, tf.add(hi, 1e-6))), 'int32')).dataSync()[0], 0);
    // Different heads attend differently.
    assert.ok(maxDiff(tf.slice(out, [0, 0, 0], [4, 1, 5]), tf.slice(out, [0, 1, 0], [4, 1, 5])) > 1e-3);
  });

  it('flopsPerExample: hidden layer, tanh, scores, softmax and weighted sums counted by hand', () => {
    const layer = new AttentionPooling({ units: 5, numHeads: 2 });
    layer.apply(tfl.input({ shape: [2, 3, 4] }));
    // T = 2·3 = 6 tokens, d = 4, u = 5, H = 2.
    const hidden = 2 * 6 * 4 * 5 + 6 * 5 + 6 * 5; // matMul + bias + tanh = 300
    const scores = 2 * 6 * 5 * 2; // 120
    const softmax = 3 * 6 * 2; // 36
    const pooled = 2 * 6 * 4 * 2; // 96
    assert.equal(layer.flopsPerExample(), hidden + scores + softmax + pooled);
    assert.equal(layer.flopsPerExample(), 552);
    const noBias = new AttentionPooling({ units: 3, useBias: false });
    noBias.apply(tfl.input({ shape: [10, 2] }));
    assert.equal(noBias.flopsPerExample(), 2 * 10 * 2 * 3 + 10 * 3 + 2 * 10 * 3 + 3 * 10 + 2 * 10 * 2);
  });

  it('a model with a variable-length input pools sequences of any length', () => {
    const inp = tfl.input({ shape: [null, 3] });
    const model = tfl.model({ inputs: inp, outputs: new AttentionPooling({ units: 4, seed: 7 }).apply(inp) as tfl.SymbolicTensor });
    assert.deepEqual(model.outputs[0]!.shape, [null, 3]);
    assert.deepEqual((model.predict(tf.ones([2, 5, 3])) as tf.Tensor).shape, [2, 3]);
    // Identical tokens pool to that token, whatever their number.
    assert.ok(maxDiff(model.predict(tf.ones([1, 9, 3])) as tf.Tensor, tf.ones([1, 3])) < 1e-6);
  });

  it('a seed makes the initial weights reproducible', () => {
    const weights = () => {
      const layer = new AttentionPooling({ units: 3, seed: 9 });
      layer.apply(tfl.input({ shape: [4, 3] }));
      return layer.getWeights().map((w) => Array.from(w.dataSync()));
    };
    assert.deepEqual(weights(), weights());
  });

  it('rejects bad options and inputs with clear errors', () => {
    assert.throws(() => new AttentionPooling({} as never), (e: unknown) => e instanceof UsageError && /units must be a positive integer but got undefined/.test(e.message));
    assert.throws(() => new AttentionPooling({ units: 4, numHeads: 0 }), /numHeads must be a positive integer but got 0/);
    assert.throws(() => new AttentionPooling({ units: 4, kernelInitializer: 'xavier' }), /AttentionPooling: kernelInitializer "xavier" is not a registered initializer; use one of .*glorotUniform/);
    assert.throws(() => new AttentionPooling({ units: 4 }).apply(tfl.input({ shape: [4] })), /must be \[batch, time, features\] or \[batch, height, width, channels\] but got \[null, 4\]/);
    const layer = new AttentionPooling({ units: 4 });
    layer.apply(tfl.input({ shape: [4, 3] }));
    assert.throws(() => layer.apply(tfl.input({ shape: [4, 5] })), /axis -1/);
  });
});
