import * as tf from '@tensorflow/tfjs-core';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../backend/backend.js';
import type { Dataset } from '../data/dataset.js';
import { DloptError, UsageError } from '../errors.js';
import { CLASS_NAMES, syntheticImages, tempDir } from '../test-support/fixtures.js';
import { InMemoryStorage } from '../tune/storages/in-memory-storage.js';
import { parseTuneConfig } from './tune-config.js';
import { trialTrainConfig, tuneObjective, TuneInterrupted } from './tune-objective.js';
import { openTuneStudy, runTrials, thisWorker, tuneInfo } from './tune-study.js';

const dataset: Dataset = {
  format: 'cifar10',
  source: 'synthetic',
  classNames: CLASS_NAMES,
  train: syntheticImages(40, 1),
  test: syntheticImages(10, 2),
  orderedByClass: false,
};
const train = { epochs: 2, batchSize: 8, limit: 24, valSize: 8 };
const lr = { 'optimizer.lr': { type: 'float', low: 1e-4, high: 1e-2, log: true } };

describe('tune objective (in process, in memory)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    await initBackend();
    ({ dir, cleanup } = await tempDir());
  });
  after(() => cleanup());

  it('trains each trial from the base config plus its parameters, and records what it did', async () => {
    const config = parseTuneConfig({ study: 'lr', trials: 3, sampler: { name: 'random', seed: 2 }, pruner: 'none', runs: join(dir, 'runs'), train, search: lr });
    const storage = new InMemoryStorage();
    const study = await openTuneStudy(config, storage);
    const seen: number[] = [];
    const variables = Object.keys(tf.engine().registeredVariables).length;
    const tensors = tf.memory().numTensors;
    const n = await runTrials({
      study,
      objective: tuneObjective({ config, dataset, backend: 'test', events: { onEpochEnd: (_t, m) => seen.push(m.epoch) } }),
      trials: config.trials,
    });
    assert.equal(n, 3);
    assert.deepEqual(seen, [1, 2, 1, 2, 1, 2]);
    const trials = await study.getTrials();
    assert.deepEqual(trials.map((t) => t.state), ['COMPLETE', 'COMPLETE', 'COMPLETE']);
    for (const t of trials) {
      assert.equal(t.value, t.userAttrs.val_accuracy);
      assert.equal(t.userAttrs.epochs, 2);
      assert.equal(typeof t.userAttrs.val_loss, 'number');
      assert.ok((t.userAttrs.duration as number) > 0);
      assert.deepEqual(t.userAttrs.worker, thisWorker());
      assert.deepEqual(Object.keys(t.intermediate), ['1', '2']);
      assert.equal(t.intermediate[2], t.value);
      // One run directory per trial, complete, recording the trial's config (its learning rate) and params.
      const runDir = join(dir, 'runs', `trial-${t.number}`);
      assert.equal(t.userAttrs.runDir, runDir);
      assert.ok(existsSync(join(runDir, 'summary.json')));
      const record = JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8'));
      assert.equal(record.config.optimizer.lr, t.params['optimizer.lr']);
      assert.deepEqual(record.trial, { study: 'lr', number: t.number, params: t.params });
      // Tuning never looks at the test split.
      assert.equal(JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8')).final.test, undefined);
    }
    assert.equal(Object.keys(tf.engine().registeredVariables).length, variables, 'trial models and optimizers are freed');
    assert.equal(tf.memory().numTensors, tensors, 'no tensor left behind (checkpoints included)');
    assert.deepEqual(tuneInfo((await storage.getStudy('lr'))!.systemAttrs), { metric: 'val_accuracy', samplerSeed: 2, sampler: 'random' });
  });

  it('prunes from the reported epochs, and frees the pruned trials too', async () => {
    const config = parseTuneConfig({ trials: 2, sampler: { name: 'random', seed: 2 }, pruner: { name: 'threshold', lower: 1.1 }, train, search: lr });
    const study = await openTuneStudy(config, new InMemoryStorage());
    const tensors = tf.memory().numTensors;
    await runTrials({ study, objective: tuneObjective({ config, dataset }), trials: 2 });
    const trials = await study.getTrials();
    assert.deepEqual(trials.map((t) => [t.state, t.userAttrs.epochs]), [['PRUNED', 1], ['PRUNED', 1]]);
    assert.equal(trials[0]!.value, trials[0]!.intermediate[1]);
    assert.equal(tf.memory().numTensors, tensors, 'pruned trials leave no tensor behind');
  });

  it('fails a trial whose parameters make an invalid training config, and goes on', async () => {
    const config = parseTuneConfig({ sampler: { name: 'grid', seed: 1 }, pruner: 'none', train: { ...train, epochs: 1 }, search: { 'schedule.name': ['step', 'cosine'] } });
    const study = await openTuneStudy(config, new InMemoryStorage());
    await runTrials({ study, objective: tuneObjective({ config, dataset }), trials: 2 });
    const trials = await study.getTrials();
    const failed = trials.find((t) => t.params['schedule.name'] === 'step')!;
    assert.equal(failed.state, 'FAIL');
    assert.match(String(failed.systemAttrs.failReason), /^these parameters make an invalid training config: schedule\.stepSize: /);
    assert.equal(trials.find((t) => t.params['schedule.name'] === 'cosine')!.state, 'COMPLETE');
  });

  it('stops a running trial at once when interrupted, records it FAIL and stops the loop', async () => {
    const config = parseTuneConfig({ trials: 5, sampler: 'random', pruner: 'none', train, search: lr });
    const study = await openTuneStudy(config, new InMemoryStorage());
    let batches = 0;
    const objective = tuneObjective({ config, dataset, events: { onBatchEnd: () => batches++ }, interruption: () => (batches >= 2 ? 'stopped: test' : undefined) });
    await assert.rejects(runTrials({ study, objective, trials: 5 }), TuneInterrupted);
    const trials = await study.getTrials();
    assert.deepEqual(trials.map((t) => [t.state, t.systemAttrs.failReason]), [['FAIL', 'stopped: test']]);
  });

  it('builds each trial config and says what is invalid', () => {
    const c = trialTrainConfig({ epochs: 2, optimizer: { name: 'adam' } }, { 'optimizer.lr': 0.01, batchSize: 16, 'augment.mixup': null });
    assert.equal(c.optimizer.lr, 0.01);
    assert.equal(c.batchSize, 16);
    assert.equal(c.augment.mixup, undefined);
    assert.throws(
      () => trialTrainConfig({}, { 'optimizer.momentum': 1.5 }),
      (e: unknown) => e instanceof DloptError && !(e instanceof UsageError) && /invalid training config: optimizer\.momentum: Too big/.test(e.message),
    );
  });
});
