import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/backend.js';
import { parseTrainConfig } from '../config/load-config.js';
import type { Dataset } from '../data/dataset.js';
import { createModel } from '../models/presets.js';
import { CLASS_NAMES, syntheticImages } from '../test-support/fixtures.js';
import { runPruning, type PruningSettings } from './run-pruning.js';

const dataset: Dataset = {
  format: 'cifar10',
  source: 'synthetic',
  classNames: CLASS_NAMES,
  train: syntheticImages(60, 3),
  orderedByClass: false,
};
const trainConfig = parseTrainConfig({ valSize: 20, batchSize: 16 });
const base: PruningSettings = {
  method: 'l1',
  sparsity: 0.5,
  scope: 'layer',
  steps: 2,
  fineTuneEpochs: 0,
  schedule: 'oneshot',
  minWidth: 1,
  roundTo: 1,
  batchSize: 16,
  calibrationImages: 20,
  speedImages: 16,
  seed: 1,
};

describe('runPruning', () => {
  before(async () => {
    await initBackend();
  });

  it('structured steps prune to a growing share of the original widths', async () => {
    const model = createModel('resnet-small', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
    const result = await runPruning({ model, trainConfig, dataset, settings: { ...base, method: 'bn', scope: 'global' } });
    assert.deepEqual(result.steps.map((s) => s.target), [0.25, 0.5]);
    // Global ranking: the share of all prunable channels, exactly.
    assert.ok(Math.abs(result.steps[0]!.achieved - 0.25) < 0.01, String(result.steps[0]!.achieved));
    assert.ok(Math.abs(result.steps[1]!.achieved - 0.5) < 0.01, String(result.steps[1]!.achieved));
    assert.ok(result.pruned.flops < result.original.flops / 2);
    assert.equal(result.summary.kind, 'prune');
    assert.equal(model.getLayer('stem_conv').getWeights()[0]!.shape[3], 16, 'the original model is left as it was');
    result.model.dispose();
    model.dispose();
  });

  it('fine-tunes each step and frees everything it made', async () => {
    const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
    const tensors = tf.memory().numTensors;
    const result = await runPruning({ model, trainConfig, dataset, settings: { ...base, method: 'magnitude', fineTuneEpochs: 1, schedule: 'agp' } });
    assert.equal(result.steps.length, 2);
    assert.ok(result.steps.every((s) => s.pruned_accuracy === null), 'AGP prunes during fine-tuning: no accuracy before it');
    assert.ok(Math.abs(result.steps[1]!.achieved - 0.5) < 1e-3);
    result.model.dispose();
    assert.equal(tf.memory().numTensors, tensors);
    model.dispose();
  });

  it('rejects settings that cannot work', async () => {
    const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
    await assert.rejects(runPruning({ model, trainConfig, dataset, settings: { ...base, steps: 0 } }), /--steps must be a positive integer/);
    await assert.rejects(runPruning({ model, trainConfig, dataset, settings: { ...base, pattern: { n: 2, m: 4 } } }), /N:M pattern applies to magnitude pruning only/);
    await assert.rejects(
      runPruning({ model, trainConfig: parseTrainConfig({ valSize: 0 }), dataset, settings: base }),
      /no validation split/,
    );
    model.dispose();
  });
});
