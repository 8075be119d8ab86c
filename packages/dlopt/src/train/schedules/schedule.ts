/**
 * A learning-rate schedule: the rate for a training step, from the step's
 * position in training. Schedules are pure functions of the position, so a
 * resumed run gets exactly the rates an uninterrupted one would.
 */
export interface LearningRateSchedule {
  readonly name: string;
  /** Whether the rate changes every step or only at epoch boundaries. */
  readonly per: 'step' | 'epoch';
  /** Rate at `step` (0-based, counted over the whole run) in `epoch` (0-based). */
  rate(position: SchedulePosition): number;
}

export interface SchedulePosition {
  /** Steps completed before this one, over the whole run. */
  step: number;
  /** Epochs completed before this one. */
  epoch: number;
  /** Steps in one epoch. */
  stepsPerEpoch: number;
  /** Epochs in the whole run. */
  epochs: number;
}

/** Training progress in epochs (fractional when the schedule is per step). */
export function progress(per: 'step' | 'epoch', p: SchedulePosition): number {
  return per === 'step' ? p.step / p.stepsPerEpoch : p.epoch;
}
