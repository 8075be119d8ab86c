import { progress, type LearningRateSchedule, type SchedulePosition } from './schedule.js';

/** lr · gamma^epochs (continuous in epochs when applied per step). */
export class ExponentialDecay implements LearningRateSchedule {
  readonly name = 'exponential';
  constructor(
    readonly base: number,
    readonly gamma: number,
    readonly per: 'step' | 'epoch' = 'epoch',
  ) {
    if (!(gamma > 0 && gamma <= 1)) throw new RangeError(`exponential schedule: gamma must be in (0, 1] but got ${gamma}`);
  }

  rate(p: SchedulePosition): number {
    return this.base * this.gamma ** progress(this.per, p);
  }
}
