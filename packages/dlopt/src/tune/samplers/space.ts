/**
 * The internal space samplers work in, shared by every sampler. Each
 * numeric parameter becomes one real number on a continuous interval
 * [lo, hi] (its logarithm when `log`), each categorical one an index.
 *
 * Discrete parameters (int, float with step) get an interval padded by half
 * a step on both sides, and every grid value owns the bin of internal values
 * that round to it, so a uniform or Gaussian density on [lo, hi] gives every
 * grid value (endpoints included) its fair share of mass. For log ints the
 * bins are [ln(v − ½), ln(v + ½)].
 */
import { DloptError } from '../../errors.js';
import type { Random } from '../../util/random.js';
import type { CategoricalDistribution, Distribution, FloatDistribution, IntDistribution, ParamValue } from '../distributions.js';

export interface NumericSpace {
  readonly kind: 'numeric';
  readonly distribution: FloatDistribution | IntDistribution;
  readonly int: boolean;
  readonly log: boolean;
  readonly low: number;
  /** The largest value on the grid (high itself unless a step does not divide high − low). */
  readonly high: number;
  /** Grid step of discrete parameters (ints always have one); undefined for continuous floats. */
  readonly step: number | undefined;
  /** Number of grid values − 1, for discrete parameters. */
  readonly steps: number;
  readonly discrete: boolean;
  /** The continuous internal support. */
  readonly lo: number;
  readonly hi: number;
}

export interface CategoricalSpace {
  readonly kind: 'categorical';
  readonly distribution: CategoricalDistribution;
  readonly choices: readonly ParamValue[];
}

export type ParamSpace = NumericSpace | CategoricalSpace;

/** Describes a distribution in messages, e.g. `float [0.0001, 0.1] log`. */
export function describeDistribution(d: Distribution): string {
  if (d.type === 'categorical') return `categorical ${JSON.stringify(d.choices)}`;
  return `${d.type} [${d.low}, ${d.high}]${d.log ? ' log' : ''}${d.step !== undefined && !(d.type === 'int' && d.step === 1) ? ` step ${d.step}` : ''}`;
}

/** The internal space of a distribution; throws a DloptError when the distribution itself is invalid. */
export function paramSpace(d: Distribution): ParamSpace {
  if (d.type === 'categorical') {
    if (!Array.isArray(d.choices) || d.choices.length === 0) throw new DloptError(`categorical distribution needs at least one choice`);
    return { kind: 'categorical', distribution: d, choices: d.choices };
  }
  const bad = (why: string): never => {
    throw new DloptError(`invalid ${describeDistribution(d)} distribution: ${why}`);
  };
  const { low, high, log } = d;
  if (!Number.isFinite(low) || !Number.isFinite(high)) bad('low and high must be finite numbers');
  if (low > high) bad('low must be ≤ high');
  if (log && low <= 0) bad('log needs low > 0');
  const int = d.type === 'int';
  let step = d.step;
  if (int) {
    step ??= 1;
    if (!Number.isInteger(low) || !Number.isInteger(high)) bad('low and high must be integers');
    if (!Number.isInteger(step) || step < 1) bad('step must be an integer ≥ 1');
    if (log && step !== 1) bad('step must be 1 with log');
  } else if (step !== undefined) {
    if (!(step > 0) || !Number.isFinite(step)) bad('step must be > 0');
    if (log) bad('step cannot be combined with log');
  }
  if (step === undefined) {
    return log
      ? { kind: 'numeric', distribution: d, int, log, low, high, step, steps: 0, discrete: false, lo: Math.log(low), hi: Math.log(high) }
      : { kind: 'numeric', distribution: d, int, log, low, high, step, steps: 0, discrete: false, lo: low, hi: high };
  }
  // Float ratios like 0.3 / 0.1 = 2.9999999999999996 must still count the last grid value.
  const ratio = (high - low) / step;
  const steps = Math.floor(ratio + 1e-9 * Math.max(1, ratio));
  const top = Math.min(high, int ? low + steps * step : tidy(low + steps * step));
  if (log) {
    // Int log only (float log with step was rejected above): low ≥ 1 so low − ½ > 0.
    return { kind: 'numeric', distribution: d, int, log, low, high: top, step, steps, discrete: true, lo: Math.log(low - 0.5), hi: Math.log(top + 0.5) };
  }
  return { kind: 'numeric', distribution: d, int, log, low, high: top, step, steps, discrete: true, lo: low - step / 2, hi: top + step / 2 };
}

/** Whether low == high (or a single choice): samplers return that value without drawing. */
export function singleValue(space: ParamSpace): { value: ParamValue } | undefined {
  if (space.kind === 'categorical') return space.choices.length === 1 ? { value: space.choices[0]! } : undefined;
  return space.low === space.high ? { value: space.low } : undefined;
}

/**
 * A value's internal number (index for categorical), or undefined when the
 * value does not belong to this space (another type, outside the range,
 * unknown choice): samplers skip such observations instead of failing, since
 * a parameter may have been suggested with other ranges in older trials.
 * Numeric values need not be on this space's grid.
 */
export function toInternal(space: ParamSpace, value: ParamValue | undefined): number | undefined {
  if (space.kind === 'categorical') {
    const i = indexOfChoice(space.choices, value);
    return i < 0 ? undefined : i;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  if (value < space.low || value > space.distribution.high) return undefined;
  if (space.int && !Number.isInteger(value)) return undefined;
  const x = space.log ? Math.log(value) : value;
  // A value past the last grid point's bin (recorded under another step) lies outside the support.
  return x >= space.lo && x <= space.hi ? x : undefined;
}

/** The value an internal number stands for: rounded to the grid and clamped into the distribution. */
export function fromInternal(space: ParamSpace, x: number): ParamValue {
  if (space.kind === 'categorical') {
    const i = Math.min(space.choices.length - 1, Math.max(0, Math.round(x)));
    return space.choices[i]!;
  }
  if (!space.discrete) {
    const v = space.log ? Math.exp(x) : x;
    return Math.min(space.high, Math.max(space.low, v));
  }
  if (space.log) return Math.min(space.high, Math.max(space.low, Math.round(Math.exp(x))));
  const step = space.step!;
  const k = Math.min(space.steps, Math.max(0, Math.round((x - space.low) / step)));
  if (space.int) return space.low + k * step;
  return Math.min(space.high, Math.max(space.low, tidy(space.low + k * step)));
}

/** The internal interval a discrete parameter's grid value owns. */
export function binOf(space: NumericSpace, value: number): [number, number] {
  if (space.log) return [Math.log(value - 0.5), Math.log(value + 0.5)];
  const half = space.step! / 2;
  return [value - half, value + half];
}

/**
 * A uniform draw in internal space: uniform for linear floats, log-uniform for
 * log ones, every grid value equally likely for linear discrete ones, and
 * log-uniform over the bins for log ints (Optuna's RandomSampler does the same).
 */
export function sampleUniform(space: ParamSpace, rng: Random): ParamValue {
  if (space.kind === 'categorical') return space.choices[rng.int(space.choices.length)]!;
  return fromInternal(space, rng.uniform(space.lo, space.hi));
}

/** Whether `value` is a value of `distribution` (in range, on its grid, of the right type). */
export function containsValue(distribution: Distribution, value: ParamValue): boolean {
  const space = paramSpace(distribution);
  if (space.kind === 'categorical') return indexOfChoice(space.choices, value) >= 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < space.low || value > space.high) return false;
  if (space.int) return Number.isInteger(value) && (value - space.low) % space.step! === 0;
  if (space.step === undefined) return true;
  const k = (value - space.low) / space.step;
  return Math.abs(k - Math.round(k)) <= 1e-9 * Math.max(1, Math.abs(k));
}

/** Choices compare by identity, except NaN, which is equal to itself here. */
export function indexOfChoice(choices: readonly ParamValue[], value: ParamValue | undefined): number {
  for (let i = 0; i < choices.length; i++) {
    const c = choices[i];
    if (c === value || (typeof c === 'number' && typeof value === 'number' && Number.isNaN(c) && Number.isNaN(value))) return i;
  }
  return -1;
}

/** A seed for samplers built without one: drawn once, then recorded so the run can be repeated. */
export function drawSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}

export function checkSeed(seed: number | undefined, sampler: string): number {
  if (seed === undefined) return drawSeed();
  if (!Number.isSafeInteger(seed)) throw new DloptError(`${sampler}: seed must be an integer, got ${seed}`);
  return seed;
}

/** Drops the binary noise of low + k·step (0.30000000000000004 → 0.3) so users see the grid values they asked for. */
function tidy(v: number): number {
  return Number(v.toPrecision(15));
}
