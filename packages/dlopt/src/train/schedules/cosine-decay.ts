import { progress, type LearningRateSchedule, type SchedulePosition } from './schedule.js';

/**
 * Linear warm-up from 0 over `warmupEpochs`, then cosine decay from `base` to
 * `minLr` at the end of training (SGDR without restarts, as in timm).
 */
export class CosineDecay implements LearningRateSchedule {
  readonly name = 'cosine';
  constructor(
    readonly base: number,
    readonly warmupEpochs = 0,
    readonly minLr = 0,
    readonly per: 'step' | 'epoch' = 'step',
  ) {
    if (!(warmupEpochs >= 0)) throw new RangeError(`cosine schedule: warmupEpochs must be >= 0 but got ${warmupEpochs}`);
    if (!(minLr >= 0 && minLr <= base)) throw new RangeError(`cosine schedule: minLr must be in [0, ${base}] but got ${minLr}`);
  }

  rate(p: SchedulePosition): number {
    const t = progress(this.per, p);
    if (t < this.warmupEpochs) {
      // Counted from the first step's end, so step 0 already trains (rate > 0).
      const done = this.per === 'step' ? p.step + 1 : p.epoch + 1;
      const total = this.per === 'step' ? this.warmupEpochs * p.stepsPerEpoch : this.warmupEpochs;
      return (this.base * done) / total;
    }
    const span = Math.max(p.epochs - this.warmupEpochs, 1e-9);
    const f = Math.min(1, (t - this.warmupEpochs) / span);
    return this.minLr + 0.5 * (this.base - this.minLr) * (1 + Math.cos(Math.PI * f));
  }
}
