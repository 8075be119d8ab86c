import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { UsageError } from '../errors.js';
import { describeLayerConformance } from '../test-support/layer-conformance.js';
import { LocalResponseNormalization, type LocalResponseNormalizationArgs } from './local-response-normalization.js';

describeLayerConformance('LocalResponseNormalization', [
  // Radius 5 is wider than the 7 channels: the window is clipped at both edges.
  { name: 'defaults, window wider than the channels', create: () => new LocalResponseNormalization(), inputShape: [3, 4, 7] },
  {
    name: 'radius 2, AlexNet-like constants, batch 1',
    create: () => new LocalResponseNormalization({ depthRadius: 2, bias: 2, alpha: 0.1, beta: 0.75 }),
    inputShape: [2, 3, 9],
    batch: 1,
  },
  { name: 'radius 0 (each channel alone)', create: () => new LocalResponseNormalization({ depthRadius: 0, bias: 0.5, alpha: 2, beta: 1 }), inputShape: [3, 2, 3] },
]);

/** The same normalization from elementwise ops and slices only: its gradient comes from tfjs's autodiff, not the LRNGrad kernel. */
function referenceLrn(x: tf.Tensor4D, r: number, bias: number, alpha: number, beta: number): tf.Tensor4D {
  const channels = x.shape[3];
  const squares = tf.pad(tf.square(x), [[0, 0], [0, 0], [0, 0], [r, r]]);
  let sum = tf.zerosLike(x);
  for (let k = 0; k <= 2 * r; k++) sum = tf.add(sum, tf.slice(squares, [0, 0, 0, k], [-1, -1, -1, channels]));
  return tf.div(x, tf.pow(tf.add(bias, tf.mul(alpha, sum)), beta));
}

function assertClose(actual: tf.Tensor | Float32Array | number[], expected: tf.Tensor | Float32Array | number[], tolerance = 1e-5): void {
  const a = actual instanceof tf.Tensor ? actual.dataSync() : actual;
  const e = expected instanceof tf.Tensor ? expected.dataSync() : expected;
  assert.equal(a.length, e.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - e[i]!) <= tolerance * (1 + Math.abs(e[i]!)), `element ${i}: ${a[i]} vs ${e[i]}`);
  }
}

describe('LocalResponseNormalization', () => {
  before(async () => {
    await initBackend('native');
  });

  it('computes x / (bias + alpha · Σ window x²)^beta: a hand-computed case', () => {
    const layer = new LocalResponseNormalization({ depthRadius: 1, bias: 1, alpha: 1, beta: 0.5 });
    const y = layer.apply(tf.tensor4d([1, 2, 3], [1, 1, 1, 3])) as tf.Tensor;
    // Windows {0,1}, {0,1,2}, {1,2}: 1 + 1 + 4, 1 + 1 + 4 + 9, 1 + 4 + 9.
    assertClose(y, [1 / Math.sqrt(6), 2 / Math.sqrt(15), 3 / Math.sqrt(14)]);
  });

  it('equals tf.localResponseNormalization and an elementwise reference', () => {
    const x = tf.randomNormal([2, 3, 4, 11], 0, 2, 'float32', 4) as tf.Tensor4D;
    for (const args of [{}, { depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75 }, { depthRadius: 3, bias: 0.5, alpha: 0.3, beta: 1.5 }]) {
      const layer = new LocalResponseNormalization(args);
      const y = layer.apply(x) as tf.Tensor;
      const { depthRadius: r, bias, alpha, beta } = layer;
      assertClose(y, tf.localResponseNormalization(x, r, bias, alpha, beta));
      assertClose(y, referenceLrn(x, r, bias, alpha, beta));
    }
  });

  it('has the gradient of the elementwise reference on the native backend (LRNGrad falls back to the cpu kernel)', () => {
    assert.equal(tf.getBackend(), 'native');
    const x = tf.randomNormal([2, 3, 2, 8], 0, 1.5, 'float32', 9) as tf.Tensor4D;
    const projection = tf.randomNormal([2, 3, 2, 8], 0, 1, 'float32', 10);
    for (const [r, bias, alpha, beta] of [[5, 1, 1, 0.5], [2, 2, 0.1, 0.75], [1, 0.5, 1, 1.5]] as const) {
      const layer = new LocalResponseNormalization({ depthRadius: r, bias, alpha, beta });
      const viaLayer = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, projection)))(x);
      const viaReference = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(referenceLrn(t as tf.Tensor4D, r, bias, alpha, beta), projection)))(x);
      assertClose(viaLayer, viaReference, 1e-4);
    }
  });

  it('rejects bad arguments and inputs', () => {
    const bad: [LocalResponseNormalizationArgs, RegExp][] = [
      [{ depthRadius: 1.5 }, /depthRadius must be a non-negative integer \(got 1.5\)/],
      [{ depthRadius: -1 }, /depthRadius must be a non-negative integer \(got -1\)/],
      [{ alpha: Number.NaN }, /alpha must be a finite number/],
      [{ beta: '0.5' as unknown as number }, /beta must be a finite number \(got "0.5"\)/],
      [{ bias: Infinity }, /bias must be a finite number/],
    ];
    for (const [args, message] of bad) {
      assert.throws(() => new LocalResponseNormalization(args), (e: unknown) => e instanceof UsageError && message.test(e.message));
    }
    assert.throws(() => new LocalResponseNormalization().apply(tf.zeros([2, 3, 4])), /expects NHWC input of rank 4 \(got shape \[2, 3, 4\]\)/);
  });

  it('counts FLOPs per output element as 2·(window width) + 4', () => {
    const layer = new LocalResponseNormalization({ depthRadius: 1 });
    layer.apply(tfl.input({ shape: [2, 5, 3] }));
    // Windows of 2, 3, 2 channels at each of the 2·5 positions.
    assert.equal(layer.flopsPerExample(), 10 * (2 * 2 + 4 + (2 * 3 + 4) + (2 * 2 + 4)));
    const wide = new LocalResponseNormalization();
    wide.apply(tf.zeros([1, 1, 1, 4]));
    assert.equal(wide.flopsPerExample(), 4 * (2 * 4 + 4));
    assert.throws(() => new LocalResponseNormalization().flopsPerExample(), /needs the layer built/);
  });

  it('trains in a small model with model.fit (loss decreases)', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed: 1 }), inputShape: [6, 6, 3] }),
        new LocalResponseNormalization({ depthRadius: 2, bias: 1, alpha: 0.5, beta: 0.75 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 1, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
    const x = tf.randomNormal([16, 6, 6, 3], 0, 1, 'float32', 12);
    const y = tf.tidy(() => tf.mul(tf.reshape(tf.mean(x, [1, 2, 3]), [16, 1]), 4));
    const history = await model.fit(x, y, { epochs: 15, batchSize: 8, shuffle: false, verbose: 0 });
    const loss = history.history.loss as number[];
    assert.ok(loss.at(-1)! < 0.5 * loss[0]!, `loss ${loss[0]} → ${loss.at(-1)}`);
  });
});
