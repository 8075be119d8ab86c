import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/backend.js';
import { tempDir } from '../test-support/fixtures.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { createClassifier } from './compile.js';

describe('saveCheckpoint', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    await initBackend('native');
    ({ dir, cleanup } = await tempDir());
  });
  after(() => cleanup());

  it('leaves no tensor behind and keeps the optimizer usable (its own variables are not freed)', async () => {
    const model = createClassifier('seed-cnn', { inputShape: [8, 8, 3], numClasses: 3, seed: 1 });
    const x = tf.randomNormal([4, 8, 8, 3], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3);
    await model.trainOnBatch(x, y);
    const optimizer = (model as unknown as { optimizer: tf.Optimizer }).optimizer;
    await saveCheckpoint(dir, model, optimizer, { epoch: 1, step: 1 }, [], []);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await saveCheckpoint(dir, model, optimizer, { epoch: 1, step: 1 }, [], []);
    assert.equal(tf.memory().numTensors, before);
    await model.trainOnBatch(x, y);
    assert.equal((await loadCheckpoint(dir))?.epoch, 1);
  });
});
