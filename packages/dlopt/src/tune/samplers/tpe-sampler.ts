import { DloptError } from '../../errors.js';
import type { Random } from '../../util/random.js';
import type { Distribution, ParamValue } from '../distributions.js';
import type { Direction, FrozenTrial } from '../trial-state.js';
import type { Sampler, SamplingContext } from './sampler.js';
import { binOf, checkSeed, fromInternal, paramSpace, sampleUniform, singleValue, toInternal, type NumericSpace, type ParamSpace } from './space.js';

export interface TPESamplerOptions {
  /** Recorded in `seed`; without it one is drawn at construction. */
  seed?: number;
  /** Trials (COMPLETE or PRUNED) sampled at random before the model takes over. Default 10. */
  nStartupTrials?: number;
  /** Candidates drawn from l(x); the one maximising l(x)/g(x) wins. Default 24. */
  nEiCandidates?: number;
  /** How many of n finished trials form the good group. Default min(⌈0.1·n⌉, 25). */
  gamma?: (n: number) => number;
  /** Kernel weights of n observations, oldest first. Default: 1 for the newest 25, a linear ramp up to 1 for older ones. */
  weights?: (n: number) => ArrayLike<number>;
  /** Weight of the prior kernel (the whole range) in both mixtures. Default 1. */
  priorWeight?: number;
  /** Floor on bandwidths, range / min(100, 1 + kernels), so one lucky point cannot shrink l(x) to a spike. Default true. */
  considerMagicClip?: boolean;
  /** Let kernels at the edges of the range take their distance to the edge as bandwidth. Default false. */
  considerEndpoints?: boolean;
  /**
   * Model the parameters the study hands to sampleRelative jointly (one
   * product kernel per trial), as Optuna's `multivariate=True`, which
   * captures interactions between parameters. Parameters outside that space
   * stay univariate. Default false.
   */
  multivariate?: boolean;
}

/**
 * Tree-structured Parzen Estimator, as Optuna's TPESampler (single objective,
 * constant liar on). The finished trials are split by value into a good group
 * (the best γ(n)) and a bad one; for each parameter a Parzen mixture is fitted
 * to each group, l(x) and g(x), and of nEiCandidates points drawn from l the
 * one maximising log l(x) − log g(x) is taken.
 *
 * - PRUNED trials rank after COMPLETE ones, by deepest step reached, then by
 *   their last reported value.
 * - RUNNING trials always join the bad group, with the parameters they have so
 *   far: workers sampling in parallel are pushed away from points already being
 *   evaluated instead of all trying the same one.
 * - FAIL and WAITING trials are ignored, and so are observations a parameter
 *   cannot use (another kind of distribution, a value outside today's range).
 * - log / step / int parameters use Gaussians in internal space (log of the
 *   value with `log`), truncated to the range; discrete values are scored by
 *   the mass of their bin, so ints and stepped floats are proper discrete
 *   distributions.
 *
 * Every draw comes from ctx.rng, so a trial's values depend only on the seed,
 * its number and the trials it saw.
 */
export class TPESampler implements Sampler {
  readonly name = 'tpe';
  readonly seed: number;
  readonly nStartupTrials: number;
  readonly nEiCandidates: number;
  readonly multivariate: boolean;
  /** Present only with `multivariate`, so a study samples univariately otherwise. */
  readonly sampleRelative?: (ctx: SamplingContext, space: Readonly<Record<string, Distribution>>) => Record<string, ParamValue>;
  private readonly gamma: (n: number) => number;
  private readonly estimator: EstimatorOptions;

  constructor(options: TPESamplerOptions = {}) {
    this.seed = checkSeed(options.seed, 'TPESampler');
    this.nStartupTrials = options.nStartupTrials ?? 10;
    this.nEiCandidates = options.nEiCandidates ?? 24;
    this.gamma = options.gamma ?? defaultGamma;
    this.multivariate = options.multivariate ?? false;
    const priorWeight = options.priorWeight ?? 1;
    if (!Number.isInteger(this.nStartupTrials) || this.nStartupTrials < 0) throw new DloptError(`TPESampler: nStartupTrials must be an integer ≥ 0, got ${this.nStartupTrials}`);
    if (!Number.isInteger(this.nEiCandidates) || this.nEiCandidates < 1) throw new DloptError(`TPESampler: nEiCandidates must be an integer ≥ 1, got ${this.nEiCandidates}`);
    if (!(priorWeight >= 0) || !Number.isFinite(priorWeight)) throw new DloptError(`TPESampler: priorWeight must be ≥ 0, got ${priorWeight}`);
    this.estimator = {
      priorWeight,
      considerMagicClip: options.considerMagicClip ?? true,
      considerEndpoints: options.considerEndpoints ?? false,
      weights: options.weights ?? defaultWeights,
    };
    if (this.multivariate) this.sampleRelative = (ctx, space) => this.relative(ctx, space);
  }

  sampleIndependent(ctx: SamplingContext, name: string, distribution: Distribution): ParamValue {
    const space = paramSpace(distribution);
    const single = singleValue(space);
    if (single) return single.value;
    const split = splitTrials(ctx.trials, ctx.direction, this.gamma, ctx.trial.number);
    if (split.nFinished < this.nStartupTrials) return sampleUniform(space, ctx.rng);
    return this.sample(ctx.rng, [name], [space], split)[0]!;
  }

  private relative(ctx: SamplingContext, searchSpace: Readonly<Record<string, Distribution>>): Record<string, ParamValue> {
    const result: Record<string, ParamValue> = {};
    const names: string[] = [];
    const spaces: ParamSpace[] = [];
    // Sorted: the joint draw must not depend on the order the study lists parameters in.
    for (const name of Object.keys(searchSpace).sort()) {
      const space = paramSpace(searchSpace[name]!);
      const single = singleValue(space);
      if (single) result[name] = single.value;
      else {
        names.push(name);
        spaces.push(space);
      }
    }
    if (names.length === 0) return result;
    const split = splitTrials(ctx.trials, ctx.direction, this.gamma, ctx.trial.number);
    // Before the start-up trials are done, sampleIndependent draws at random.
    if (split.nFinished < this.nStartupTrials) return {};
    const values = this.sample(ctx.rng, names, spaces, split);
    names.forEach((name, d) => (result[name] = values[d]!));
    return result;
  }

  private sample(rng: Random, names: readonly string[], spaces: readonly ParamSpace[], split: TrialSplit): ParamValue[] {
    const l = buildParzenEstimator(observations(split.below, names, spaces), spaces, this.estimator);
    const g = buildParzenEstimator(observations(split.above, names, spaces), spaces, this.estimator);
    const internal = sampleMixture(l, rng, this.nEiCandidates);
    const values: ParamValue[][] = [];
    const points = internal.map((xs, d) => {
      const space = spaces[d]!;
      const vs = Array.from(xs, (x) => fromInternal(space, x));
      values.push(vs);
      // Score discrete values by their own bin, continuous ones where they fell.
      return space.kind === 'numeric' && space.discrete ? Float64Array.from(vs as number[]) : xs;
    });
    const logL = mixtureLogPdf(l, points);
    const logG = mixtureLogPdf(g, points);
    let best = 0;
    let bestScore = -Infinity;
    for (let j = 0; j < logL.length; j++) {
      const score = logL[j]! - logG[j]!;
      if (score > bestScore) {
        bestScore = score;
        best = j;
      }
    }
    return values.map((vs) => vs[best]!);
  }
}

// ---------------------------------------------------------------------------
// Splitting trials into good and bad

export const defaultGamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

/** Optuna's default kernel weights: flat for the newest 25 observations, a ramp from 1/n for older ones. */
export function defaultWeights(n: number): Float64Array {
  const w = new Float64Array(n).fill(1);
  if (n >= 25) {
    const ramp = n - 25;
    // numpy.linspace(1/n, 1, ramp)
    for (let i = 0; i < ramp; i++) w[i] = ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1);
  }
  return w;
}

export interface TrialSplit {
  /** The good group, in number order. */
  below: FrozenTrial[];
  /** The bad group (RUNNING trials included), in number order. */
  above: FrozenTrial[];
  /** COMPLETE and PRUNED trials: what γ and the start-up count see. */
  nFinished: number;
}

export function splitTrials(trials: readonly FrozenTrial[], direction: Direction, gamma: (n: number) => number, exclude?: number): TrialSplit {
  const sign = direction === 'maximize' ? -1 : 1;
  // Usable trials in number order; `good` marks the good group among them.
  let used: FrozenTrial[] = [];
  const keys: number[] = [];
  const completeAt: number[] = [];
  const pruned: { at: number; step: number; value: number }[] = [];
  let ordered = true;
  for (const t of trials) {
    if (t.number === exclude) continue;
    if (t.state === 'COMPLETE') {
      if (typeof t.value !== 'number') continue;
      completeAt.push(used.length);
      keys.push(sign * t.value);
    } else if (t.state === 'PRUNED') pruned.push({ at: used.length, ...prunedScore(t, sign) });
    else if (t.state !== 'RUNNING') continue;
    if (used.length > 0 && used[used.length - 1]!.number > t.number) ordered = false;
    used.push(t);
  }
  const nFinished = completeAt.length + pruned.length;
  let nBelow = Math.max(0, Math.min(nFinished, Math.floor(gamma(nFinished))));
  const good = new Uint8Array(used.length);
  if (nBelow >= keys.length) completeAt.forEach((at) => (good[at] = 1));
  else if (nBelow > 0) {
    // The nBelow best: everything better than the nBelow-th value, then ties
    // with it in list order (a native sort of the values: n can be 10⁴).
    const threshold = Float64Array.from(keys).sort()[nBelow - 1]!;
    let ties = nBelow;
    for (const k of keys) if (k < threshold) ties--;
    keys.forEach((k, i) => {
      if (k < threshold || ((k === threshold || (Number.isNaN(k) && Number.isNaN(threshold))) && ties-- > 0)) good[completeAt[i]!] = 1;
    });
  }
  nBelow -= Math.min(nBelow, keys.length);
  if (nBelow > 0) {
    pruned.sort((a, b) => compareNumbers(a.step, b.step) || compareNumbers(a.value, b.value));
    for (let i = 0; i < nBelow && i < pruned.length; i++) good[pruned[i]!.at] = 1;
  }
  if (!ordered) {
    const order = Array.from(used.keys()).sort((a, b) => used[a]!.number - used[b]!.number);
    const flags = Uint8Array.from(order, (i) => good[i]!);
    used = order.map((i) => used[i]!);
    good.set(flags);
  }
  const below: FrozenTrial[] = [];
  const above: FrozenTrial[] = [];
  used.forEach((t, i) => (good[i] ? below : above).push(t));
  return { below, above, nFinished };
}

/** Deeper first, then better last value; no report at all ranks last. */
function prunedScore(t: FrozenTrial, sign: number): { step: number; value: number } {
  let step = -Infinity;
  for (const key of Object.keys(t.intermediate)) step = Math.max(step, Number(key));
  if (step === -Infinity) return { step: 1, value: 0 };
  const v = t.intermediate[step]!;
  return { step: -step, value: Number.isNaN(v) ? Infinity : sign * v };
}

/** Ascending, NaN last. */
function compareNumbers(x: number, y: number): number {
  if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
  if (Number.isNaN(y)) return -1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Internal values of the parameters, one array per parameter, from the trials
 * that have every one of them usable (one parameter, when univariate).
 */
function observations(trials: readonly FrozenTrial[], names: readonly string[], spaces: readonly ParamSpace[]): Float64Array[] {
  const columns = names.map(() => new Float64Array(trials.length));
  let n = 0;
  next: for (const t of trials) {
    for (let d = 0; d < names.length; d++) {
      const name = names[d]!;
      const space = spaces[d]!;
      const recorded = t.distributions[name];
      if (recorded !== undefined && recorded.type !== space.distribution.type) continue next;
      const x = Object.hasOwn(t.params, name) ? toInternal(space, t.params[name]) : undefined;
      if (x === undefined) continue next;
      columns[d]![n] = x;
    }
    n++;
  }
  return columns.map((c) => c.subarray(0, n));
}

// ---------------------------------------------------------------------------
// Parzen estimator: a mixture of product kernels, one per observation plus the prior

interface EstimatorOptions {
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  weights: (n: number) => ArrayLike<number>;
}

interface NumericKernels {
  kind: 'numeric';
  space: NumericSpace;
  mu: Float64Array;
  sigma: Float64Array;
  /** log of each kernel's mass on [lo, hi] (its truncation). */
  logZ: Float64Array;
  /** Discrete parameters: kernels sharing (μ, σ) share their bin masses, so they are computed once per pair. */
  pairOf?: Int32Array;
  pairs?: number[];
}

interface CategoricalKernels {
  kind: 'categorical';
  n: number;
  /** K×n row-major probabilities of each choice under each kernel. */
  p: Float64Array;
  /** log p, filled once the kernels are final. */
  logP: Float64Array;
}

export interface ParzenEstimator {
  /** Normalised mixture weights, one per kernel; the prior kernel is last. */
  weights: Float64Array;
  logWeights: Float64Array;
  dims: (NumericKernels | CategoricalKernels)[];
}

/** Optuna's _ParzenEstimator on internal-space observations (one array per parameter, oldest first). */
export function buildParzenEstimator(obs: readonly Float64Array[], spaces: readonly ParamSpace[], options: EstimatorOptions): ParzenEstimator {
  const m = obs[0]?.length ?? 0;
  let weights: Float64Array = new Float64Array(m + 1);
  if (m === 0) weights = new Float64Array([1]);
  else {
    const w = options.weights(m);
    for (let i = 0; i < m; i++) {
      const v = Number(w[i]);
      if (!(v >= 0) || !Number.isFinite(v)) throw new DloptError(`TPESampler: weights(${m}) must give ${m} finite values ≥ 0, got ${v} at ${i}`);
      weights[i] = v;
    }
    weights[m] = options.priorWeight;
  }
  let total = 0;
  for (const w of weights) total += w;
  if (!(total > 0)) throw new DloptError(`TPESampler: weights(${m}) and priorWeight are all zero`);
  for (let i = 0; i < weights.length; i++) weights[i]! /= total;
  let dims = spaces.map((space, d) =>
    space.kind === 'categorical'
      ? categoricalKernels(obs[d]!, space.choices.length, options.priorWeight)
      : numericKernels(obs[d]!, space, options),
  );
  // One discrete parameter: identical kernels (repeated values, every
  // observation of one category) merge into one with their weights summed, the
  // same mixture with far fewer terms to evaluate.
  const only = dims.length === 1 ? dims[0]! : undefined;
  if (only && m > 0 && (only.kind === 'categorical' || only.space.discrete)) ({ weights, dims } = mergeIdentical(weights, only));
  for (const dim of dims) {
    if (dim.kind === 'numeric') normalise(dim);
    else dim.logP = dim.p.map(Math.log);
  }
  return { weights, logWeights: weights.map(Math.log), dims };
}

/**
 * Optuna 5's bandwidths, for univariate and multivariate alike: each kernel
 * as wide as the larger gap to its sorted neighbours (the range's ends count
 * as neighbours; without considerEndpoints the outermost kernels take the gap
 * inwards), clipped to [range / min(100, kernels + 1), range]. The prior
 * kernel sits in the middle, as wide as the range.
 */
function numericKernels(obs: Float64Array, space: NumericSpace, options: EstimatorOptions): NumericKernels {
  const { lo, hi } = space;
  const range = hi - lo;
  const m = obs.length;
  const mu = new Float64Array(m + 1);
  const sigma = new Float64Array(m + 1);
  mu.set(obs);
  mu[m] = 0.5 * (lo + hi);
  if (m > 0) {
    const e = new Float64Array(m + 2);
    e[0] = lo;
    e.set(Float64Array.from(obs).sort(), 1);
    e[m + 1] = hi;
    const rank = ranks(obs, e.subarray(1, m + 1));
    const inward = !options.considerEndpoints && m >= 2;
    for (let k = 0; k < m; k++) {
      const i = rank[k]!;
      let s = Math.max(e[i + 1]! - e[i]!, e[i + 2]! - e[i + 1]!);
      if (inward && i === 0) s = e[2]! - e[1]!;
      if (inward && i === m - 1) s = e[m]! - e[m - 1]!;
      sigma[k] = s;
    }
  }
  const minSigma = options.considerMagicClip ? range / Math.min(100, 1 + (m + 1)) : 1e-12;
  for (let i = 0; i < m; i++) sigma[i] = Math.min(range, Math.max(minSigma, sigma[i]!));
  sigma[m] = range;
  return { kind: 'numeric', space, mu, sigma, logZ: new Float64Array(0) };
}

/** Position of each value in `sorted` (the same values, sorted); equal values take their places in index order. */
function ranks(values: Float64Array, sorted: Float64Array): Int32Array {
  const rank = new Int32Array(values.length);
  let duplicates: Map<number, number> | undefined;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) duplicates = new Map();
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    if (duplicates) {
      const seen = duplicates.get(v) ?? 0;
      duplicates.set(v, seen + 1);
      lo += seen;
    }
    rank[k] = lo;
  }
  return rank;
}

/** Each observation: priorWeight/K on every choice plus 1 on its own, normalised; the prior kernel: uniform. */
function categoricalKernels(obs: Float64Array, n: number, priorWeight: number): CategoricalKernels {
  const kernels = obs.length + 1;
  const p = new Float64Array(kernels * n);
  if (obs.length === 0) p.fill(1 / n);
  else {
    const base = priorWeight / kernels;
    const own = (1 + base) / (n * base + 1);
    const other = base / (n * base + 1);
    for (let k = 0; k < obs.length; k++) for (let c = 0; c < n; c++) p[k * n + c] = c === obs[k] ? own : other;
    p.fill(1 / n, obs.length * n);
  }
  return { kind: 'categorical', n, p, logP: new Float64Array(0) };
}

function mergeIdentical(weights: Float64Array, dim: NumericKernels | CategoricalKernels): { weights: Float64Array; dims: (NumericKernels | CategoricalKernels)[] } {
  const kernels = weights.length;
  const keep: number[] = [];
  const merged: number[] = [];
  const prior = kernels - 1;
  if (dim.kind === 'numeric') {
    const seen = new Map<number, Map<number, number>>();
    for (let k = 0; k < prior; k++) {
      let bySigma = seen.get(dim.mu[k]!);
      if (!bySigma) seen.set(dim.mu[k]!, (bySigma = new Map()));
      const j = bySigma.get(dim.sigma[k]!);
      if (j === undefined) {
        bySigma.set(dim.sigma[k]!, keep.length);
        keep.push(k);
        merged.push(weights[k]!);
      } else merged[j]! += weights[k]!;
    }
  } else {
    const seen = new Map<number, number>();
    for (let k = 0; k < prior; k++) {
      // An observation's row is fixed by its category; find it from the row's largest entry.
      let c = 0;
      for (let i = 1; i < dim.n; i++) if (dim.p[k * dim.n + i]! > dim.p[k * dim.n + c]!) c = i;
      const j = seen.get(c);
      if (j === undefined) {
        seen.set(c, keep.length);
        keep.push(k);
        merged.push(weights[k]!);
      } else merged[j]! += weights[k]!;
    }
  }
  keep.push(prior);
  merged.push(weights[prior]!);
  if (keep.length === kernels) return { weights, dims: [dim] };
  if (dim.kind === 'numeric') {
    return {
      weights: Float64Array.from(merged),
      dims: [{ ...dim, mu: Float64Array.from(keep, (k) => dim.mu[k]!), sigma: Float64Array.from(keep, (k) => dim.sigma[k]!) }],
    };
  }
  const p = new Float64Array(keep.length * dim.n);
  keep.forEach((k, i) => p.set(dim.p.subarray(k * dim.n, (k + 1) * dim.n), i * dim.n));
  return { weights: Float64Array.from(merged), dims: [{ ...dim, p }] };
}

/** Truncation masses, and for discrete parameters the distinct (μ, σ) pairs. */
function normalise(dim: NumericKernels): void {
  const { lo, hi } = dim.space;
  const kernels = dim.mu.length;
  dim.logZ = new Float64Array(kernels);
  for (let k = 0; k < kernels; k++) {
    const s = dim.sigma[k]!;
    const a = (lo - dim.mu[k]!) / s;
    const b = (hi - dim.mu[k]!) / s;
    // Beyond 9σ on both sides the mass is 1 to double precision.
    dim.logZ[k] = a < -9 && b > 9 ? 0 : logGaussMass(a, b);
  }
  if (!dim.space.discrete) return;
  const pairOf = new Int32Array(kernels);
  const pairs: number[] = [];
  const seen = new Map<number, Map<number, number>>();
  for (let k = 0; k < kernels; k++) {
    let bySigma = seen.get(dim.mu[k]!);
    if (!bySigma) seen.set(dim.mu[k]!, (bySigma = new Map()));
    let j = bySigma.get(dim.sigma[k]!);
    if (j === undefined) {
      j = pairs.length;
      bySigma.set(dim.sigma[k]!, j);
      pairs.push(k);
    }
    pairOf[k] = j;
  }
  dim.pairOf = pairOf;
  dim.pairs = pairs;
}

/** `count` draws, one internal-space array per parameter (category indices for categoricals). */
export function sampleMixture(est: ParzenEstimator, rng: Random, count: number): Float64Array[] {
  const out = est.dims.map(() => new Float64Array(count));
  for (let j = 0; j < count; j++) {
    const k = pick(est.weights, 0, est.weights.length, rng.next());
    for (let d = 0; d < est.dims.length; d++) {
      const dim = est.dims[d]!;
      if (dim.kind === 'categorical') out[d]![j] = pick(dim.p, k * dim.n, dim.n, rng.next());
      else {
        const mu = dim.mu[k]!;
        const s = dim.sigma[k]!;
        const z = truncnormPpf(rng.next(), (dim.space.lo - mu) / s, (dim.space.hi - mu) / s);
        out[d]![j] = Math.min(dim.space.hi, Math.max(dim.space.lo, mu + s * z));
      }
    }
  }
  return out;
}

/** Index (from 0) of the slot of `p[offset..offset+n)` where the cumulative sum passes u. */
function pick(p: Float64Array, offset: number, n: number, u: number): number {
  let acc = 0;
  for (let i = 0; i < n - 1; i++) {
    acc += p[offset + i]!;
    if (u < acc) return i;
  }
  return n - 1;
}

/**
 * log density of the mixture at each point (one array per parameter): the
 * internal value for continuous parameters, the grid value for discrete ones
 * (scored by its bin's mass), the index for categoricals.
 */
export function mixtureLogPdf(est: ParzenEstimator, points: readonly Float64Array[]): Float64Array {
  const kernels = est.weights.length;
  const count = points[0]?.length ?? 0;
  // Per continuous dimension: 1/σ and the log normaliser of each kernel.
  const inv = est.dims.map((dim) => (dim.kind === 'numeric' && !dim.space.discrete ? dim.sigma.map((s) => 1 / s) : undefined));
  const norm = est.dims.map((dim, d) => (inv[d] ? inv[d].map((v, k) => Math.log(v) - LOG_SQRT_2PI - (dim as NumericKernels).logZ[k]!) : undefined));
  const binCaches = est.dims.map(() => new Map<number, Float64Array>());
  const row = new Float64Array(kernels);
  const out = new Float64Array(count);
  for (let j = 0; j < count; j++) {
    row.set(est.logWeights);
    for (let d = 0; d < est.dims.length; d++) {
      const dim = est.dims[d]!;
      const x = points[d]![j]!;
      if (dim.kind === 'categorical') {
        for (let k = 0; k < kernels; k++) row[k]! += dim.logP[k * dim.n + x]!;
      } else if (dim.space.discrete) {
        let terms = binCaches[d]!.get(x);
        if (!terms) binCaches[d]!.set(x, (terms = binTerms(dim, x)));
        for (let k = 0; k < kernels; k++) row[k]! += terms[k]!;
      } else {
        const mu = dim.mu;
        const iv = inv[d]!;
        const nm = norm[d]!;
        for (let k = 0; k < kernels; k++) {
          const z = (x - mu[k]!) * iv[k]!;
          row[k]! += nm[k]! - 0.5 * z * z;
        }
      }
    }
    let max = -Infinity;
    for (let k = 0; k < kernels; k++) if (row[k]! > max) max = row[k]!;
    if (max === -Infinity) {
      out[j] = -Infinity;
      continue;
    }
    // Terms 40 nats below the largest add < 1e-17 each: most kernels, which
    // sit many bandwidths away, cost a comparison instead of an exp.
    const floor = max - 40;
    let sum = 0;
    for (let k = 0; k < kernels; k++) {
      const v = row[k]!;
      if (v > floor) sum += Math.exp(v - max);
    }
    out[j] = max + Math.log(sum);
  }
  return out;
}

/** log(mass of the bin of grid value v) − log Z, per kernel; computed once per distinct (μ, σ). */
function binTerms(dim: NumericKernels, v: number): Float64Array {
  const pairs = dim.pairs!;
  const pairOf = dim.pairOf!;
  const [a, b] = binOf(dim.space, v);
  const byPair = new Float64Array(pairs.length);
  for (let i = 0; i < pairs.length; i++) {
    const k = pairs[i]!;
    const mu = dim.mu[k]!;
    const s = dim.sigma[k]!;
    byPair[i] = logGaussMass((a - mu) / s, (b - mu) / s);
  }
  const terms = new Float64Array(pairOf.length);
  for (let k = 0; k < pairOf.length; k++) terms[k] = byPair[pairOf[k]!]! - dim.logZ[k]!;
  return terms;
}

// ---------------------------------------------------------------------------
// The standard normal in log space: kernels sit up to ~100 bandwidths from the
// far end of the range, where plain Φ differences underflow to 0.

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

// Chebyshev coefficients of erfc on [0, ∞) (Numerical Recipes, 3rd ed., §6.2.2).
const ERFC_COF = [
  -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3, -9.46595344482036e-4, 3.66839497852761e-4,
  4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6, 1.30365583558e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9,
  5.059343495e-9, -9.91364156e-10, -2.27365122e-10, 9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13,
  3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
];

/** log erfc(z) for z ≥ 0; the fit is already of the form t·exp(−z² + …), so it never underflows. */
function logErfcNonNeg(z: number): number {
  const t = 2 / (2 + z);
  const ty = 4 * t - 2;
  let d = 0;
  let dd = 0;
  for (let j = ERFC_COF.length - 1; j > 0; j--) {
    const tmp = d;
    d = ty * d - dd + ERFC_COF[j]!;
    dd = tmp;
  }
  return Math.log(t) - z * z + 0.5 * (ERFC_COF[0]! + ty * d) - dd;
}

export function erfc(x: number): number {
  return x >= 0 ? Math.exp(logErfcNonNeg(x)) : 2 - Math.exp(logErfcNonNeg(-x));
}

/** Φ(x). */
export function ndtr(x: number): number {
  return 0.5 * erfc(-x * Math.SQRT1_2);
}

/** log Φ(x), accurate far into the lower tail. */
export function logNdtr(x: number): number {
  return x <= 0 ? logErfcNonNeg(-x * Math.SQRT1_2) - Math.LN2 : Math.log1p(-0.5 * Math.exp(logErfcNonNeg(x * Math.SQRT1_2)));
}

/** log(Φ(b) − Φ(a)) for a ≤ b, computed on the side where it keeps its precision (as Optuna's _truncnorm). */
export function logGaussMass(a: number, b: number): number {
  if (!(a < b)) return -Infinity;
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b));
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

/** log(e^p − e^q), p ≥ q. */
function logDiff(p: number, q: number): number {
  return p + Math.log1p(-Math.exp(q - p));
}

function logAddExp(p: number, q: number): number {
  const max = Math.max(p, q);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(Math.exp(p - max) + Math.exp(q - max));
}

/** Φ⁻¹(p) for 0 < p ≤ ½: Acklam's rational approximation, then one Halley step on erfc. */
function ndtriLower(p: number): number {
  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((-7.784894002430293e-3 * q - 3.223964580411365e-1) * q - 2.400758277161838) * q - 2.549732539343734) * q + 4.374664141464968) * q + 2.938163982698783) /
      ((((7.784695709041462e-3 * q + 3.224671290700398e-1) * q + 2.445134137142996) * q + 3.754408661907416) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((-3.969683028665376e1 * r + 2.209460984245205e2) * r - 2.759285104469687e2) * r + 1.38357751867269e2) * r - 3.066479806614716e1) * r + 2.506628277459239) * q) /
      (((((-5.447609879822406e1 * r + 1.615858368580409e2) * r - 1.556989798598866e2) * r + 6.680131188771972e1) * r - 1.328068155288572e1) * r + 1);
  }
  const e = ndtr(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}

/** x with log Φ(x) = y (y ≤ 0). */
export function ndtriExp(y: number): number {
  if (y >= 0) return Infinity;
  if (y === -Infinity) return -Infinity;
  // Above ½, work with the upper tail 1 − p = −expm1(y), which keeps its digits.
  if (y > -Math.LN2) return -ndtriLower(-Math.expm1(y));
  if (y > -700) return ndtriLower(Math.exp(y));
  // Beyond double range for p itself: Newton on log Φ, from the asymptote.
  let x = -Math.sqrt(-2 * y);
  for (let i = 0; i < 100; i++) {
    const f = logNdtr(x) - y;
    const slope = Math.exp(-0.5 * x * x - LOG_SQRT_2PI - logNdtr(x));
    const next = x - f / slope;
    if (Math.abs(next - x) <= 1e-14 * Math.abs(x)) return next;
    x = next;
  }
  return x;
}

/** The q-quantile of the standard normal truncated to [a, b] (Optuna's _truncnorm.ppf). */
export function truncnormPpf(q: number, a: number, b: number): number {
  if (!(a < b)) return a;
  const logMass = logGaussMass(a, b);
  const x = a < 0 ? ndtriExp(logAddExp(logNdtr(a), Math.log(q) + logMass)) : -ndtriExp(logAddExp(logNdtr(-b), Math.log1p(-q) + logMass));
  return Math.min(b, Math.max(a, x));
}
