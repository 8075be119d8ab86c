import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { TrainConfigSchema, type TrainConfig } from '../config/train-config.js';
import type { Dataset } from '../data/dataset.js';
import { DloptError } from '../errors.js';
import { runConfigFile } from '../runner/run-record.js';
import { runTraining } from '../runner/run-training.js';
import type { EpochMetrics } from '../train/fit.js';
import { RunDir } from '../train/run-dir.js';
import type { ParamValue } from '../tune/distributions.js';
import type { Objective } from '../tune/study.js';
import { TrialPruned } from '../tune/trial-pruned.js';
import type { Trial } from '../tune/trial.js';
import { toDistribution } from './build-tune.js';
import { setAtPath } from './search-path.js';
import { thisWorker } from './tune-study.js';
import type { TuneConfig } from './tune-config.js';

/**
 * Stops the running trial at once (between batches): an interrupt, or
 * another worker failing. Not a DloptError, so the study records the trial
 * FAIL with this message and then stops instead of starting the next one.
 */
export class TuneInterrupted extends Error {
  override readonly name = 'TuneInterrupted';
}

/** What a trial does, as it does it (for progress output). */
export interface TrialEvents {
  onTrialStart?(trial: Trial, config: TrainConfig): void;
  onEpochStart?(trial: Trial, epoch: number, epochs: number, batches: number): void;
  onBatchEnd?(trial: Trial, batch: number, stats: { loss: number; accuracy: number; imagesPerS: number }): void;
  /** After each epoch, with the metric's value reported to the pruner. */
  onEpochEnd?(trial: Trial, metrics: EpochMetrics, value: number): void;
}

export interface TuneObjectiveOptions {
  config: TuneConfig;
  /** Read once, shared by every trial (its test split, if any, is never used: tuning must not see it). */
  dataset: Dataset;
  /** Recorded in each trial's run directory. */
  backend?: string;
  events?: TrialEvents;
  /** Asked between batches: a reason to stop the running trial now, or undefined. */
  interruption?(): string | undefined;
}

/** Attributes each trial records (user attrs), whatever its end. */
export interface TrialRecord {
  /** Seconds the trial trained (setup and validation included). */
  duration: number;
  /** Epochs completed. */
  epochs: number;
  /** At the end of the trial (the final model's, for a complete one). */
  val_loss: number | null;
  val_accuracy: number | null;
  runDir?: string;
}

/**
 * The training configuration of one trial: the base settings with each
 * parameter set at its dotted path, validated. A combination the training
 * config does not accept is a DloptError (the trial fails with it).
 */
export function trialTrainConfig(base: Readonly<Record<string, unknown>>, params: Readonly<Record<string, ParamValue>>): TrainConfig {
  const settings = structuredClone(base) as Record<string, unknown>;
  for (const [path, value] of Object.entries(params)) setAtPath(settings, path, value);
  const result = TrainConfigSchema.safeParse(settings);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.') || '(top level)';
      return `${path}: ${issue.message}`;
    });
    throw new DloptError(`these parameters make an invalid training config: ${problems.join('; ')}`);
  }
  return result.data;
}

/**
 * The objective `dlopt tune` optimizes: each trial suggests every search
 * parameter (named by its path), trains the resulting configuration through
 * the runner, reports the metric after each epoch (and stops as PRUNED when
 * the pruner says so), and returns the final metric on the validation split.
 */
export function tuneObjective(options: TuneObjectiveOptions): Objective {
  const { config, events } = options;
  const { test: _test, testInfo: _testInfo, ...withoutTest } = options.dataset;
  const dataset: Dataset = withoutTest;
  return async (trial) => {
    const params: Record<string, ParamValue> = {};
    for (const [path, distribution] of Object.entries(config.search)) params[path] = trial.suggest(path, toDistribution(distribution));
    trial.setUserAttr('worker', thisWorker());
    const train = trialTrainConfig(config.trainSettings, params);
    events?.onTrialStart?.(trial, train);

    const started = performance.now();
    const record: TrialRecord = { duration: 0, epochs: 0, val_loss: null, val_accuracy: null };
    const interrupt = () => {
      const reason = options.interruption?.();
      if (reason !== undefined) throw new TuneInterrupted(reason);
    };
    try {
      interrupt();
      const runDir = config.runs === undefined ? undefined : await RunDir.create(join(config.runs, `trial-${trial.number}`), train.model);
      if (runDir) record.runDir = runDir.path;
      const result = await runTraining({
        config: train,
        dataset,
        ...(runDir && { runDir }),
        ...(options.backend !== undefined && { backend: options.backend }),
        onSetup: async ({ splits }) => {
          if (!runDir) return;
          await runDir.writeConfig(runConfigFile(train, dataset, splits, { backend: options.backend ?? null, trial: { study: config.study, number: trial.number, params } }));
        },
        observer: {
          onEpochStart(epoch, epochs, batches) {
            interrupt();
            events?.onEpochStart?.(trial, epoch, epochs, batches);
          },
          onBatchEnd(batch, stats) {
            events?.onBatchEnd?.(trial, batch, stats);
            interrupt();
          },
          onEpochEnd: async (m) => {
            record.epochs = m.epoch;
            record.val_loss = m.val_loss;
            record.val_accuracy = m.val_accuracy;
            const value = m[config.metric];
            if (value === null) throw new DloptError(`epoch ${m.epoch} has no ${config.metric}: the trial needs a validation split`);
            trial.report(value, m.epoch);
            events?.onEpochEnd?.(trial, m, value);
            // The pruner compares with the other trials as stored now (other workers' reports included).
            await trial.flush();
            if (trial.shouldPrune()) throw new TrialPruned(`pruned after epoch ${m.epoch}: ${config.metric} ${value.toFixed(4)}`);
            // Training never leaves the microtask queue: let heartbeat timers and other events run once an epoch.
            await new Promise((resolve) => setImmediate(resolve));
          },
        },
      });
      // runTraining frees the model of a run that throws (pruned, failed); a finished trial's is ours to free.
      result.model.dispose();
      (result.model as unknown as { optimizer: tf.Optimizer }).optimizer.dispose();
      const final = result.final.val;
      if (!final) throw new DloptError(`the trial has no validation result to measure ${config.metric} on`);
      record.val_loss = final.loss;
      record.val_accuracy = final.accuracy;
      return config.metric === 'val_loss' ? final.loss : final.accuracy;
    } finally {
      record.duration = (performance.now() - started) / 1000;
      for (const [key, value] of Object.entries(record)) trial.setUserAttr(key, value);
    }
  };
}
