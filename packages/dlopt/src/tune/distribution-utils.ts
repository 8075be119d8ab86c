import { UsageError } from '../errors.js';
import { Random, deriveSeed, hash32 } from '../util/random.js';
import type { Distribution, ParamValue } from './distributions.js';
import type { FrozenTrial } from './trial-state.js';

/**
 * Throws a UsageError naming `name` when `distribution` cannot be sampled
 * from. Distributions come from user code and config files, so every field is
 * checked at run time, not trusted to the types.
 */
export function validateDistribution(name: string, distribution: Distribution): void {
  const fail = (why: string): never => {
    throw new UsageError(`parameter '${name}': ${why}`);
  };
  const d = distribution as unknown as Record<string, unknown>;
  if (d === null || typeof d !== 'object') fail('the distribution must be an object');
  if (d.type === 'categorical') {
    const choices = d.choices;
    if (!Array.isArray(choices) || choices.length === 0) fail('categorical choices must be a non-empty list');
    const seen = new Set<string>();
    for (const choice of choices as unknown[]) {
      if (!isParamValue(choice)) fail(`categorical choice ${describeValue(choice)} is not a finite number, string, boolean or null`);
      // Typed key: 1 and '1' are different choices, and stay different in JSON.
      const key = `${typeof choice}:${String(choice)}`;
      if (seen.has(key)) fail(`categorical choice ${describeValue(choice)} appears twice`);
      seen.add(key);
    }
    return;
  }
  if (d.type !== 'float' && d.type !== 'int') fail(`unknown distribution type ${describeValue(d.type)} (float, int or categorical)`);
  const { low, high, log, step } = d;
  if (typeof low !== 'number' || !Number.isFinite(low)) fail(`low must be a finite number, got ${describeValue(low)}`);
  if (typeof high !== 'number' || !Number.isFinite(high)) fail(`high must be a finite number, got ${describeValue(high)}`);
  const lo = low as number;
  const hi = high as number;
  if (lo > hi) fail(`low (${lo}) is greater than high (${hi})`);
  if (typeof log !== 'boolean') fail(`log must be true or false, got ${describeValue(log)}`);
  if (log && lo <= 0) fail(`a log distribution needs low > 0, got low ${lo}`);
  if (d.type === 'int') {
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) fail(`an int distribution needs integer bounds, got [${lo}, ${hi}]`);
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 1) fail(`int step must be an integer ≥ 1, got ${describeValue(step)}`);
    if (log && step !== 1) fail(`a log int distribution needs step 1, got ${step as number}`);
  } else if (step !== undefined) {
    if (typeof step !== 'number' || !Number.isFinite(step) || step <= 0) fail(`float step must be a finite number > 0, got ${describeValue(step)}`);
    if (log) fail('a float distribution cannot have both log and step');
  }
}

/** Whether `value` is one `distribution` can produce (on the step grid, within rounding). */
export function contains(distribution: Distribution, value: unknown): boolean {
  if (distribution.type === 'categorical') return isParamValue(value) && distribution.choices.includes(value);
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (distribution.type === 'int' && !Number.isInteger(value)) return false;
  const step = stepOf(distribution);
  if (value < distribution.low || value > (step === undefined ? distribution.high : gridHigh(distribution.low, distribution.high, step))) return false;
  if (step === undefined) return true;
  const k = (value - distribution.low) / step;
  return Math.abs(k - Math.round(k)) <= 1e-8 * Math.max(1, Math.abs(k));
}

/**
 * The number samplers work on: the value (its natural log with `log`) for
 * float and int, the index of the choice for categorical.
 */
export function toInternal(distribution: Distribution, value: ParamValue): number {
  if (distribution.type === 'categorical') {
    const index = distribution.choices.indexOf(value);
    if (index < 0) throw new RangeError(`${describeValue(value)} is not one of the choices ${JSON.stringify(distribution.choices)}`);
    return index;
  }
  if (typeof value !== 'number') throw new RangeError(`${describeValue(value)} is not a number`);
  return distribution.log ? Math.log(value) : value;
}

/**
 * Back from a sampler's number to a value of the distribution: rounded to the
 * step grid (or the nearest choice) and clamped into range, so samplers can
 * work in a continuous space and never produce an invalid value.
 */
export function fromInternal(distribution: Distribution, x: number): ParamValue {
  if (Number.isNaN(x)) throw new RangeError('fromInternal: the internal value is NaN');
  if (distribution.type === 'categorical') {
    const n = distribution.choices.length;
    return distribution.choices[Math.min(n - 1, Math.max(0, Math.round(x)))]!;
  }
  const { low, high } = distribution;
  let v = distribution.log ? Math.exp(x) : x;
  const step = stepOf(distribution);
  if (step !== undefined) {
    const top = gridHigh(low, high, step);
    const k = Math.round((Math.min(Math.max(v, low), top) - low) / step);
    // toPrecision(15) drops the float noise of low + k·step (0.30000000000000004 → 0.3).
    v = distribution.type === 'int' ? low + k * step : Number.parseFloat((low + k * step).toPrecision(15));
    return Math.min(Math.max(v, low), top);
  }
  if (distribution.type === 'int') v = Math.round(v);
  return Math.min(Math.max(v, low), high);
}

/** Field-by-field equality (choices in order), as Optuna compares a parameter's distributions. */
export function sameDistribution(a: Distribution, b: Distribution): boolean {
  if (a.type === 'categorical' || b.type === 'categorical') {
    if (a.type !== 'categorical' || b.type !== 'categorical') return false;
    return a.choices.length === b.choices.length && a.choices.every((c, i) => Object.is(c, b.choices[i]));
  }
  return a.type === b.type && a.low === b.low && a.high === b.high && a.log === b.log && stepOf(a) === stepOf(b);
}

/** e.g. `float [0.0001, 0.1] log`, `int [1, 9] step 2`, `categorical ["adam","sgd"]`: for messages. */
export function describeDistribution(distribution: Distribution): string {
  if (distribution.type === 'categorical') return `categorical ${JSON.stringify(distribution.choices)}`;
  const step = stepOf(distribution);
  return `${distribution.type} [${distribution.low}, ${distribution.high}]${distribution.log ? ' log' : ''}${step !== undefined && step !== 1 ? ` step ${step}` : ''}`;
}

/**
 * The parameters every COMPLETE trial has, each with the same distribution
 * everywhere (Optuna's IntersectionSearchSpace): the space a joint model can
 * be fitted on. Keys in sorted order, so samplers iterate them the same way
 * on every worker.
 */
export function intersectionSearchSpace(trials: readonly FrozenTrial[]): Record<string, Distribution> {
  let space: Map<string, Distribution> | undefined;
  for (const trial of trials) {
    if (trial.state !== 'COMPLETE') continue;
    if (space === undefined) {
      space = new Map(Object.entries(trial.distributions));
      continue;
    }
    for (const [name, distribution] of space) {
      const other = trial.distributions[name];
      if (other === undefined || !sameDistribution(distribution, other)) space.delete(name);
    }
  }
  const result: Record<string, Distribution> = {};
  for (const name of [...(space?.keys() ?? [])].sort()) result[name] = space!.get(name)!;
  return result;
}

/**
 * The random stream of one trial for one purpose (a parameter name, or
 * '#relative'): it depends only on the seed, the trial number and the
 * stream's name, so a trial samples the same values whichever worker runs it
 * and whatever the other workers did before.
 */
export function trialRandom(seed: number, trialNumber: number, stream: string): Random {
  return new Random(deriveSeed(deriveSeed(seed, trialNumber), hashString(stream)));
}

/** FNV-1a over UTF-16 code units, finished with hash32 for better low bits. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return hash32(h >>> 0);
}

function stepOf(distribution: Exclude<Distribution, { type: 'categorical' }>): number | undefined {
  return distribution.step;
}

/** The last grid point ≤ high: a step that does not divide the range leaves the top unreachable (as Optuna). */
function gridHigh(low: number, high: number, step: number): number {
  return Math.min(high, low + Math.floor((high - low) / step + 1e-9) * step);
}

export function isParamValue(value: unknown): value is ParamValue {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}
