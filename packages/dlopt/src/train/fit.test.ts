import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { compileClassifier } from './compile.js';
import { createOptimizer } from './optimizers/create-optimizer.js';
import { syntheticImages } from '../test-support/fixtures.js';
import { TrainingDivergedError } from '../errors.js';
import { fitModel, type EpochMetrics } from './fit.js';
import { evaluateModel } from './evaluate.js';

/** A small convnet on 8×8 images: fast enough to train for real in a unit test. */
function tinyModel(seed: number, learningRate = 0.01): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(
    tfl.layers.conv2d({
      inputShape: [8, 8, 3],
      filters: 4,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
    }),
  );
  model.add(tfl.layers.flatten());
  model.add(
    tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
  );
  compileClassifier(model, createOptimizer({ name: 'adam', learningRate }));
  return model;
}

describe('fitModel', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('learns a learnable task: validation accuracy far above chance', async () => {
    const train = syntheticImages(200, 1, 8);
    const val = syntheticImages(100, 2, 8);
    const model = tinyModel(7);
    const history = await fitModel(model, { train, val }, { epochs: 4, batchSize: 20, numClasses: 10, seed: 1 });
    assert.equal(history.length, 4);
    const last = history.at(-1)!;
    assert.ok(last.val_accuracy! > 0.6, `val accuracy ${last.val_accuracy} should be well above chance (0.1)`);
    assert.ok(last.loss < history[0]!.loss, 'training loss should fall');
    for (const m of history) {
      assert.deepEqual(Object.keys(m).sort(), [
        'accuracy', 'epoch', 'images_per_s', 'loss', 'lr', 'seconds', 'val_accuracy', 'val_loss',
      ]);
      assert.ok(m.images_per_s > 0 && m.seconds > 0);
    }
  });

  it('is reproducible from the seed, and the seed matters', async () => {
    const train = syntheticImages(60, 3, 8);
    const run = async (seed: number) =>
      (await fitModel(tinyModel(11), { train }, { epochs: 2, batchSize: 16, numClasses: 10, seed })).map((m) => m.loss);
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('reports null validation metrics without a validation split', async () => {
    const history = await fitModel(tinyModel(1), { train: syntheticImages(20, 4, 8) }, {
      epochs: 1, batchSize: 8, numClasses: 10, seed: 1,
    });
    assert.equal(history[0]!.val_loss, null);
    assert.equal(history[0]!.val_accuracy, null);
  });

  it('calls the observer per epoch and per batch, in order', async () => {
    const events: string[] = [];
    const ended: EpochMetrics[] = [];
    await fitModel(tinyModel(1), { train: syntheticImages(20, 4, 8) }, {
      epochs: 2, batchSize: 8, numClasses: 10, seed: 1,
      observer: {
        onEpochStart: (e, n, batches) => events.push(`start ${e}/${n} (${batches})`),
        onBatchEnd: (b, s) => events.push(`batch ${b} ${s.images}`),
        onEpochEnd: (m) => { events.push(`end ${m.epoch}`); ended.push(m); },
      },
    });
    assert.deepEqual(events, [
      'start 1/2 (3)', 'batch 1 8', 'batch 2 16', 'batch 3 20', 'end 1',
      'start 2/2 (3)', 'batch 1 8', 'batch 2 16', 'batch 3 20', 'end 2',
    ]);
    assert.equal(ended.length, 2);
  });

  it('stops with a clear error when the loss diverges', async () => {
    // An absurd learning rate drives the weights to infinity within a few steps.
    const model = tinyModel(1, 1e30);
    await assert.rejects(
      fitModel(model, { train: syntheticImages(64, 5, 8) }, { epochs: 3, batchSize: 8, numClasses: 10, seed: 1 }),
      (error: unknown) =>
        error instanceof TrainingDivergedError && /loss became (NaN|Infinity) at epoch \d+, batch \d+\/8.*--lr/.test(error.message),
    );
  });
});

describe('evaluateModel', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('computes exact accuracy and cross-entropy of a known model', async () => {
    // A model that ignores its input and always predicts softmax(bias).
    const model = tfl.sequential();
    model.add(tfl.layers.flatten({ inputShape: [8, 8, 3] }));
    model.add(tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: 'zeros' }));
    const bias = new Float32Array(10);
    bias[3] = 2;
    model.layers[1]!.setWeights([tf.zeros([192, 10]), tf.tensor1d(bias)]);
    const set = syntheticImages(25, 9, 8); // labels cycle 0..9, so 3 of 25 are class 3
    const result = await evaluateModel(model, set, { batchSize: 7, numClasses: 10 });
    const z = 9 + Math.exp(2);
    const p3 = Math.exp(2) / z;
    const pOther = 1 / z;
    const expectedLoss = (3 * -Math.log(p3) + 22 * -Math.log(pOther)) / 25;
    assert.equal(result.n, 25);
    assert.equal(result.accuracy, 3 / 25);
    assert.ok(Math.abs(result.loss - expectedLoss) < 1e-5, `${result.loss} vs ${expectedLoss}`);
    assert.ok(result.imagesPerS > 0);
  });
});
