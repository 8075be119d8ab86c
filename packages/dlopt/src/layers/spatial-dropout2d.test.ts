import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/backend.js';
import { describeLayerConformance } from '../test-support/layer-conformance.js';
import { SpatialDropout2D } from './spatial-dropout2d.js';

// Inference mode is the identity: shape, config, save/load and gradients all checked the same way.
describeLayerConformance('SpatialDropout2D', [
  { name: 'rate 0.3', create: () => new SpatialDropout2D({ rate: 0.3, seed: 1 }), inputShape: [4, 5, 6] },
]);

describe('SpatialDropout2D', () => {
  before(async () => {
    await initBackend('native');
  });

  it('drops whole channels per example while training, scaling the rest by 1/(1 − rate)', () => {
    const layer = new SpatialDropout2D({ rate: 0.5, seed: 7 });
    const x = tf.ones([8, 3, 3, 16]);
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const v = y.arraySync() as number[][][][];
    let dropped = 0;
    for (let n = 0; n < 8; n++) {
      for (let c = 0; c < 16; c++) {
        const channel = v[n]!.flatMap((row) => row.map((px) => px[c]!));
        assert.ok(channel.every((p) => p === channel[0]), 'a channel is dropped or kept as a whole');
        assert.ok(channel[0] === 0 || Math.abs(channel[0]! - 2) < 1e-6);
        if (channel[0] === 0) dropped++;
      }
    }
    // 128 channels at p = 0.5: far from none and from all.
    assert.ok(dropped > 32 && dropped < 96, `${dropped} of 128 dropped`);
    const masks = [0, 1].map((n) => v[n]![0]![0]!.map((p) => p === 0));
    assert.notDeepEqual(masks[0], masks[1], 'each example has its own mask');
  });

  it('is the identity at inference; the same seed gives the same masks', () => {
    const x = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 2);
    const layer = new SpatialDropout2D({ rate: 0.9, seed: 3 });
    assert.deepEqual((layer.apply(x) as tf.Tensor).arraySync(), x.arraySync());
    const a = (new SpatialDropout2D({ rate: 0.5, seed: 3 }).apply(x, { training: true }) as tf.Tensor).arraySync();
    const b = (new SpatialDropout2D({ rate: 0.5, seed: 3 }).apply(x, { training: true }) as tf.Tensor).arraySync();
    assert.deepEqual(a, b);
  });

  it('rejects a rate outside [0, 1) and input that is not rank 4', () => {
    assert.throws(() => new SpatialDropout2D({ rate: 1 }), /rate must be in \[0, 1\) but got 1/);
    assert.throws(() => new SpatialDropout2D({ rate: -0.1 }), /rate/);
    assert.throws(() => new SpatialDropout2D({ rate: 0.2 }).apply(tf.ones([2, 3, 4])), /rank 4/);
  });
});
