import type { LearningRateSchedule } from './schedule.js';

export class ConstantRate implements LearningRateSchedule {
  readonly name = 'constant';
  readonly per = 'epoch' as const;
  constructor(readonly base: number) {}

  rate(): number {
    return this.base;
  }
}
