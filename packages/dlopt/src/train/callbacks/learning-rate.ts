import type { LearningRateSchedule } from '../schedules/schedule.js';
import type { EpochMetrics } from '../fit.js';
import { higherIsBetter, monitored, type Callback, type CallbackState, type TrainingContext } from './callback.js';

export interface PlateauOptions {
  /** Metric to watch (default val_loss). */
  monitor?: string;
  /** Multiply the rate by this when the metric stalls (default 0.1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 3). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 1e-4). */
  minDelta?: number;
  /** The rate is never reduced below this (default 0). */
  minLr?: number;
}

/**
 * Sets the optimizer's learning rate from a schedule, before every step (or
 * every epoch), optionally scaled down when a metric plateaus (Keras's
 * ReduceLROnPlateau). The rate in effect is recorded in each epoch's metrics.
 */
export class LearningRateController implements Callback {
  readonly name = 'learningRate';
  private scale = 1;
  private best: number | undefined;
  private wait = 0;
  private current = Number.NaN;

  constructor(
    readonly schedule: LearningRateSchedule,
    readonly plateau?: PlateauOptions,
  ) {
    if (plateau) {
      const { factor = 0.1, patience = 3 } = plateau;
      if (!(factor > 0 && factor < 1)) throw new RangeError(`plateau: factor must be in (0, 1) but got ${factor}`);
      if (!Number.isInteger(patience) || patience < 0) throw new RangeError(`plateau: patience must be an integer >= 0 but got ${patience}`);
    }
  }

  /** The learning rate set for the latest step. */
  get rate(): number {
    return this.current;
  }

  onBatchBegin(ctx: TrainingContext): void {
    if (!ctx.optimizer) return;
    if (this.schedule.per === 'epoch' && ctx.step % ctx.stepsPerEpoch !== 0 && !Number.isNaN(this.current)) return;
    let lr = this.schedule.rate({ step: ctx.step, epoch: ctx.epoch, stepsPerEpoch: ctx.stepsPerEpoch, epochs: ctx.epochs }) * this.scale;
    if (this.plateau?.minLr !== undefined) lr = Math.max(lr, this.plateau.minLr);
    if (lr !== this.current) ctx.optimizer.learningRate = lr;
    this.current = lr;
  }

  onEpochEnd(metrics: EpochMetrics): void {
    if (!this.plateau) return;
    const { monitor = 'val_loss', factor = 0.1, patience = 3, minDelta = 1e-4 } = this.plateau;
    const value = monitored(metrics, monitor);
    if (value === undefined) return;
    const up = higherIsBetter(monitor);
    if (this.best === undefined || (up ? value > this.best + minDelta : value < this.best - minDelta)) {
      this.best = value;
      this.wait = 0;
    } else if (++this.wait >= patience) {
      this.scale *= factor;
      this.wait = 0;
    }
  }

  state(): CallbackState {
    return { json: { scale: this.scale, best: this.best ?? null, wait: this.wait } };
  }

  restore(state: CallbackState): void {
    const s = state.json as { scale: number; best: number | null; wait: number };
    this.scale = s.scale;
    this.best = s.best ?? undefined;
    this.wait = s.wait;
  }
}
