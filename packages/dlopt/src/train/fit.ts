import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { gatherBatch } from '../augment/image-batch.js';
import { AugmentPipeline } from '../augment/pipeline.js';
import { makeBatch, pixelsToTensor } from '../data/batches.js';
import type { ImageSet } from '../data/image-set.js';
import { TrainingDivergedError } from '../errors.js';
import { Random, deriveSeed } from '../util/random.js';
import type { Callback, TrainingContext } from './callbacks/callback.js';
import { evaluateModel, type Evaluation } from './evaluate.js';
import { withSeededMathRandom } from './seeded-randomness.js';
import { TrainingOptimizer } from './optimizers/training-optimizer.js';

/** One line of metrics.jsonl. */
export interface EpochMetrics {
  epoch: number;
  /** Mean training loss over the epoch's batches (weighted by batch size), as Keras reports it. */
  loss: number;
  accuracy: number;
  /** Null when there is no validation split. */
  val_loss: number | null;
  val_accuracy: number | null;
  /** Wall time of the whole epoch, validation included. */
  seconds: number;
  /** Training images per second (training steps only). */
  images_per_s: number;
  /** Learning rate at the end of the epoch. */
  lr: number | null;
}

/** Receives progress within an epoch; the CLI draws a bar, tests pass nothing. */
export interface FitObserver {
  onEpochStart?(epoch: number, epochs: number, batches: number): void;
  onBatchEnd?(batch: number, stats: { loss: number; accuracy: number; imagesPerS: number; images: number }): void;
  /** Images of the validation split evaluated so far, after the epoch's training steps. */
  onValidationProgress?(done: number, total: number): void;
  /** The whole validation result (its confusion matrix too), before onEpochEnd. */
  onValidationEnd?(evaluation: Evaluation): void;
  onEpochEnd?(metrics: EpochMetrics): void | Promise<void>;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  numClasses: number;
  /** Seeds the order of training images each epoch. */
  seed: number;
  /** Epoch numbering starts after this many completed epochs (a resumed run). */
  initialEpoch?: number;
  /** Augmentations applied to each training batch. */
  augment?: AugmentPipeline;
  /** Early stopping, schedules, weight averaging, checkpoints… (run in this order). */
  callbacks?: Callback[];
  observer?: FitObserver;
}

/**
 * Keras-style training loop over uint8 images: shuffles each epoch from the
 * seed, converts one batch at a time, stops with an error as soon as the loss
 * is not finite, and evaluates on the validation split after each epoch.
 */
export async function fitModel(
  model: tfl.LayersModel,
  data: { train: ImageSet; val?: ImageSet | undefined },
  options: FitOptions,
): Promise<EpochMetrics[]> {
  const { epochs, batchSize, numClasses, observer, augment } = options;
  const callbacks = options.callbacks ?? [];
  const { train, val } = data;
  if (train.count === 0) throw new Error('no training images');
  const history: EpochMetrics[] = [];
  const batches = Math.ceil(train.count / batchSize);
  const initialEpoch = options.initialEpoch ?? 0;
  const optimizer = (model as unknown as { optimizer?: tf.Optimizer }).optimizer;
  const ctx: TrainingContext = {
    model,
    optimizer: optimizer instanceof TrainingOptimizer ? optimizer : undefined,
    epochs,
    stepsPerEpoch: batches,
    epoch: initialEpoch,
    step: initialEpoch * batches,
    stopTraining: false,
  };
  for (const cb of callbacks) await cb.onTrainBegin?.(ctx);
  for (let epoch = initialEpoch + 1; epoch <= epochs && !ctx.stopTraining; epoch++) {
    ctx.epoch = epoch - 1;
    for (const cb of callbacks) await cb.onEpochBegin?.(ctx);
    observer?.onEpochStart?.(epoch, epochs, batches);
    const epochStart = performance.now();
    const order = new Random(deriveSeed(options.seed, epoch)).permutation(train.count);
    let lossSum = 0;
    let hitSum = 0;
    let seen = 0;
    let trainSeconds = 0;
    for (let b = 0; b < batches; b++) {
      const stepStart = performance.now();
      const indices = order.subarray(b * batchSize, Math.min(train.count, (b + 1) * batchSize));
      const { x, y } = augment && !augment.empty ? augmentedBatch(train, indices, numClasses, augment, options.seed, epoch, b + 1) : makeBatch(train, indices, numClasses);
      for (const cb of callbacks) cb.onBatchBegin?.(ctx);
      let result: number | number[];
      try {
        result = await withSeededMathRandom(deriveSeed(deriveSeed(options.seed, epoch), b + 1) ^ 0x5eed, () => model.trainOnBatch(x, y));
      } finally {
        tf.dispose([x, y]);
      }
      ctx.step++;
      for (const cb of callbacks) cb.onBatchEnd?.(ctx);
      trainSeconds += (performance.now() - stepStart) / 1000;
      const [loss, accuracy] = Array.isArray(result) ? result : [result, Number.NaN];
      if (!Number.isFinite(loss)) {
        throw new TrainingDivergedError(
          `training diverged: the loss became ${loss} at epoch ${epoch}, batch ${b + 1}/${batches}; ` +
            'try a lower learning rate (--lr)',
        );
      }
      lossSum += loss! * indices.length;
      hitSum += accuracy! * indices.length;
      seen += indices.length;
      observer?.onBatchEnd?.(b + 1, {
        loss: lossSum / seen,
        accuracy: hitSum / seen,
        imagesPerS: seen / trainSeconds,
        images: seen,
      });
    }
    let validation;
    if (val && val.count > 0) {
      for (const cb of callbacks) cb.beforeValidation?.(ctx);
      try {
        validation = await evaluateModel(model, val, {
          batchSize,
          numClasses,
          ...(observer?.onValidationProgress && { onProgress: observer.onValidationProgress.bind(observer) }),
        });
      } finally {
        for (const cb of [...callbacks].reverse()) cb.afterValidation?.(ctx);
      }
      observer?.onValidationEnd?.(validation);
    }
    const metrics: EpochMetrics = {
      epoch,
      loss: lossSum / seen,
      accuracy: hitSum / seen,
      val_loss: validation?.loss ?? null,
      val_accuracy: validation?.accuracy ?? null,
      seconds: (performance.now() - epochStart) / 1000,
      images_per_s: seen / trainSeconds,
      lr: ctx.optimizer ? ctx.optimizer.learningRate : learningRateOf(optimizer),
    };
    history.push(metrics);
    ctx.epoch = epoch;
    for (const cb of callbacks) await cb.onEpochEnd?.(metrics, ctx);
    await observer?.onEpochEnd?.(metrics);
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(ctx);
  return history;
}

/** A training batch through the augmentation pipeline: uint8 stage, conversion, float stage. */
function augmentedBatch(
  train: ImageSet,
  indices: Uint32Array,
  numClasses: number,
  augment: AugmentPipeline,
  seed: number,
  epoch: number,
  batch: number,
): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const b = gatherBatch(train, indices, numClasses);
  const rng = AugmentPipeline.random(seed, epoch, batch);
  augment.applyBytes(b, rng);
  const identity = new Uint32Array(b.count);
  for (let i = 0; i < b.count; i++) identity[i] = i;
  const x = augment.applyFloat(pixelsToTensor(b.images, identity, [b.count, b.height, b.width, b.channels]), b, rng);
  // Labels last: the float stage (mixup) rewrites them.
  return { x, y: tf.tensor2d(b.labels, [b.count, numClasses], 'float32') };
}

function learningRateOf(optimizer: tf.Optimizer | undefined): number | null {
  const lr = (optimizer as { learningRate?: unknown } | undefined)?.learningRate;
  return typeof lr === 'number' ? lr : null;
}
