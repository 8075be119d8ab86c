import { DloptError } from '../errors.js';

/** When masks are recomputed during training, and to what sparsity (tfmot's pruning schedules). */
export interface SparsitySchedule {
  /** The sparsity the masks should have at a step; 0 before pruning begins. */
  sparsityAt(step: number): number;
  /** Whether the masks are recomputed before this step's update. */
  shouldUpdate(step: number): boolean;
  describe(): string;
}

export interface ConstantSparsityOptions {
  target: number;
  beginStep?: number;
  /** Last step masks are recomputed at; -1 for never stopping. */
  endStep?: number;
  frequency?: number;
}

/** One sparsity from `beginStep` on, the masks recomputed every `frequency` steps until `endStep`. */
export class ConstantSparsity implements SparsitySchedule {
  readonly target: number;
  readonly beginStep: number;
  readonly endStep: number;
  readonly frequency: number;

  constructor(options: ConstantSparsityOptions) {
    this.target = sparsityIn(options.target, 'target sparsity');
    this.beginStep = stepIn(options.beginStep ?? 0, 'beginStep');
    this.endStep = options.endStep ?? -1;
    if (this.endStep !== -1) {
      stepIn(this.endStep, 'endStep');
      if (this.endStep < this.beginStep) throw new DloptError(`endStep (${this.endStep}) must be -1 or at least beginStep (${this.beginStep})`);
    }
    this.frequency = frequencyIn(options.frequency ?? 100);
  }

  sparsityAt(step: number): number {
    return step < this.beginStep ? 0 : this.target;
  }

  shouldUpdate(step: number): boolean {
    return updateStep(step, this.beginStep, this.endStep, this.frequency);
  }

  describe(): string {
    const until = this.endStep === -1 ? '' : ` until step ${this.endStep}`;
    return `constant sparsity ${this.target} from step ${this.beginStep}${until}, masks updated every ${this.frequency} steps`;
  }
}

export interface PolynomialDecaySparsityOptions {
  initial: number;
  final: number;
  beginStep: number;
  endStep: number;
  power?: number;
  frequency?: number;
}

/**
 * Gradual pruning (Zhu & Gupta 2017, tfmot's PolynomialDecay): sparsity rises
 * from `initial` to `final` as s_f + (s_i − s_f)(1 − p)^power with
 * p = (step − begin)/(end − begin) clamped to [0, 1], fast at first while the
 * network has redundant weights to lose and slowly near the end.
 */
export class PolynomialDecaySparsity implements SparsitySchedule {
  readonly initial: number;
  readonly final: number;
  readonly beginStep: number;
  readonly endStep: number;
  readonly power: number;
  readonly frequency: number;

  constructor(options: PolynomialDecaySparsityOptions) {
    this.initial = sparsityIn(options.initial, 'initial sparsity');
    this.final = sparsityIn(options.final, 'final sparsity');
    // Recomputing masks from already-zeroed weights cannot give sparsity back in any meaningful way.
    if (this.final < this.initial) throw new DloptError(`final sparsity (${this.final}) must be at least the initial sparsity (${this.initial})`);
    this.beginStep = stepIn(options.beginStep, 'beginStep');
    this.endStep = stepIn(options.endStep, 'endStep');
    if (this.endStep <= this.beginStep) throw new DloptError(`endStep (${this.endStep}) must be after beginStep (${this.beginStep})`);
    this.power = options.power ?? 3;
    if (!(this.power > 0 && Number.isFinite(this.power))) throw new DloptError(`power must be a positive number but got ${this.power}`);
    this.frequency = frequencyIn(options.frequency ?? 100);
  }

  sparsityAt(step: number): number {
    if (step < this.beginStep) return 0;
    const p = Math.min(1, (step - this.beginStep) / (this.endStep - this.beginStep));
    return this.final + (this.initial - this.final) * (1 - p) ** this.power;
  }

  shouldUpdate(step: number): boolean {
    return updateStep(step, this.beginStep, this.endStep, this.frequency);
  }

  describe(): string {
    return (
      `polynomial decay (power ${this.power}) from sparsity ${this.initial} to ${this.final} over steps ${this.beginStep}-${this.endStep}, ` +
      `masks updated every ${this.frequency} steps`
    );
  }
}

// The end step always updates, so the final sparsity is reached even when the
// frequency does not divide the schedule's length.
function updateStep(step: number, begin: number, end: number, frequency: number): boolean {
  if (step < begin || (end !== -1 && step > end)) return false;
  return (step - begin) % frequency === 0 || step === end;
}

function sparsityIn(value: number, what: string): number {
  if (!(value >= 0 && value < 1)) throw new DloptError(`${what} must be in [0, 1) but got ${value}`);
  return value;
}

function stepIn(value: number, what: string): number {
  if (!(Number.isInteger(value) && value >= 0)) throw new DloptError(`${what} must be a whole number of steps >= 0 but got ${value}`);
  return value;
}

function frequencyIn(value: number): number {
  if (!(Number.isInteger(value) && value >= 1)) throw new DloptError(`frequency must be a whole number of steps >= 1 but got ${value}`);
  return value;
}
