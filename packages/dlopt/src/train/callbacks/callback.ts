import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { EpochMetrics } from '../fit.js';
import type { TrainingOptimizer } from '../optimizers/training-optimizer.js';

/** What callbacks see of the run: read-only counters, plus `stopTraining` to end it after this epoch. */
export interface TrainingContext {
  readonly model: tfl.LayersModel;
  /** The optimizer the model was compiled with, when it is dlopt's (schedules need it). */
  readonly optimizer: TrainingOptimizer | undefined;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  /** Epochs completed (0-based index of the current one while it runs). */
  epoch: number;
  /** Steps completed over the whole run. */
  step: number;
  stopTraining: boolean;
  /**
   * The weights validation is measured with, when they are not the model's
   * own (weight averaging sets this); what "the best weights" means.
   */
  evaluationWeights?: () => tf.Tensor[];
}

/** What a callback keeps across a resume: JSON, plus tensors (saved as binary). */
export interface CallbackState {
  json: unknown;
  tensors?: tf.Tensor[];
}

/**
 * A training callback (Keras style): override only the hooks needed. State
 * that must survive a resume is returned by `state()` and handed back to
 * `restore()` from the checkpoint (tensors restored are owned by the callback).
 */
export interface Callback {
  readonly name: string;
  onTrainBegin?(ctx: TrainingContext): void | Promise<void>;
  onEpochBegin?(ctx: TrainingContext): void | Promise<void>;
  onBatchBegin?(ctx: TrainingContext): void;
  onBatchEnd?(ctx: TrainingContext): void;
  /** Around the validation pass (EMA swaps its averaged weights in and out). */
  beforeValidation?(ctx: TrainingContext): void;
  afterValidation?(ctx: TrainingContext): void;
  onEpochEnd?(metrics: EpochMetrics, ctx: TrainingContext): void | Promise<void>;
  onTrainEnd?(ctx: TrainingContext): void | Promise<void>;
  state?(): CallbackState;
  restore?(state: CallbackState): void;
}

/** The value of a monitored metric, or undefined when the epoch has none (no validation split). */
export function monitored(metrics: EpochMetrics, monitor: string): number | undefined {
  const value = (metrics as unknown as Record<string, number | null>)[monitor];
  return value === null || value === undefined ? undefined : value;
}

/** Whether larger is better for a metric name (accuracies) or smaller (losses). */
export function higherIsBetter(monitor: string): boolean {
  return /acc/.test(monitor);
}
