import * as tf from '@tensorflow/tfjs-core';
import type { EpochMetrics } from '../fit.js';
import { higherIsBetter, monitored, type Callback, type CallbackState, type TrainingContext } from './callback.js';

export interface EarlyStoppingOptions {
  /** Metric to watch (default val_loss). */
  monitor?: string;
  /** Epochs without improvement before stopping (default 5). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Put back the weights of the best epoch when stopping or at the end (default true). */
  restoreBestWeights?: boolean;
}

/**
 * Keras's EarlyStopping: stops when `monitor` has not improved by `minDelta`
 * for `patience` epochs, and (by default) ends with the weights of the best
 * epoch: the ones its validation was measured with (averaged, under EMA).
 */
export class EarlyStopping implements Callback {
  readonly name = 'earlyStopping';
  readonly monitor: string;
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBestWeights: boolean;
  /** The epoch (1-based) training stopped after, if it stopped early. */
  stoppedEpoch: number | undefined;
  private best: number | undefined;
  private bestEpoch = 0;
  private wait = 0;
  private bestWeights: tf.Tensor[] | undefined;

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = options.monitor ?? 'val_loss';
    this.patience = options.patience ?? 5;
    this.minDelta = options.minDelta ?? 0;
    this.restoreBestWeights = options.restoreBestWeights ?? true;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new RangeError(`earlyStopping: patience must be an integer >= 0 but got ${this.patience}`);
    if (!(this.minDelta >= 0)) throw new RangeError(`earlyStopping: minDelta must be >= 0 but got ${this.minDelta}`);
  }

  onEpochEnd(metrics: EpochMetrics, ctx: TrainingContext): void {
    const value = monitored(metrics, this.monitor);
    if (value === undefined) return;
    const up = higherIsBetter(this.monitor);
    const improved = this.best === undefined || (up ? value > this.best + this.minDelta : value < this.best - this.minDelta);
    if (improved) {
      this.best = value;
      this.bestEpoch = metrics.epoch;
      this.wait = 0;
      if (this.restoreBestWeights) {
        tf.dispose(this.bestWeights);
        this.bestWeights = (ctx.evaluationWeights?.() ?? ctx.model.getWeights()).map((w) => tf.clone(w));
      }
      return;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      this.stoppedEpoch = metrics.epoch;
      ctx.stopTraining = true;
    }
  }

  onTrainEnd(ctx: TrainingContext): void {
    if (this.restoreBestWeights && this.bestWeights && this.bestEpoch !== ctx.epoch) ctx.model.setWeights(this.bestWeights);
    tf.dispose(this.bestWeights);
    this.bestWeights = undefined;
  }

  /** The epoch (1-based) whose weights are best so far, and its value. */
  get bestSoFar(): { epoch: number; value: number } | undefined {
    return this.best === undefined ? undefined : { epoch: this.bestEpoch, value: this.best };
  }

  state(): CallbackState {
    return {
      json: { best: this.best ?? null, bestEpoch: this.bestEpoch, wait: this.wait },
      ...(this.bestWeights && { tensors: this.bestWeights }),
    };
  }

  restore(state: CallbackState): void {
    const s = state.json as { best: number | null; bestEpoch: number; wait: number };
    this.best = s.best ?? undefined;
    this.bestEpoch = s.bestEpoch;
    this.wait = s.wait;
    tf.dispose(this.bestWeights);
    this.bestWeights = state.tensors;
  }
}
