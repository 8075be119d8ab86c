import type * as tfl from '@tensorflow/tfjs-layers';
import { buildAugmentation } from '../config/build-augment.js';
import { buildCallbacks, optimizerSettings } from '../config/build-training.js';
import type { TrainConfig } from '../config/train-config.js';
import { PIXEL_SCALE } from '../data/batches.js';
import type { Dataset } from '../data/dataset.js';
import { makeSplits, type Splits } from '../data/splits.js';
import { saveModel } from '../io/model-files.js';
import { createModel, findPreset } from '../models/presets.js';
import { summarizeModel, type ModelSummary } from '../models/summary.js';
import { EarlyStopping } from '../train/callbacks/early-stopping.js';
import { CheckpointCallback, restoreCheckpoint, type Checkpoint } from '../train/checkpoint.js';
import { compileClassifier } from '../train/compile.js';
import { evaluateModel, type Evaluation } from '../train/evaluate.js';
import { fitModel, type EpochMetrics, type FitObserver } from '../train/fit.js';
import { createOptimizer } from '../train/optimizers/create-optimizer.js';
import type { RunDir } from '../train/run-dir.js';

/** What the run trains on and with, in words and numbers, before the first epoch. */
export interface TrainingSetup {
  splits: Splits;
  summary: ModelSummary;
  learningRate: number;
  augmentation: string;
  callbacks: string[];
  /** Epochs already done (a resumed run). */
  initialEpoch: number;
}

export interface TrainingRunOptions {
  config: TrainConfig;
  dataset: Dataset;
  /** Where metrics, checkpoints, the model and summary.json go; none keeps everything in memory. */
  runDir?: RunDir;
  /** Continue from this checkpoint of the same run. */
  resume?: Checkpoint;
  observer?: FitObserver;
  onSetup?(setup: TrainingSetup): void | Promise<void>;
  /** Recorded in summary.json. */
  backend?: string;
}

export interface TrainingRunResult {
  model: tfl.LayersModel;
  history: EpochMetrics[];
  splits: Splits;
  /** Final metrics per split of the final model. */
  final: Partial<Record<'val' | 'test', Pick<Evaluation, 'n' | 'loss' | 'accuracy'> & Partial<Pick<Evaluation, 'confusion'>>>>;
  reportedSplit: 'val' | 'test' | null;
  /** The epoch early stopping ended on, if it did. */
  stoppedEarly?: number;
  summary: Record<string, unknown>;
}

/**
 * One training run of a configuration, end to end: splits, model (with its
 * regularization), optimizer, augmentation and callbacks from the config;
 * training (resumed from a checkpoint when given); final evaluation; and,
 * with a run directory, metrics.jsonl, a checkpoint per epoch, the model and
 * summary.json. The CLI and `dlopt tune` both train through here.
 */
export async function runTraining(options: TrainingRunOptions): Promise<TrainingRunResult> {
  const { config, dataset, runDir, resume } = options;
  const started = performance.now();
  const splits = makeSplits(dataset, { valSize: config.valSize, limit: config.limit });
  const preset = findPreset(config.model);
  const numClasses = dataset.classNames.length;
  const inputShape = [splits.train.height, splits.train.width, splits.train.channels] as const;
  const model = createModel(preset.name, { inputShape, numClasses, seed: config.seed, regularization: config.regularization });
  const settings = optimizerSettings(config, preset.defaultLearningRate);
  const optimizer = createOptimizer(settings);
  compileClassifier(model, optimizer, { labelSmoothing: config.labelSmoothing });
  const callbacks = buildCallbacks(config, settings.learningRate);
  const earlyStopping = callbacks.find((c): c is EarlyStopping => c instanceof EarlyStopping);
  if (runDir && config.checkpoint) callbacks.push(new CheckpointCallback(runDir.path, optimizer, [...callbacks], resume?.history));
  if (resume) await restoreCheckpoint(resume, model, optimizer, callbacks);
  const augment = buildAugmentation(config.augment);
  const summary = summarizeModel(model);
  await options.onSetup?.({
    splits,
    summary,
    learningRate: settings.learningRate,
    augmentation: augment.describe(),
    callbacks: callbacks.map((c) => c.name),
    initialEpoch: resume?.epoch ?? 0,
  });
  if (resume && runDir) await runDir.rewriteMetrics(resume.history);

  let fitted: EpochMetrics[];
  // The last epoch's validation, kept whole so the final figures get its confusion matrix without a second pass.
  let lastValidation: Evaluation | undefined;
  try {
    fitted = await fitModel(model, splits, {
      epochs: config.epochs,
      batchSize: config.batchSize,
      numClasses,
      seed: config.seed,
      initialEpoch: resume?.epoch ?? 0,
      augment,
      callbacks,
      observer: {
        ...options.observer,
        onValidationEnd: (e) => {
          lastValidation = e;
          options.observer?.onValidationEnd?.(e);
        },
        onEpochEnd: async (m) => {
          await runDir?.appendMetrics(m);
          await options.observer?.onEpochEnd?.(m);
        },
      },
    });
  } catch (error) {
    // A failed or stopped run (an observer may throw to end it early) never hands its model back: free it here.
    model.dispose();
    optimizer.dispose();
    throw error;
  }
  const history = [...(resume?.history ?? []), ...fitted];

  // The last epoch measured the validation split with the final weights, unless early stopping
  // then restored an earlier epoch's weights: measure again only then.
  const final: TrainingRunResult['final'] = {};
  const last = history.at(-1);
  const restored = earlyStopping?.restoreBestWeights && earlyStopping.bestSoFar && earlyStopping.bestSoFar.epoch !== last?.epoch;
  if (splits.val && restored) {
    final.val = await evaluateModel(model, splits.val, { batchSize: config.batchSize, numClasses });
  } else if (splits.val && last && last.val_loss !== null && last.val_accuracy !== null) {
    final.val = { n: splits.val.count, loss: last.val_loss, accuracy: last.val_accuracy, ...(lastValidation && { confusion: lastValidation.confusion }) };
  }
  if (splits.test) final.test = await evaluateModel(model, splits.test, { batchSize: config.batchSize, numClasses });
  const reportedSplit = final.test ? 'test' : final.val ? 'val' : null;
  const meanRate = history.reduce((n, m) => n + m.images_per_s, 0) / Math.max(1, history.length);
  const summaryFile: Record<string, unknown> = {
    model: preset.name,
    params: summary.params,
    trainable_params: summary.trainableParams,
    flops_per_image: summary.flops,
    flops_complete: summary.flopsComplete,
    epochs: history.length,
    stopped_early: earlyStopping?.stoppedEpoch ?? null,
    final: Object.fromEntries(
      Object.entries(final).map(([split, e]) => [
        split,
        { n: e.n, loss: e.loss, accuracy: e.accuracy, description: splits.describe[split as 'val' | 'test'], ...(e.confusion && { confusion: e.confusion }) },
      ]),
    ),
    class_names: [...dataset.classNames],
    last_epoch: last ?? null,
    reported_split: reportedSplit,
    splits: splits.describe,
    augmentation: augment.describe(),
    train_images_per_s: meanRate,
    total_seconds: (performance.now() - started) / 1000 + (resume ? resume.history.reduce((n, m) => n + m.seconds, 0) : 0),
    backend: options.backend ?? null,
  };
  if (runDir) {
    await saveModel(model, runDir.path, {
      dlopt: { preprocessing: { layout: 'NHWC', channels: 'RGB', scale: PIXEL_SCALE }, class_names: [...dataset.classNames] },
    });
    await runDir.writeSummary(summaryFile);
  }
  return {
    model,
    history,
    splits,
    final,
    reportedSplit,
    ...(earlyStopping?.stoppedEpoch !== undefined && { stoppedEarly: earlyStopping.stoppedEpoch }),
    summary: summaryFile,
  };
}
