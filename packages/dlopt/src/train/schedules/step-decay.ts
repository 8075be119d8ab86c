import { progress, type LearningRateSchedule, type SchedulePosition } from './schedule.js';

/** lr · gamma^⌊epoch / stepSize⌋ (Keras StepDecay, PyTorch StepLR). */
export class StepDecay implements LearningRateSchedule {
  readonly name = 'step';
  constructor(
    readonly base: number,
    readonly stepSize: number,
    readonly gamma = 0.1,
    readonly per: 'step' | 'epoch' = 'epoch',
  ) {
    if (!(stepSize > 0)) throw new RangeError(`step schedule: stepSize must be > 0 but got ${stepSize}`);
    if (!(gamma > 0)) throw new RangeError(`step schedule: gamma must be > 0 but got ${gamma}`);
  }

  rate(p: SchedulePosition): number {
    return this.base * this.gamma ** Math.floor(progress(this.per, p) / this.stepSize);
  }
}
