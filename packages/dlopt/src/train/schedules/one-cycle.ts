import type { LearningRateSchedule, SchedulePosition } from './schedule.js';

/**
 * Smith's one-cycle policy (PyTorch OneCycleLR, cosine annealing): from
 * maxLr/divFactor up to maxLr over the first `pctStart` of training, then
 * down to maxLr/(divFactor·finalDivFactor). Always per step.
 */
export class OneCycle implements LearningRateSchedule {
  readonly name = 'onecycle';
  readonly per = 'step' as const;
  constructor(
    readonly maxLr: number,
    readonly pctStart = 0.3,
    readonly divFactor = 25,
    readonly finalDivFactor = 1e4,
  ) {
    if (!(pctStart > 0 && pctStart < 1)) throw new RangeError(`onecycle schedule: pctStart must be in (0, 1) but got ${pctStart}`);
    if (!(divFactor > 0 && finalDivFactor > 0)) throw new RangeError('onecycle schedule: divFactor and finalDivFactor must be > 0');
  }

  rate(p: SchedulePosition): number {
    const total = Math.max(1, p.epochs * p.stepsPerEpoch - 1);
    const up = Math.max(1, this.pctStart * total);
    const initial = this.maxLr / this.divFactor;
    const final = initial / this.finalDivFactor;
    const anneal = (from: number, to: number, f: number) => to + ((from - to) * (1 + Math.cos(Math.PI * Math.min(1, f)))) / 2;
    return p.step <= up ? anneal(initial, this.maxLr, p.step / up) : anneal(this.maxLr, final, (p.step - up) / (total - up));
  }
}
