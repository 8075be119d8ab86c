import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from './backend.js';

describe('recurrent layers on the native backend (chained ops restored)', () => {
  before(async () => {
    const choice = await initBackend('native');
    assert.equal(choice.name, 'native');
  });

  it('x.flatten() and friends exist, as tfjs-layers expects', () => {
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const proto = x as unknown as Record<string, (...a: unknown[]) => tf.Tensor>;
    assert.deepEqual(Array.from(proto.flatten!.call(x).dataSync()), [1, 2, 3, 4]);
    assert.deepEqual(proto.stridedSlice!.call(x, [0, 1], [2, 2], [1, 1]).shape, [2, 1]);
  });

  for (const [name, make] of [
    ['SimpleRNN', () => tfl.layers.simpleRNN({ units: 8, inputShape: [6, 3] })],
    ['LSTM', () => tfl.layers.lstm({ units: 8, inputShape: [6, 3] })],
    ['GRU', () => tfl.layers.gru({ units: 8, inputShape: [6, 3] })],
  ] as const) {
    it(`${name} builds with its default (orthogonal) recurrent initializer and trains`, async () => {
      const model = tfl.sequential();
      model.add(make());
      model.add(tfl.layers.dense({ units: 1 }));
      model.compile({ optimizer: tf.train.adam(0.02), loss: 'meanSquaredError' });
      // Target: the sum of the first feature over time.
      const x = tf.randomNormal([32, 6, 3], 0, 1, 'float32', 5);
      const y = tf.sum(tf.slice(x, [0, 0, 0], [32, 6, 1]), [1]);
      const first = (await model.trainOnBatch(x, y)) as number;
      let last = first;
      for (let i = 0; i < 30; i++) last = (await model.trainOnBatch(x, y)) as number;
      assert.ok(last < first * 0.7, `${name}: loss ${first} → ${last}`);
      tf.dispose([x, y]);
    });
  }
});
