import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../index.js';
import { check, makeRng, randInt } from '../test-support/oracle.js';

const EXACT = { tolerance: 1e-9 };

describe('Slice / SplitV (native vs cpu)', () => {
  it('are the native backend\'s own kernels', () => {
    assert.equal(tf.getKernel('Slice', 'native')?.backendName, 'native');
    assert.equal(tf.getKernel('SplitV', 'native')?.backendName, 'native');
  });

  it('random slices of rank 1 to 5, exactly (contiguous ones included)', async () => {
    const rng = makeRng(11);
    for (let k = 0; k < 60; k++) {
      const rank = randInt(rng, 1, 5);
      const shape = Array.from({ length: rank }, () => randInt(rng, 1, 5));
      const begin = shape.map((d) => randInt(rng, 0, d - 1));
      const size = shape.map((d, i) => (randInt(rng, 0, 3) === 0 ? -1 : randInt(rng, 0, d - begin[i]!)));
      await check(`slice [${shape}] at [${begin}] size [${size}]`, k, [{ shape }], (x) => tf.slice(x, begin, size), EXACT);
    }
  });

  it('splits along every axis, equal and uneven, negative axis', async () => {
    await check('split [64,64] in 4 on axis 1 (LSTM gates)', 1, [{ shape: [64, 64] }], (x) => tf.split(x, 4, 1), EXACT);
    await check('split [3,10,4] [2,5,3] on axis 1', 2, [{ shape: [3, 10, 4] }], (x) => tf.split(x, [2, 5, 3], 1), EXACT);
    await check('split [6,5] in 3 on axis 0', 3, [{ shape: [6, 5] }], (x) => tf.split(x, 3, 0), EXACT);
    await check('split [2,3,8] [3,-1] on axis -1', 4, [{ shape: [2, 3, 8] }], (x) => tf.split(x, [3, -1], -1), EXACT);
    await check('split with an empty piece', 5, [{ shape: [2, 6] }], (x) => tf.split(x, [0, 6], 1), EXACT);
  });

  it('int32 falls back to the cpu kernels', async () => {
    await check('slice int32', 6, [{ shape: [4, 5], dtype: 'int32' }], (x) => tf.slice(x, [1, 1], [2, 3]), EXACT);
    await check('split int32', 7, [{ shape: [4, 6], dtype: 'int32' }], (x) => tf.split(x, 2, 1), EXACT);
  });
});
