import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../backend/backend.js';
import { syntheticImages } from '../../test-support/fixtures.js';
import { compileClassifier } from '../compile.js';
import { fitModel, type EpochMetrics } from '../fit.js';
import { createOptimizer } from '../optimizers/create-optimizer.js';
import type { CallbackState, TrainingContext } from './callback.js';
import { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';

type Monitored = 'val_loss' | 'val_accuracy' | 'loss' | 'accuracy';

function epochMetrics(epoch: number, monitor: Monitored, value: number | null): EpochMetrics {
  const m: EpochMetrics = { epoch, loss: 1, accuracy: 0.5, val_loss: null, val_accuracy: null, seconds: 1, images_per_s: 1, lr: null };
  if (value === null && (monitor === 'loss' || monitor === 'accuracy')) throw new Error('training metrics are never null');
  (m as unknown as Record<string, number | null>)[monitor] = value;
  return m;
}

/** A small model whose weights the script sets to one value per epoch: the epoch number. */
function smallModel(): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.dense({ units: 2, inputShape: [3] }));
  return model;
}

function fill(model: tfl.LayersModel, value: number): tf.Tensor[] {
  return model.getWeights().map((w) => tf.fill(w.shape, value));
}

/** The single value all of a model's weights hold (they are set to one value each epoch). */
function weightValue(model: tfl.LayersModel): number {
  const all = model.getWeights().flatMap((w) => Array.from(w.dataSync()));
  assert.ok(all.every((v) => v === all[0]), `weights all equal: ${all}`);
  return all[0]!;
}

interface Outcome {
  /** Epochs that ran (the last one is where training stopped). */
  ran: number;
  stoppedEpoch: number | undefined;
  /** The model's weights (one value) after onTrainEnd. */
  finalWeights: number;
  es: EarlyStopping;
}

/**
 * Drives the callback as fitModel does, epoch by epoch, without training: the
 * model's weights become the epoch's number, then onEpochEnd sees `values[e − 1]`.
 * With `evaluation`, ctx.evaluationWeights returns 100 + the epoch (as EMA would).
 */
function script(
  values: (number | null)[],
  options: EarlyStoppingOptions & { evaluation?: boolean; es?: EarlyStopping; firstEpoch?: number; model?: tfl.LayersModel } = {},
): Outcome {
  const monitor = (options.monitor ?? 'val_loss') as Monitored;
  const es = options.es ?? new EarlyStopping(options);
  const model = options.model ?? smallModel();
  const ctx: TrainingContext = { model, optimizer: undefined, epochs: values.length, stepsPerEpoch: 1, epoch: 0, step: 0, stopTraining: false };
  let shadow: tf.Tensor[] = [];
  if (options.evaluation) ctx.evaluationWeights = () => shadow;
  const first = options.firstEpoch ?? 1;
  let epoch = first - 1;
  for (const value of values) {
    epoch++;
    ctx.epoch = epoch - 1;
    const weights = fill(model, epoch);
    model.setWeights(weights);
    tf.dispose(weights);
    tf.dispose(shadow);
    shadow = fill(model, 100 + epoch);
    ctx.epoch = epoch;
    es.onEpochEnd(epochMetrics(epoch, monitor, value), ctx);
    if (ctx.stopTraining) break;
  }
  es.onTrainEnd(ctx);
  const finalWeights = weightValue(model);
  tf.dispose(shadow);
  return { ran: epoch - first + 1, stoppedEpoch: es.stoppedEpoch, finalWeights, es };
}

describe('EarlyStopping', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('patience 0 stops at the first epoch without improvement', () => {
    const r = script([1.0, 0.9, 0.95, 0.5], { patience: 0 });
    assert.equal(r.ran, 3);
    assert.equal(r.stoppedEpoch, 3);
    assert.deepEqual(r.es.bestSoFar, { epoch: 2, value: 0.9 });
    assert.equal(r.finalWeights, 2, 'weights of the best epoch restored');
  });

  it('patience 2 stops at the second epoch in a row without improvement', () => {
    const r = script([1.0, 0.9, 0.95, 0.85, 0.86, 0.87, 0.5, 0.4], { patience: 2 });
    assert.equal(r.stoppedEpoch, 6);
    assert.equal(r.ran, 6);
    assert.equal(r.finalWeights, 4);
  });

  it('patience 3 waits out two bad epochs and stops at the third', () => {
    const survives = script([1.0, 0.9, 0.95, 0.85, 0.86, 0.87, 0.5, 0.4], { patience: 3 });
    assert.equal(survives.stoppedEpoch, undefined);
    assert.equal(survives.ran, 8);
    assert.equal(survives.finalWeights, 8, 'the last epoch was the best: its weights stay');
    const stops = script([1.0, 0.9, 0.95, 0.85, 0.86, 0.87, 0.88, 0.5], { patience: 3 });
    assert.equal(stops.stoppedEpoch, 7);
    assert.equal(stops.finalWeights, 4);
  });

  it('an equal value is no improvement', () => {
    assert.equal(script([0.5, 0.5, 0.5], { patience: 1 }).stoppedEpoch, 2);
  });

  it('minDelta: smaller improvements do not count, and do not move the best value', () => {
    const values = [1.0, 0.96, 0.94, 0.93, 0.92, 0.91];
    assert.equal(script(values, { patience: 1 }).stoppedEpoch, undefined, 'every epoch improves without minDelta');
    assert.equal(script(values, { patience: 1, minDelta: 0.05 }).stoppedEpoch, 2, '0.96 is not below 1.0 − 0.05');
    // 0.94 beats 1.0 − 0.05 (the best stays 1.0 through epoch 2); then 0.93 and 0.92 do not beat 0.94 − 0.05.
    const r = script(values, { patience: 2, minDelta: 0.05 });
    assert.equal(r.stoppedEpoch, 5);
    assert.deepEqual(r.es.bestSoFar, { epoch: 3, value: 0.94 });
    assert.equal(r.finalWeights, 3);
  });

  it('val_accuracy is maximised, val_loss minimised', () => {
    const rising = [0.5, 0.6, 0.7, 0.8];
    assert.equal(script(rising, { monitor: 'val_accuracy', patience: 0 }).stoppedEpoch, undefined);
    assert.equal(script(rising, { monitor: 'val_loss', patience: 0 }).stoppedEpoch, 2, 'a rising loss stops');
    const falling = [0.8, 0.7, 0.6, 0.5];
    assert.equal(script(falling, { monitor: 'val_loss', patience: 0 }).stoppedEpoch, undefined);
    assert.equal(script(falling, { monitor: 'val_accuracy', patience: 0 }).stoppedEpoch, 2, 'a falling accuracy stops');
    const r = script([0.5, 0.6, 0.55, 0.58, 0.9], { monitor: 'val_accuracy', patience: 2 });
    assert.equal(r.stoppedEpoch, 4);
    assert.deepEqual(r.es.bestSoFar, { epoch: 2, value: 0.6 });
    assert.equal(r.finalWeights, 2);
    // Training metrics work the same way.
    assert.equal(script([0.5, 0.4], { monitor: 'accuracy', patience: 0 }).stoppedEpoch, 2);
    assert.equal(script([0.5, 0.4], { monitor: 'loss', patience: 0 }).stoppedEpoch, undefined);
  });

  it('a missing validation metric (null) never stops and never counts as a bad epoch', () => {
    const none = script([null, null, null, null], { patience: 0 });
    assert.equal(none.stoppedEpoch, undefined);
    assert.equal(none.ran, 4);
    assert.equal(none.es.bestSoFar, undefined);
    assert.equal(none.finalWeights, 4, 'nothing to restore');
    assert.equal(script([1.0, null, null, 0.9, null], { patience: 1 }).stoppedEpoch, undefined);
  });

  it('restoreBestWeights false keeps the last weights', () => {
    const stopped = script([1.0, 2.0, 3.0], { patience: 1, restoreBestWeights: false });
    assert.equal(stopped.stoppedEpoch, 2);
    assert.equal(stopped.finalWeights, 2);
    const ended = script([1.0, 2.0, 3.0], { patience: 5, restoreBestWeights: false });
    assert.equal(ended.finalWeights, 3);
    assert.equal(script([1.0, 2.0, 3.0], { patience: 5 }).finalWeights, 1, 'restored at the end even without stopping');
  });

  it('keeps the evaluation weights (ctx.evaluationWeights) of the best epoch, not the raw ones', () => {
    const r = script([1.0, 0.5, 0.7, 0.8], { patience: 2, evaluation: true });
    assert.equal(r.stoppedEpoch, 4);
    assert.equal(r.finalWeights, 102);
  });

  it('leaks no tensors', () => {
    const model = smallModel();
    const before = tf.memory().numTensors;
    script([1.0, 0.5, 0.7, 0.4, 0.8, 0.9], { patience: 2, model });
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });

  it('state() and restore() continue a run exactly (best, its epoch, wait and best weights)', () => {
    const values = [1.0, 0.8, 0.9, 0.95, 0.97];
    const whole = script(values, { patience: 3 });
    assert.equal(whole.stoppedEpoch, 5);
    assert.equal(whole.finalWeights, 2);

    // The same run interrupted after epoch 3 (best at 2, one bad epoch) and resumed in a new callback.
    const first = new EarlyStopping({ patience: 3 });
    const model = smallModel();
    const ctx: TrainingContext = { model, optimizer: undefined, epochs: 5, stepsPerEpoch: 1, epoch: 0, step: 0, stopTraining: false };
    for (let epoch = 1; epoch <= 3; epoch++) {
      const w = fill(model, epoch);
      model.setWeights(w);
      tf.dispose(w);
      ctx.epoch = epoch;
      first.onEpochEnd(epochMetrics(epoch, 'val_loss', values[epoch - 1]!), ctx);
    }
    const saved = first.state();
    const checkpoint: CallbackState = {
      json: JSON.parse(JSON.stringify(saved.json)) as unknown,
      tensors: saved.tensors!.map((t) => t.clone()),
    };
    assert.deepEqual(checkpoint.json, { best: 0.8, bestEpoch: 2, wait: 1 });
    assert.equal(checkpoint.tensors!.length, 2);
    first.onTrainEnd(ctx); // the interrupted run's callback goes away

    const resumed = new EarlyStopping({ patience: 3 });
    resumed.restore(checkpoint);
    assert.deepEqual(resumed.bestSoFar, { epoch: 2, value: 0.8 });
    const r = script(values.slice(3), { es: resumed, firstEpoch: 4, model });
    assert.equal(r.stoppedEpoch, 5, 'stops where the uninterrupted run stopped');
    assert.equal(r.finalWeights, 2, "the restored best epoch's weights");
    model.dispose();
  });

  it('rejects a bad patience or minDelta', () => {
    assert.throws(() => new EarlyStopping({ patience: -1 }), /patience must be an integer >= 0/);
    assert.throws(() => new EarlyStopping({ patience: 1.5 }), RangeError);
    assert.throws(() => new EarlyStopping({ minDelta: -0.1 }), /minDelta must be >= 0/);
  });

  it('defaults: val_loss, patience 5, minDelta 0, restoreBestWeights', () => {
    const es = new EarlyStopping();
    assert.deepEqual([es.monitor, es.patience, es.minDelta, es.restoreBestWeights], ['val_loss', 5, 0, true]);
  });
});

describe('EarlyStopping in fitModel', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('stops a run that cannot improve after patience epochs', async () => {
    const model = tfl.sequential();
    model.add(tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
    model.add(tfl.layers.flatten());
    model.add(tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }));
    // A learning rate too small to move any float32 weight: validation loss stays exactly the same.
    compileClassifier(model, createOptimizer({ name: 'sgd', learningRate: 1e-15 }));
    const es = new EarlyStopping({ patience: 2 });
    const history = await fitModel(model, { train: syntheticImages(32, 1, 8), val: syntheticImages(16, 2, 8) }, {
      epochs: 10, batchSize: 16, numClasses: 10, seed: 1, callbacks: [es],
    });
    assert.equal(history.length, 3, 'epoch 1 sets the best; epochs 2 and 3 do not improve');
    assert.equal(es.stoppedEpoch, 3);
    assert.equal(history[1]!.val_loss, history[0]!.val_loss);
    assert.deepEqual(es.bestSoFar, { epoch: 1, value: history[0]!.val_loss });
    model.dispose();
  });
});
