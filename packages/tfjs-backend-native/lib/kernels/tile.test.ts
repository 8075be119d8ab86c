import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../index.js';
import { NATIVE_KERNELS } from '../register.js';
import { check, makeRng, randInt } from '../test-support/oracle.js';

describe('Tile (native vs cpu)', () => {
  it('is the native backend\'s own kernel', () => {
    assert.ok(NATIVE_KERNELS.Tile);
    assert.equal(tf.getKernel('Tile', 'native')?.backendName, 'native');
  });

  it('random shapes and repetitions of rank 1 to 5, exactly', async () => {
    const rng = makeRng(5);
    for (let k = 0; k < 40; k++) {
      const rank = randInt(rng, 1, 5);
      const shape = Array.from({ length: rank }, () => randInt(rng, 1, 4));
      const reps = Array.from({ length: rank }, () => randInt(rng, 1, 4));
      await check(`tile [${shape}] × [${reps}]`, k, [{ shape }], (x) => tf.tile(x, reps), { tolerance: 1e-9 });
    }
  });

  it('batch norm\'s pattern: a per-channel vector to a whole activation', async () => {
    await check('tile [1,1,1,32] × [64,16,16,1]', 1, [{ shape: [1, 1, 1, 32] }], (x) => tf.tile(x, [64, 16, 16, 1]), { tolerance: 1e-9 });
  });

  it('zero repetitions and empty inputs give empty outputs; int32 and bool fall back', async () => {
    await check('tile × 0', 2, [{ shape: [2, 3] }], (x) => tf.tile(x, [0, 2]), { tolerance: 1e-9 });
    await check('tile empty', 3, [{ shape: [0, 3] }], (x) => tf.tile(x, [2, 2]), { tolerance: 1e-9 });
    await check('tile int32', 4, [{ shape: [2, 3], dtype: 'int32' }], (x) => tf.tile(x, [2, 3]), { tolerance: 1e-9 });
    await check('tile bool', 5, [{ shape: [3], dtype: 'bool' }], (x) => tf.tile(x, [3]), { tolerance: 1e-9 });
  });

});
