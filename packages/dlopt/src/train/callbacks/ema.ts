import * as tf from '@tensorflow/tfjs-core';
import type { Callback, CallbackState, TrainingContext } from './callback.js';

/**
 * Exponential moving average of the model's weights (all of them, batch-norm
 * statistics included, as timm's ModelEma does), updated after every step and
 * used for validation and for the final model. The decay warms up as
 * min(decay, (1 + step) / (10 + step)), so early averages are not dominated
 * by the random initial weights.
 */
export class WeightAverage implements Callback {
  readonly name = 'ema';
  private shadow: tf.Tensor[] | undefined;
  private saved: tf.Tensor[] | undefined;
  private updates = 0;

  constructor(readonly decay = 0.999) {
    if (!(decay > 0 && decay < 1)) throw new RangeError(`ema: decay must be in (0, 1) but got ${decay}`);
  }

  onTrainBegin(ctx: TrainingContext): void {
    this.shadow ??= ctx.model.getWeights().map((w) => tf.clone(w));
    ctx.evaluationWeights = () => this.shadow!;
  }

  onBatchEnd(ctx: TrainingContext): void {
    const d = Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
    this.updates++;
    const weights = ctx.model.getWeights();
    const next = tf.tidy(() => this.shadow!.map((s, i) => tf.add(tf.mul(s, d), tf.mul(weights[i]!, 1 - d))));
    tf.dispose(this.shadow);
    this.shadow = next;
  }

  beforeValidation(ctx: TrainingContext): void {
    this.saved = ctx.model.getWeights().map((w) => tf.clone(w));
    ctx.model.setWeights(this.shadow!);
  }

  afterValidation(ctx: TrainingContext): void {
    ctx.model.setWeights(this.saved!);
    tf.dispose(this.saved);
    this.saved = undefined;
  }

  onTrainEnd(ctx: TrainingContext): void {
    if (this.shadow) ctx.model.setWeights(this.shadow);
  }

  state(): CallbackState {
    return { json: { updates: this.updates }, ...(this.shadow && { tensors: this.shadow }) };
  }

  restore(state: CallbackState): void {
    this.updates = (state.json as { updates: number }).updates;
    tf.dispose(this.shadow);
    this.shadow = state.tensors;
  }
}
