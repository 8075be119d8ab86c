import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { makeBatch } from '../data/batches.js';
import type { ImageSet } from '../data/image-set.js';
import { TrainingDivergedError } from '../errors.js';
import { Random, deriveSeed } from '../util/random.js';
import { evaluateModel } from './evaluate.js';

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
}

/** Receives progress within an epoch; the CLI draws a bar, tests pass nothing. */
export interface FitObserver {
  onEpochStart?(epoch: number, epochs: number, batches: number): void;
  onBatchEnd?(batch: number, stats: { loss: number; accuracy: number; imagesPerS: number; images: number }): void;
  /** Images of the validation split evaluated so far, after the epoch's training steps. */
  onValidationProgress?(done: number, total: number): void;
  onEpochEnd?(metrics: EpochMetrics): void | Promise<void>;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  numClasses: number;
  /** Seeds the order of training images each epoch. */
  seed: number;
  /** Epoch numbering starts after this many completed epochs. */
  initialEpoch?: number;
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
  const { epochs, batchSize, numClasses, observer } = options;
  const { train, val } = data;
  if (train.count === 0) throw new Error('no training images');
  const history: EpochMetrics[] = [];
  const batches = Math.ceil(train.count / batchSize);
  for (let epoch = (options.initialEpoch ?? 0) + 1; epoch <= epochs; epoch++) {
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
      const { x, y } = makeBatch(train, indices, numClasses);
      let result: number | number[];
      try {
        result = await model.trainOnBatch(x, y);
      } finally {
        tf.dispose([x, y]);
      }
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
    const validation =
      val && val.count > 0
        ? await evaluateModel(model, val, {
            batchSize,
            numClasses,
            ...(observer?.onValidationProgress && { onProgress: observer.onValidationProgress.bind(observer) }),
          })
        : undefined;
    const metrics: EpochMetrics = {
      epoch,
      loss: lossSum / seen,
      accuracy: hitSum / seen,
      val_loss: validation?.loss ?? null,
      val_accuracy: validation?.accuracy ?? null,
      seconds: (performance.now() - epochStart) / 1000,
      images_per_s: seen / trainSeconds,
    };
    history.push(metrics);
    await observer?.onEpochEnd?.(metrics);
  }
  return history;
}
