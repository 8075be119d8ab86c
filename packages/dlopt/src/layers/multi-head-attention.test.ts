import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { UsageError } from '../errors.js';
import { describeLayerConformance } from '../test-support/layer-conformance.js';
import { Random } from '../util/random.js';
import { MultiHeadSelfAttention } from './multi-head-attention.js';

describeLayerConformance('MultiHeadSelfAttention', [
  { name: 'self-attention, 2 heads', create: () => new MultiHeadSelfAttention({ numHeads: 2, keyDim: 3, seed: 1 }), inputShape: [4, 5] },
  {
    name: 'causal, valueDim and outputDim, no bias',
    create: () => new MultiHeadSelfAttention({ numHeads: 3, keyDim: 2, valueDim: 4, outputDim: 3, useBias: false, causal: true, seed: 2 }),
    inputShape: [5, 4],
  },
  {
    name: 'cross-attention [query, value]',
    create: () => new MultiHeadSelfAttention({ numHeads: 2, keyDim: 2, biasInitializer: 'randomNormal', seed: 3 }),
    inputShape: [[3, 4], [5, 2]],
  },
  {
    name: 'cross-attention [query, value, key], causal',
    create: () => new MultiHeadSelfAttention({ numHeads: 1, keyDim: 3, valueDim: 2, causal: true, biasInitializer: 'randomNormal', seed: 4 }),
    inputShape: [[4, 3], [4, 2], [4, 5]],
  },
]);

type Seq = number[][][]; // [batch][time][features]
interface Weights { wq: number[][]; wk: number[][]; wv: number[][]; wo: number[][]; bq: number[]; bv: number[]; bo: number[] }

/** Attention computed with plain float64 loops, straight from the definition. */
function reference(query: Seq, value: Seq, key: Seq, w: Weights, heads: number, keyDim: number, valueDim: number, causal: boolean): Seq {
  const project = (x: number[], kernel: number[][], bias: number[]) =>
    bias.map((b, j) => b + x.reduce((s, xi, i) => s + xi * kernel[i]![j]!, 0));
  return query.map((qs, n) => {
    const q = qs.map((x) => project(x, w.wq, w.bq));
    const k = key[n]!.map((x) => project(x, w.wk, w.wk[0]!.map(() => 0)));
    const v = value[n]!.map((x) => project(x, w.wv, w.bv));
    return q.map((qi, i) => {
      const concat: number[] = [];
      for (let h = 0; h < heads; h++) {
        const scores = k.map((kj, j) => {
          if (causal && j > i) return -Infinity;
          let s = 0;
          for (let c = 0; c < keyDim; c++) s += qi[h * keyDim + c]! * kj[h * keyDim + c]!;
          return s / Math.sqrt(keyDim);
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const z = e.reduce((a, b) => a + b, 0);
        for (let c = 0; c < valueDim; c++) concat.push(e.reduce((s, ej, j) => s + (ej / z) * v[j]![h * valueDim + c]!, 0));
      }
      return project(concat, w.wo, w.bo);
    });
  });
}

function randomMatrix(rng: Random, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
}
const randomVector = (rng: Random, n: number) => Array.from({ length: n }, () => rng.normal());
const toTensor = (x: Seq) => tf.tensor3d(x);

/** Sets the layer's weights (creation order: kernels q, k, v, o, then biases q, v, o; the key has no bias). */
function setWeights(layer: MultiHeadSelfAttention, w: Weights): void {
  const kernels: tf.Tensor[] = [w.wq, w.wk, w.wv, w.wo].map((m) => tf.tensor2d(m));
  layer.setWeights(kernels.concat([w.bq, w.bv, w.bo].map((b) => tf.tensor1d(b))));
}

function assertClose(actual: tf.Tensor, expected: Seq, tolerance = 1e-5): void {
  const a = actual.arraySync() as Seq;
  assert.deepEqual(actual.shape, [expected.length, expected[0]!.length, expected[0]![0]!.length]);
  expected.flat(2).forEach((e, i) => assert.ok(Math.abs(a.flat(2)[i]! - e) <= tolerance * (1 + Math.abs(e)), `element ${i}: ${a.flat(2)[i]} vs ${e}`));
}

describe('MultiHeadSelfAttention', () => {
  before(async () => {
    await initBackend('native');
  });

  it('a tiny hand-set case: equal keys give uniform attention, so the output is the mean value', () => {
    // One head, keyDim 1, identity-like projections: K = 0 for every token, so every
    // score is 0 and each query averages the values.
    const layer = new MultiHeadSelfAttention({ numHeads: 1, keyDim: 1, valueDim: 2, outputDim: 2 });
    const x = [[[1, 0], [0, 1], [2, 2]]];
    layer.apply(toTensor(x));
    setWeights(layer, {
      wq: [[1], [1]], wk: [[0], [0]], wv: [[1, 0], [0, 1]], wo: [[1, 0], [0, 1]],
      bq: [0], bv: [0, 0], bo: [0.5, -0.5],
    });
    const mean = [1, 1];
    assertClose(layer.apply(toTensor(x)) as tf.Tensor, [[0, 1, 2].map(() => [mean[0]! + 0.5, mean[1]! - 0.5])]);
  });

  for (const causal of [false, true]) {
    it(`self-attention equals the float64 reference (${causal ? 'causal' : 'full'}, 2 heads, valueDim ≠ keyDim)`, () => {
      const rng = new Random(causal ? 11 : 10);
      const [heads, keyDim, valueDim, d, out, t] = [2, 3, 2, 4, 5, 4];
      const w: Weights = {
        wq: randomMatrix(rng, d, heads * keyDim), wk: randomMatrix(rng, d, heads * keyDim), wv: randomMatrix(rng, d, heads * valueDim),
        wo: randomMatrix(rng, heads * valueDim, out), bq: randomVector(rng, heads * keyDim),
        bv: randomVector(rng, heads * valueDim), bo: randomVector(rng, out),
      };
      const x: Seq = [randomMatrix(rng, t, d), randomMatrix(rng, t, d)];
      const layer = new MultiHeadSelfAttention({ numHeads: heads, keyDim, valueDim, outputDim: out, causal });
      layer.apply(toTensor(x));
      setWeights(layer, w);
      assertClose(layer.apply(toTensor(x)) as tf.Tensor, reference(x, x, x, w, heads, keyDim, valueDim, causal));
    });
  }

  it('cross-attention [query, value, key] equals the float64 reference', () => {
    const rng = new Random(12);
    const [heads, keyDim, valueDim, dq, dv, dk, out, tq, tk] = [2, 2, 3, 3, 2, 4, 3, 2, 5];
    const w: Weights = {
      wq: randomMatrix(rng, dq, heads * keyDim), wk: randomMatrix(rng, dk, heads * keyDim), wv: randomMatrix(rng, dv, heads * valueDim),
      wo: randomMatrix(rng, heads * valueDim, out), bq: randomVector(rng, heads * keyDim),
      bv: randomVector(rng, heads * valueDim), bo: randomVector(rng, out),
    };
    const q: Seq = [randomMatrix(rng, tq, dq)];
    const v: Seq = [randomMatrix(rng, tk, dv)];
    const k: Seq = [randomMatrix(rng, tk, dk)];
    const layer = new MultiHeadSelfAttention({ numHeads: heads, keyDim, valueDim, outputDim: out });
    layer.apply([toTensor(q), toTensor(v), toTensor(k)]);
    setWeights(layer, w);
    assertClose(layer.apply([toTensor(q), toTensor(v), toTensor(k)]) as tf.Tensor, reference(q, v, k, w, heads, keyDim, valueDim, false));
  });

  it('causal: the output at t does not change when inputs after t change, and does at and after the change', () => {
    const layer = new MultiHeadSelfAttention({ numHeads: 2, keyDim: 4, causal: true, seed: 5 });
    const x = tf.randomNormal([2, 6, 3], 0, 1, 'float32', 1);
    const changed = tf.concat([tf.slice(x, [0, 0, 0], [2, 4, 3]), tf.randomNormal([2, 2, 3], 0, 1, 'float32', 2)], 1);
    const a = (layer.apply(x) as tf.Tensor).arraySync() as Seq;
    const b = (layer.apply(changed) as tf.Tensor).arraySync() as Seq;
    for (let n = 0; n < 2; n++) {
      for (let t = 0; t < 6; t++) {
        const diff = Math.max(...a[n]![t]!.map((v, c) => Math.abs(v - b[n]![t]![c]!)));
        if (t < 4) assert.equal(diff, 0, `example ${n}, t=${t} changed by ${diff}`);
        else assert.ok(diff > 1e-4, `example ${n}, t=${t} should change`);
      }
    }
    // Without the mask the early positions do see the later tokens.
    const full = new MultiHeadSelfAttention({ numHeads: 2, keyDim: 4, seed: 5 });
    const fa = (full.apply(x) as tf.Tensor).arraySync() as Seq;
    const fb = (full.apply(changed) as tf.Tensor).arraySync() as Seq;
    assert.ok(Math.abs(fa[0]![0]![0]! - fb[0]![0]![0]!) > 1e-4);
  });

  it('permutations: permuting key/value tokens changes nothing; permuting query tokens permutes the output', () => {
    const layer = new MultiHeadSelfAttention({ numHeads: 2, keyDim: 3, seed: 6 });
    const q = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 3);
    const kv = tf.randomNormal([1, 5, 4], 0, 1, 'float32', 4);
    const perm = tf.tensor1d([3, 0, 4, 1, 2], 'int32');
    const base = layer.apply([q, kv]) as tf.Tensor;
    const kvPermuted = layer.apply([q, tf.gather(kv, perm, 1)]) as tf.Tensor;
    assert.ok(tf.max(tf.abs(tf.sub(base, kvPermuted))).dataSync()[0]! < 1e-5);
    const qPerm = tf.tensor1d([2, 0, 1], 'int32');
    const qPermuted = layer.apply([tf.gather(q, qPerm, 1), kv]) as tf.Tensor;
    assert.ok(tf.max(tf.abs(tf.sub(tf.gather(base, qPerm, 1), qPermuted))).dataSync()[0]! < 1e-5);
    assert.ok(tf.max(tf.abs(tf.sub(base, qPermuted))).dataSync()[0]! > 1e-3, 'the query order matters');
  });

  it('flopsPerExample: projections, scaling, QKᵀ, mask, softmax and weighted sum counted by hand', () => {
    const layer = new MultiHeadSelfAttention({ numHeads: 2, keyDim: 4, valueDim: 3, outputDim: 6, causal: true });
    layer.apply(tfl.input({ shape: [5, 8] }));
    // T=5, d=8, heads·keyDim = 8, heads·valueDim = 6.
    const q = 2 * 5 * 8 * 8 + 5 * 8; // 680
    const k = 2 * 5 * 8 * 8; // 640: no key bias
    const v = 2 * 5 * 8 * 6 + 5 * 6; // 510
    const o = 2 * 5 * 6 * 6 + 5 * 6; // 390
    const scale = 5 * 8; // 40
    const scores = 2 * 2 * 5 * 5 * 4; // 400
    const mask = 2 * 5 * 5; // 50
    const softmax = 3 * 2 * 5 * 5; // 150
    const weighted = 2 * 2 * 5 * 5 * 3; // 300
    assert.equal(layer.flopsPerExample(), q + k + v + o + scale + scores + mask + softmax + weighted);
    assert.equal(layer.flopsPerExample(), 3160);

    const cross = new MultiHeadSelfAttention({ numHeads: 1, keyDim: 2, useBias: false });
    cross.apply([tfl.input({ shape: [3, 4] }), tfl.input({ shape: [7, 5] })]);
    // Tq=3, Tk=7, dq=4, dv=dk=5, output 4 features.
    assert.equal(cross.flopsPerExample(), 2 * 3 * 4 * 2 + 2 * 7 * 5 * 2 + 2 * 7 * 5 * 2 + 2 * 3 * 2 * 4 + 3 * 2 + 2 * 3 * 7 * 2 + 3 * 3 * 7 + 2 * 3 * 7 * 2);
  });

  it('a model with a variable-length input runs on sequences of any length (causal mask sized per call)', () => {
    const inp = tfl.input({ shape: [null, 4] });
    const layer = new MultiHeadSelfAttention({ numHeads: 2, keyDim: 2, causal: true, seed: 9 });
    const model = tfl.model({ inputs: inp, outputs: layer.apply(inp) as tfl.SymbolicTensor });
    assert.deepEqual(model.outputs[0]!.shape, [null, null, 4]);
    const long = tf.randomNormal([1, 7, 4], 0, 1, 'float32', 6);
    const short = tf.slice(long, [0, 0, 0], [1, 3, 4]);
    const a = model.predict(long) as tf.Tensor;
    const b = model.predict(short) as tf.Tensor;
    assert.deepEqual(a.shape, [1, 7, 4]);
    // Causal: the first 3 outputs only see the first 3 tokens.
    assert.ok(tf.max(tf.abs(tf.sub(tf.slice(a, [0, 0, 0], [1, 3, 4]), b))).dataSync()[0]! < 1e-5);
  });

  it('a seed makes the initial weights reproducible, and each projection gets its own stream', () => {
    const make = () => {
      const layer = new MultiHeadSelfAttention({ numHeads: 2, keyDim: 2, seed: 7 });
      layer.apply(tfl.input({ shape: [3, 4] }));
      return layer.getWeights().map((w) => Array.from(w.dataSync()));
    };
    const [a, b] = [make(), make()];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a[0], a[1], 'query and key kernels differ');
    const config = new MultiHeadSelfAttention({ numHeads: 2, keyDim: 2, seed: 7 }).getConfig();
    assert.equal(config.seed, 7);
    assert.deepEqual((config.kernelInitializer as { className: string }).className, 'VarianceScaling');
  });

  it('accepts initializers as names, instances and Keras configs', () => {
    const layer = new MultiHeadSelfAttention({ numHeads: 1, keyDim: 2, useBias: true, kernelInitializer: tfl.initializers.ones(), biasInitializer: { className: 'Constant', config: { value: 0.5 } } });
    layer.apply(tfl.input({ shape: [2, 2] }));
    assert.deepEqual(Array.from(layer.getWeights()[0]!.dataSync()), [1, 1, 1, 1]);
    assert.deepEqual(Array.from(layer.getWeights()[4]!.dataSync()), [0.5, 0.5]);
    assert.deepEqual(layer.weights.map((w) => w.originalName.split('/').slice(-2).join('/')), [
      'query/kernel', 'key/kernel', 'value/kernel', 'output/kernel', 'query/bias', 'value/bias', 'output/bias',
    ]);
  });

  it('rejects bad options and inputs with clear errors', () => {
    assert.throws(() => new MultiHeadSelfAttention({ numHeads: 0, keyDim: 2 }), (e: unknown) => e instanceof UsageError && /numHeads must be a positive integer but got 0/.test(e.message));
    assert.throws(() => new MultiHeadSelfAttention({ numHeads: 2, keyDim: 1.5 }), /keyDim must be a positive integer/);
    assert.throws(() => new MultiHeadSelfAttention({ numHeads: 2, keyDim: 2, dropout: 1 }), /dropout must be in \[0, 1\)/);
    assert.throws(() => new MultiHeadSelfAttention({ numHeads: 2, keyDim: 2, kernelInitializer: 'glorot' }), /MultiHeadSelfAttention: kernelInitializer "glorot" is not a registered initializer/);
    assert.throws(() => new MultiHeadSelfAttention({ numHeads: 2, keyDim: 2, kernelInitializer: { className: 'Dense', config: {} } }), /not a registered initializer/);
    const layer = new MultiHeadSelfAttention({ numHeads: 2, keyDim: 2 });
    assert.throws(() => layer.apply(tfl.input({ shape: [4] })), /must be \[batch, time, features\]/);
    const cross = new MultiHeadSelfAttention({ numHeads: 2, keyDim: 2 });
    assert.throws(() => cross.apply([tfl.input({ shape: [3, 4] }), tfl.input({ shape: [5, 4] }), tfl.input({ shape: [6, 4] })]), /key and value must have the same length but got 6 and 5/);
  });

  it('attention dropout acts only while training', () => {
    const layer = new MultiHeadSelfAttention({ numHeads: 2, keyDim: 2, dropout: 0.5, seed: 8 });
    const x = tf.randomNormal([2, 6, 3], 0, 1, 'float32', 5);
    const a = layer.apply(x) as tf.Tensor;
    const b = layer.apply(x) as tf.Tensor;
    assert.equal(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0], 0);
    const t = layer.apply(x, { training: true }) as tf.Tensor;
    assert.ok(tf.max(tf.abs(tf.sub(a, t))).dataSync()[0]! > 1e-4);
  });

  it('is not registered under the name of tfjs-layers\' own MultiHeadAttention', () => {
    assert.equal(MultiHeadSelfAttention.className, 'MultiHeadSelfAttention');
    assert.equal(tf.serialization.SerializationMap.getMap().classNameMap['MultiHeadSelfAttention']?.[0], MultiHeadSelfAttention);
  });
});
