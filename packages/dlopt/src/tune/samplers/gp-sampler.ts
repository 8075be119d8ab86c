import { DloptError } from '../../errors.js';
import type { Random } from '../../util/random.js';
import type { Distribution, ParamValue } from '../distributions.js';
import type { FrozenTrial } from '../trial-state.js';
import type { Sampler, SamplingContext } from './sampler.js';
import { checkSeed, containsValue, fromInternal, paramSpace, sampleUniform, singleValue, toInternal, type ParamSpace } from './space.js';

/**
 * Bayesian optimization with a Gaussian process, as Optuna's GPSampler:
 * parameters mapped to [0, 1] (categoricals kept as indices with a Hamming
 * kernel dimension), a Matérn-5/2 ARD kernel fitted by maximum a posteriori
 * (marginal likelihood + Optuna's weak priors), log expected improvement
 * maximized by candidates + projected L-BFGS + discrete coordinate search.
 *
 * Everything here is written out in Float64Array (no dependency): the O(n³)
 * parts are one Cholesky and one inverse per likelihood evaluation, fine up
 * to a few hundred trials.
 */

// ───────────────────────────── special functions ─────────────────────────────

const SQRT_PI = Math.sqrt(Math.PI);
const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
const HALF_LOG_PI_2 = 0.5 * Math.log(Math.PI / 2);

/**
 * erf for |x| ≲ 2 by the all-positive series erf(x) = 2/√π·e^{−x²}·Σ (2x²)ⁿ·x/(2n+1)!!,
 * which keeps full relative precision (the alternating Taylor series loses
 * digits to cancellation).
 */
function erfSeries(x: number): number {
  const x2 = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return (2 / SQRT_PI) * Math.exp(-x * x) * sum;
}

/**
 * The scaled complementary error function e^{x²}·erfc(x), finite where erfc
 * underflows: what makes logEI exact in the far tail. x ≥ 1.5: Laplace's
 * continued fraction evaluated backwards from a depth that reaches 1e-16
 * (checked against mpmath); below, through the series.
 */
export function erfcx(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return x < -26.7 ? Infinity : 2 * Math.exp(x * x) - erfcx(-x);
  if (x < 1.5) return Math.exp(x * x) * (1 - erfSeries(x));
  if (x > 1e8) return 1 / (SQRT_PI * x);
  const depth = Math.ceil(10 + 200 / (x * x));
  let f = x;
  for (let n = depth; n >= 1; n--) f = x + n / 2 / f;
  return 1 / (SQRT_PI * f);
}

/** erfc with relative precision in both tails (it is 2 − a tiny number for x ≪ 0). */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 0.5) return 1 - erfSeries(x);
  return x > 27.3 ? 0 : erfcx(x) * Math.exp(-x * x);
}

/** Standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z * SQRT1_2);
}

/** log(1 − eˣ) for x < 0, accurate near 0 and far below (Mächler's switch). */
function log1mexp(x: number): number {
  return x > -Math.LN2 ? Math.log(-Math.expm1(x)) : Math.log1p(-Math.exp(x));
}

/**
 * log h(z) with h(z) = φ(z) + z·Φ(z) = E[max(0, N(0,1) + z)]: the standard
 * log expected improvement, in the three regimes of Ament et al. 2023
 * ("Unexpected improvements to expected improvement", eq. 9). For z ≤ −1, h
 * is rewritten through erfcx so the e^{−z²/2} factor stays in the log and
 * nothing underflows; past −1000 the asymptotic series φ(z)/z²·(1 − 3/z² +
 * 15/z⁴) is exact to double precision and avoids the 1 − |z|·erfcx·√(π/2)
 * cancellation, whose relative error grows like z²·ε.
 */
export function logH(z: number): number {
  if (z > -1) {
    const cdf = normalCdf(z);
    return Math.log(Math.exp(-0.5 * z * z) * INV_SQRT_2PI + z * cdf);
  }
  if (z > -1000) {
    return -0.5 * z * z - HALF_LOG_2PI + log1mexp(Math.log(erfcx(-z * SQRT1_2) * -z) + HALF_LOG_PI_2);
  }
  const iz2 = 1 / (z * z);
  return -0.5 * z * z - HALF_LOG_2PI - Math.log(z * z) + Math.log1p(iz2 * (-3 + 15 * iz2));
}

/** d log h / dz = Φ(z)/h(z), in the same regimes as logH (finite everywhere). */
export function dLogH(z: number): number {
  if (z > -1) {
    const cdf = normalCdf(z);
    return cdf / (Math.exp(-0.5 * z * z) * INV_SQRT_2PI + z * cdf);
  }
  if (z > -1000) {
    // Φ/φ = erfcx(−z/√2)·√(π/2) = q; h/φ = 1 + z·q.
    const q = erfcx(-z * SQRT1_2) * Math.sqrt(Math.PI / 2);
    return q / (1 + z * q);
  }
  const iz2 = 1 / (z * z);
  return (-z * (1 - iz2 + 3 * iz2 * iz2)) / (1 - 3 * iz2 + 15 * iz2 * iz2);
}

/** log EI for maximization of N(mean, variance) over `best`. */
export function logEI(mean: number, variance: number, best: number): number {
  const sigma = Math.sqrt(variance);
  return logH((mean - best) / sigma) + Math.log(sigma);
}

// ───────────────────────────── kernel ─────────────────────────────

/** Matérn-5/2 correlation as a function of the squared scaled distance r²: (1 + √5r + 5r²/3)·e^{−√5r}. */
export function matern52(r2: number): number {
  const s = Math.sqrt(5 * r2);
  return (1 + s + (5 / 3) * r2) * Math.exp(-s);
}

/** d matern52 / d(r²) = −5/6·(1 + √5r)·e^{−√5r}: smooth at r = 0, unlike the derivative in r. */
export function matern52Deriv(r2: number): number {
  const s = Math.sqrt(5 * r2);
  return (-5 / 6) * (1 + s) * Math.exp(-s);
}

// ───────────────────────────── dense linear algebra ─────────────────────────────
// Square matrices are row-major Float64Array of n·n; only the lower triangle
// of a Cholesky factor is meaningful.

/** Cholesky factor L (A = L·Lᵀ) of a symmetric matrix, or null when A is not (numerically) positive definite. */
export function cholesky(a: Float64Array, n: number, out: Float64Array = new Float64Array(n * n)): Float64Array | null {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let s = a[rj + j]!;
    for (let k = 0; k < j; k++) s -= out[rj + k]! * out[rj + k]!;
    if (!(s > 0)) return null;
    const d = Math.sqrt(s);
    out[rj + j] = d;
    for (let k = j + 1; k < n; k++) out[rj + k] = 0;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = a[ri + j]!;
      for (let k = 0; k < j; k++) t -= out[ri + k]! * out[rj + k]!;
      out[ri + j] = t / d;
    }
  }
  return out;
}

/** Solves L·x = b (forward substitution). */
export function solveLower(l: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[ri + k]! * out[k]!;
    out[i] = s / l[ri + i]!;
  }
  return out;
}

/** Solves Lᵀ·x = b (back substitution, walking L by rows so memory is read in order). */
export function solveLowerTransposed(l: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) out[i] = b[i]!;
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    const xi = out[i]! / l[ri + i]!;
    out[i] = xi;
    for (let k = 0; k < i; k++) out[k] = out[k]! - l[ri + k]! * xi;
  }
  return out;
}

/**
 * A⁻¹ from A's Cholesky factor, as U·Uᵀ with U = L⁻ᵀ (upper triangular).
 * Both passes are written as dot products of contiguous rows (U's row j
 * holds column j of L⁻¹), which keeps the sums in registers: about twice as
 * fast in V8 as the textbook column updates. n³/3 flops in all.
 */
export function choleskyInverse(l: Float64Array, n: number, out: Float64Array = new Float64Array(n * n), work: Float64Array = new Float64Array(n * n)): Float64Array {
  const u = work;
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    for (let i = 0; i < j; i++) u[rj + i] = 0;
    u[rj + j] = 1 / l[rj + j]!;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let t = 0;
      for (let k = j; k < i; k++) t += l[ri + k]! * u[rj + k]!;
      u[rj + i] = -t / l[ri + i]!;
    }
  }
  for (let a = 0; a < n; a++) {
    const ra = a * n;
    for (let b = a; b < n; b++) {
      const rb = b * n;
      let t = 0;
      for (let k = b; k < n; k++) t += u[ra + k]! * u[rb + k]!;
      out[ra + b] = t;
      out[rb + a] = t;
    }
  }
  return out;
}

// ───────────────────────────── box-constrained L-BFGS ─────────────────────────────

export interface MinimizeOptions {
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
  maxIterations?: number;
  /** Stop when the projected gradient's largest component is below this. */
  pgtol?: number;
  /** Stop when an iteration lowers f by less than ftol·max(|f|, 1). */
  ftol?: number;
  memory?: number;
}

export interface MinimizeResult {
  x: Float64Array;
  f: number;
  iterations: number;
  evaluations: number;
}

/**
 * Minimizes f over a box with a projected L-BFGS (a light L-BFGS-B): the
 * quasi-Newton direction is computed on the variables not held at a bound by
 * their gradient, and a backtracking Armijo search follows the projected
 * path. Good enough for the smooth, low-dimensional problems here (kernel
 * hyperparameters, acquisition maximization), where a full Cauchy-point
 * L-BFGS-B would be far more code for little gain. `fg` writes the gradient
 * into its second argument and returns f (non-finite f means "outside the
 * domain" and makes the line search back off).
 */
export function minimizeBox(
  fg: (x: Float64Array, grad: Float64Array) => number,
  x0: ArrayLike<number>,
  options: MinimizeOptions,
): MinimizeResult {
  const n = x0.length;
  const { lower, upper } = options;
  const maxIterations = options.maxIterations ?? 200;
  const pgtol = options.pgtol ?? 1e-5;
  const ftol = options.ftol ?? 2.2e-9;
  const m = options.memory ?? 10;
  const clamp = (v: number, i: number): number => Math.min(upper[i]!, Math.max(lower[i]!, v));

  let x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = clamp(x0[i]!, i);
  let g = new Float64Array(n);
  let f = fg(x, g);
  let evaluations = 1;
  if (!Number.isFinite(f)) return { x, f, iterations: 0, evaluations };

  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  const free = new Uint8Array(n);
  const d = new Float64Array(n);
  const alpha = new Float64Array(m);
  let xn = new Float64Array(n);
  let gn = new Float64Array(n);
  let iterations = 0;

  const dotFree = (a: Float64Array, b: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < n; i++) if (free[i]) s += a[i]! * b[i]!;
    return s;
  };

  for (; iterations < maxIterations; iterations++) {
    let pg = 0;
    for (let i = 0; i < n; i++) {
      pg = Math.max(pg, Math.abs(clamp(x[i]! - g[i]!, i) - x[i]!));
      free[i] = (x[i]! <= lower[i]! && g[i]! > 0) || (x[i]! >= upper[i]! && g[i]! < 0) ? 0 : 1;
    }
    if (pg <= pgtol) break;

    // Two-loop recursion restricted to the free variables.
    for (let i = 0; i < n; i++) d[i] = free[i] ? g[i]! : 0;
    const rhos: number[] = [];
    for (let k = ss.length - 1; k >= 0; k--) {
      const sy = dotFree(ss[k]!, ys[k]!);
      const rho = sy > 0 ? 1 / sy : 0;
      rhos[k] = rho;
      const a = rho * dotFree(ss[k]!, d);
      alpha[k] = a;
      for (let i = 0; i < n; i++) if (free[i]) d[i] = d[i]! - a * ys[k]![i]!;
    }
    if (ss.length > 0) {
      const last = ss.length - 1;
      const yy = dotFree(ys[last]!, ys[last]!);
      const gamma = yy > 0 ? dotFree(ss[last]!, ys[last]!) / yy : 1;
      for (let i = 0; i < n; i++) d[i] = d[i]! * (gamma > 0 ? gamma : 1);
    }
    for (let k = 0; k < ss.length; k++) {
      const b = rhos[k]! * dotFree(ys[k]!, d);
      for (let i = 0; i < n; i++) if (free[i]) d[i] = d[i]! + (alpha[k]! - b) * ss[k]![i]!;
    }
    for (let i = 0; i < n; i++) d[i] = free[i] ? -d[i]! : 0;
    let slope = dotFree(d, g);
    if (!(slope < 0)) {
      ss.length = 0;
      ys.length = 0;
      for (let i = 0; i < n; i++) d[i] = free[i] ? -g[i]! : 0;
      slope = dotFree(d, g);
    }

    // First step of steepest descent is unknown in scale: cap its largest move at 1.
    let t = 1;
    if (ss.length === 0) {
      let dmax = 0;
      for (let i = 0; i < n; i++) dmax = Math.max(dmax, Math.abs(d[i]!));
      if (dmax > 1) t = 1 / dmax;
    }
    let fn = NaN;
    let accepted = false;
    for (let ls = 0; ls < 40; ls++) {
      let moved = false;
      let decrease = 0;
      for (let i = 0; i < n; i++) {
        xn[i] = clamp(x[i]! + t * d[i]!, i);
        if (xn[i] !== x[i]) moved = true;
        decrease += g[i]! * (xn[i]! - x[i]!);
      }
      if (!moved) break;
      fn = fg(xn, gn);
      evaluations++;
      if (Number.isFinite(fn) && fn <= f + 1e-4 * Math.min(0, decrease) && fn <= f) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) {
      if (ss.length === 0) break;
      ss.length = 0;
      ys.length = 0;
      continue;
    }

    const s = new Float64Array(n);
    const y = new Float64Array(n);
    let sy = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      s[i] = xn[i]! - x[i]!;
      y[i] = gn[i]! - g[i]!;
      sy += s[i]! * y[i]!;
      yy += y[i]! * y[i]!;
    }
    // Skip pairs without positive curvature: they would make the inverse Hessian indefinite.
    if (sy > 1e-10 * yy) {
      ss.push(s);
      ys.push(y);
      if (ss.length > m) {
        ss.shift();
        ys.shift();
      }
    }
    const fPrev = f;
    [x, xn] = [xn, x];
    [g, gn] = [gn, g];
    f = fn;
    if (fPrev - f <= ftol * Math.max(Math.abs(fPrev), Math.abs(f), 1)) {
      iterations++;
      break;
    }
  }
  return { x, f, iterations, evaluations };
}

// ───────────────────────────── Gaussian process ─────────────────────────────

/** Kernel hyperparameters on their natural scale. */
export interface KernelParams {
  /** 1/ℓ² per dimension (ARD). */
  inverseSquaredLengthscales: Float64Array;
  /** Signal variance. */
  kernelScale: number;
  /** Observation noise variance (of the standardized objective). */
  noiseVar: number;
}

/** Training data: n points of d dimensions (row-major), which dimensions are categorical, and the (standardized) targets. */
export interface GPData {
  x: Float64Array;
  n: number;
  d: number;
  categorical: Uint8Array;
  y: Float64Array;
}

/** Optuna's DEFAULT_MINIMUM_NOISE_VAR: keeps K well conditioned even for a deterministic objective. */
export const MINIMUM_NOISE_VAR = 1e-6;

/** Squared distance of two points in one dimension: Hamming (0/1) for a categorical index. */
function dimSqDist(a: number, b: number, categorical: number): number {
  if (categorical) return a === b ? 0 : 1;
  const t = a - b;
  return t * t;
}

/** Per-pair, per-dimension squared distances of the training points (upper triangle), computed once per fit. */
function pairDistances(data: GPData): Float64Array {
  const { x, n, d, categorical } = data;
  const out: Float64Array = new Float64Array(((n * (n - 1)) / 2) * d);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      for (let k = 0; k < d; k++) out[p++] = dimSqDist(x[i * d + k]!, x[j * d + k]!, categorical[k]!);
    }
  }
  return out;
}

/** Reusable n×n buffers for the likelihood: a fit evaluates it a few hundred times. */
interface LikelihoodWork {
  k: Float64Array;
  l: Float64Array;
  kinv: Float64Array;
  linv: Float64Array;
  alpha: Float64Array;
  tmp: Float64Array;
  r2: Float64Array;
}

function likelihoodWork(n: number): LikelihoodWork {
  return {
    k: new Float64Array(n * n),
    l: new Float64Array(n * n),
    kinv: new Float64Array(n * n),
    linv: new Float64Array(n * n),
    alpha: new Float64Array(n),
    tmp: new Float64Array(n),
    r2: new Float64Array((n * (n - 1)) / 2),
  };
}

/**
 * The raw (optimizer) parameters: log(1/ℓ²) per dimension, log(kernel
 * scale), log(noise − minimum noise). Logs keep them positive without
 * constraints; the noise floor keeps the likelihood away from the
 * interpolating degenerate optimum.
 */
export function kernelParamsFromRaw(raw: ArrayLike<number>, d: number, deterministic: boolean): KernelParams {
  const inverseSquaredLengthscales = new Float64Array(d);
  for (let k = 0; k < d; k++) inverseSquaredLengthscales[k] = Math.exp(raw[k]!);
  return {
    inverseSquaredLengthscales,
    kernelScale: Math.exp(raw[d]!),
    noiseVar: deterministic ? MINIMUM_NOISE_VAR : MINIMUM_NOISE_VAR + Math.exp(raw[d + 1]!),
  };
}

/**
 * Optuna's default log prior (up to constants): −(0.1/λ + 0.1·λ) per inverse
 * squared lengthscale λ (mode at ℓ = 1, i.e. the unit cube's width), Gamma(2, 1)
 * on the kernel scale and Gamma(1.1, 30) on the noise variance (favours
 * small noise). Gradient w.r.t. the raw (log) parameters is added into `grad`.
 */
function logPrior(p: KernelParams, rawNoise: number, deterministic: boolean, grad?: Float64Array): number {
  const d = p.inverseSquaredLengthscales.length;
  let lp = 0;
  for (let k = 0; k < d; k++) {
    const lam = p.inverseSquaredLengthscales[k]!;
    lp -= 0.1 / lam + 0.1 * lam;
    if (grad) grad[k] = grad[k]! + 0.1 / lam - 0.1 * lam;
  }
  const s = p.kernelScale;
  lp += Math.log(s) - s;
  if (grad) grad[d] = grad[d]! + 1 - s;
  const nv = p.noiseVar;
  lp += 0.1 * Math.log(nv) - 30 * nv;
  if (grad && !deterministic) grad[d + 1] = grad[d + 1]! + (0.1 / nv - 30) * Math.exp(rawNoise);
  return lp;
}

/**
 * Log marginal likelihood log p(y | X, θ) = −½yᵀK⁻¹y − ½log|K| − n/2·log 2π,
 * K = s·M(X; λ) + σ²I. With `grad`, also its gradient w.r.t. the raw
 * parameters: ∂/∂θ = ½·tr((ααᵀ − K⁻¹)·∂K/∂θ), α = K⁻¹y, which needs K⁻¹
 * explicitly (n³/3 on top of the Cholesky). Returns −Infinity when K is not
 * positive definite.
 */
export function logMarginalLikelihood(
  data: GPData,
  raw: ArrayLike<number>,
  deterministic: boolean,
  grad?: Float64Array,
  cache?: { distances: Float64Array; work: LikelihoodWork },
): number {
  const { n, d, y } = data;
  const distances = cache?.distances ?? pairDistances(data);
  const w = cache?.work ?? likelihoodWork(n);
  const p = kernelParamsFromRaw(raw, d, deterministic);
  const lam = p.inverseSquaredLengthscales;
  const s = p.kernelScale;
  const { k, r2 } = w;

  let q = 0;
  for (let i = 0; i < n; i++) {
    k[i * n + i] = s + p.noiseVar;
    for (let j = i + 1; j < n; j++) {
      let t = 0;
      const base = q * d;
      for (let c = 0; c < d; c++) t += lam[c]! * distances[base + c]!;
      r2[q++] = t;
      const v = s * matern52(t);
      k[i * n + j] = v;
      k[j * n + i] = v;
    }
  }
  const l = cholesky(k, n, w.l);
  if (!l) return -Infinity;
  const u = solveLower(l, n, y, w.tmp);
  let quad = 0;
  for (let i = 0; i < n; i++) quad += u[i]! * u[i]!;
  let logDet = 0;
  for (let i = 0; i < n; i++) logDet += Math.log(l[i * n + i]!);
  const lml = -0.5 * quad - logDet - 0.5 * n * Math.log(2 * Math.PI);
  if (!grad) return lml;

  const alpha = solveLowerTransposed(l, n, u, w.alpha);
  const kinv = choleskyInverse(l, n, w.kinv, w.linv);
  grad.fill(0);
  // Off-diagonal pairs count twice in the trace, which cancels the ½.
  let gScale = 0;
  q = 0;
  for (let i = 0; i < n; i++) {
    const ai = alpha[i]!;
    const wii = ai * ai - kinv[i * n + i]!;
    gScale += 0.5 * wii * s;
    if (!deterministic) grad[d + 1] = grad[d + 1]! + 0.5 * wii;
    for (let j = i + 1; j < n; j++) {
      const wij = ai * alpha[j]! - kinv[i * n + j]!;
      const t = r2[q]!;
      gScale += wij * s * matern52(t);
      const dm = wij * s * matern52Deriv(t);
      const base = q * d;
      for (let c = 0; c < d; c++) grad[c] = grad[c]! + dm * distances[base + c]!;
      q++;
    }
  }
  for (let c = 0; c < d; c++) grad[c] = grad[c]! * lam[c]!;
  grad[d] = gScale;
  if (!deterministic) grad[d + 1] = grad[d + 1]! * Math.exp(raw[d + 1]!);
  return lml;
}

/** −(log marginal likelihood + log prior), the quantity the fit minimizes, and its gradient. */
export function negLogPosterior(
  data: GPData,
  raw: ArrayLike<number>,
  deterministic: boolean,
  grad?: Float64Array,
  cache?: { distances: Float64Array; work: LikelihoodWork },
): number {
  const lml = logMarginalLikelihood(data, raw, deterministic, grad, cache);
  if (!Number.isFinite(lml)) return Infinity;
  const p = kernelParamsFromRaw(raw, data.d, deterministic);
  const lp = logPrior(p, raw[data.d + 1]!, deterministic, grad);
  if (grad) for (let i = 0; i < grad.length; i++) grad[i] = -grad[i]!;
  return -(lml + lp);
}

/**
 * Maximum a posteriori kernel parameters, from Optuna's default start (all
 * ones) and `restarts` random starts drawn from `rng` (default: 2 up to 50
 * points, none above); the best end point wins. No warm start from earlier
 * fits (Optuna caches the last one): the sampler is stateless, so any worker
 * fits the same model from the same trials.
 */
export function fitKernelParams(data: GPData, options: { deterministic: boolean; rng: Random; restarts?: number }): KernelParams {
  const { d } = data;
  // Few points leave the likelihood flat or multimodal, and restarts are cheap then; with more
  // points the default start reached the same optimum as the restarts in our benchmarks, so the
  // O(n³) fits are not repeated.
  const restarts = options.restarts ?? (data.n <= 50 ? 2 : 0);
  const dim = d + 2;
  const cache = { distances: pairDistances(data), work: likelihoodWork(data.n) };
  const lower = new Float64Array(dim);
  const upper = new Float64Array(dim);
  for (let c = 0; c < d; c++) {
    lower[c] = Math.log(1e-6);
    upper[c] = Math.log(1e6);
  }
  lower[d] = Math.log(1e-4);
  upper[d] = Math.log(1e4);
  // A fixed noise keeps its raw coordinate at 0 with zero gradient.
  lower[d + 1] = options.deterministic ? 0 : -30;
  upper[d + 1] = options.deterministic ? 0 : Math.log(10);

  const fg = (raw: Float64Array, grad: Float64Array): number => negLogPosterior(data, raw, options.deterministic, grad, cache);
  let best: MinimizeResult | undefined;
  for (let r = 0; r <= restarts; r++) {
    const x0 = new Float64Array(dim);
    if (r > 0) {
      for (let c = 0; c < d; c++) x0[c] = Math.log(10) * options.rng.uniform(-1, 2);
      x0[d] = options.rng.uniform(-1, 1);
      x0[d + 1] = options.deterministic ? 0 : Math.log(10) * options.rng.uniform(-5, -1);
    } else if (!options.deterministic) {
      // Optuna starts from noise 1 (raw = log(1 − minimum)).
      x0[d + 1] = Math.log(1 - MINIMUM_NOISE_VAR);
    }
    const result = minimizeBox(fg, x0, { lower, upper, maxIterations: 200, pgtol: 1e-2 });
    if (Number.isFinite(result.f) && (best === undefined || result.f < best.f)) best = result;
  }
  const raw = best?.x ?? new Float64Array(dim);
  return kernelParamsFromRaw(raw, d, options.deterministic);
}

/** The posterior of the latent function at one point. */
export interface Posterior {
  mean: number;
  variance: number;
}

/** A GP conditioned on data with fixed kernel parameters: posterior mean, variance and logEI (with gradients). */
export class GaussianProcess {
  readonly n: number;
  readonly d: number;
  private readonly x: Float64Array;
  private readonly categorical: Uint8Array;
  private readonly lam: Float64Array;
  private readonly scale: number;
  private readonly l: Float64Array;
  private readonly alpha: Float64Array;
  private readonly kv: Float64Array;
  private readonly v: Float64Array;
  private readonly w: Float64Array;
  private readonly dk: Float64Array;

  constructor(data: GPData, readonly params: KernelParams) {
    const { n, d, x } = data;
    this.n = n;
    this.d = d;
    this.x = x;
    this.categorical = data.categorical;
    this.lam = params.inverseSquaredLengthscales;
    this.scale = params.kernelScale;
    const k = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      k[i * n + i] = this.scale + params.noiseVar;
      for (let j = 0; j < i; j++) {
        const v = this.scale * matern52(this.sqDist(x, i * d, x, j * d));
        k[i * n + j] = v;
        k[j * n + i] = v;
      }
    }
    // Pending points can sit on top of observed ones; grow a jitter until the factor exists.
    let l = cholesky(k, n);
    for (let jitter = 1e-10 * this.scale; !l && jitter < this.scale; jitter *= 10) {
      const kj = k.slice();
      for (let i = 0; i < n; i++) kj[i * n + i] = kj[i * n + i]! + jitter;
      l = cholesky(kj, n);
    }
    if (!l) throw new Error('GaussianProcess: covariance matrix is not positive definite');
    this.l = l;
    this.alpha = solveLowerTransposed(l, n, solveLower(l, n, data.y));
    this.kv = new Float64Array(n);
    this.v = new Float64Array(n);
    this.w = new Float64Array(n);
    this.dk = new Float64Array(n);
  }

  private sqDist(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): number {
    let t = 0;
    for (let c = 0; c < this.d; c++) t += this.lam[c]! * dimSqDist(a[ao + c]!, b[bo + c]!, this.categorical[c]!);
    return t;
  }

  /** Posterior of the latent f at `point` (variance without observation noise, clamped at 0). */
  posterior(point: ArrayLike<number>): Posterior {
    const { n, d, kv } = this;
    let mean = 0;
    for (let i = 0; i < n; i++) {
      kv[i] = this.scale * matern52(this.sqDist(this.x, i * d, point, 0));
      mean += kv[i]! * this.alpha[i]!;
    }
    const v = solveLower(this.l, n, kv, this.v);
    let vv = 0;
    for (let i = 0; i < n; i++) vv += v[i]! * v[i]!;
    return { mean, variance: Math.max(this.scale - vv, 0) };
  }

  /**
   * logEI at `point` over `best`; with `grad`, its gradient w.r.t. the point's
   * non-categorical coordinates (∂k/∂xc = s·m'(r²)·2λc·(xc − Xic); ∂var = −2·(K⁻¹k)·∂k).
   */
  logEI(point: ArrayLike<number>, best: number, grad?: Float64Array): number {
    const { n, d, kv, dk } = this;
    let mean = 0;
    for (let i = 0; i < n; i++) {
      const r2 = this.sqDist(this.x, i * d, point, 0);
      kv[i] = this.scale * matern52(r2);
      if (grad) dk[i] = this.scale * matern52Deriv(r2);
      mean += kv[i]! * this.alpha[i]!;
    }
    const v = solveLower(this.l, n, kv, this.v);
    let vv = 0;
    for (let i = 0; i < n; i++) vv += v[i]! * v[i]!;
    const rawVar = this.scale - vv;
    // Optuna's stabilizing noise: σ never reaches 0, so z and its gradient stay finite.
    const variance = Math.max(rawVar, 0) + 1e-12;
    const sigma = Math.sqrt(variance);
    const z = (mean - best) / sigma;
    const value = logH(z) + Math.log(sigma);
    if (!grad) return value;

    const w = solveLowerTransposed(this.l, n, v, this.w);
    const r = dLogH(z);
    const clamped = rawVar <= 0;
    for (let c = 0; c < d; c++) {
      if (this.categorical[c]) {
        grad[c] = 0;
        continue;
      }
      const pc = point[c]!;
      let dMean = 0;
      let dVar = 0;
      for (let i = 0; i < n; i++) {
        const dki = dk[i]! * 2 * this.lam[c]! * (pc - this.x[i * d + c]!);
        dMean += this.alpha[i]! * dki;
        dVar -= 2 * w[i]! * dki;
      }
      if (clamped) dVar = 0;
      const dSigma = dVar / (2 * sigma);
      grad[c] = r * (dMean / sigma - (z * dSigma) / sigma) + dSigma / sigma;
    }
    return value;
  }
}

// ───────────────────────────── acquisition optimization ─────────────────────────────

export interface AcquisitionOptions {
  rng: Random;
  /** Points evaluated before local search (Optuna: 2048). */
  candidates?: number;
  /** Local searches: from the best candidate, the given warm starts and roulette picks (Optuna: 10). */
  localSearches?: number;
  /** Unit-space points to start a local search from as well (e.g. the best trial so far). */
  warmStarts?: readonly Float64Array[];
}

/** Exhaustive search over a discrete dimension up to this many values (Optuna's limit), a sparse scan above. */
const MAX_EXHAUSTIVE = 16;

/**
 * Maximizes logEI over the unit space: Latin-hypercube candidates (snapped
 * to the grid of discrete dimensions), then local searches that alternate a
 * projected L-BFGS over the continuous dimensions, in coordinates scaled by
 * the lengthscales (Optuna's preconditioning: the acquisition is isotropic
 * in x/ℓ), with a coordinate search over each discrete dimension.
 */
export function optimizeAcquisition(gp: GaussianProcess, best: number, space: UnitSpace, options: AcquisitionOptions): { point: Float64Array; value: number } {
  const { rng } = options;
  const d = space.dims;
  const nCandidates = options.candidates ?? 2048;
  const nLocal = options.localSearches ?? 10;

  const cand = new Float64Array(nCandidates * d);
  for (let c = 0; c < d; c++) {
    const perm = rng.permutation(nCandidates);
    for (let i = 0; i < nCandidates; i++) cand[i * d + c] = space.snap(c, (perm[i]! + rng.next()) / nCandidates);
  }
  const values = new Float64Array(nCandidates);
  let bestIndex = 0;
  for (let i = 0; i < nCandidates; i++) {
    values[i] = gp.logEI(cand.subarray(i * d, (i + 1) * d), best);
    if (values[i]! > values[bestIndex]!) bestIndex = i;
  }

  const starts: Float64Array[] = [cand.slice(bestIndex * d, (bestIndex + 1) * d)];
  for (const warm of options.warmStarts ?? []) if (starts.length < nLocal) starts.push(Float64Array.from(warm));
  // Roulette over the rest, weights e^{logEI − max} (Optuna): promising basins, not only the top cluster.
  const weights = new Float64Array(nCandidates);
  let total = 0;
  for (let i = 0; i < nCandidates; i++) {
    weights[i] = i === bestIndex ? 0 : Math.exp(values[i]! - values[bestIndex]!);
    total += weights[i]!;
  }
  while (starts.length < nLocal && total > 1e-300) {
    let u = rng.next() * total;
    let pick = -1;
    for (let i = 0; i < nCandidates; i++) {
      if (weights[i]! === 0) continue;
      pick = i;
      u -= weights[i]!;
      if (u <= 0) break;
    }
    if (pick < 0) break;
    total -= weights[pick]!;
    weights[pick] = 0;
    starts.push(cand.slice(pick * d, (pick + 1) * d));
  }

  let bestPoint = starts[0]!;
  let bestValue = values[bestIndex]!;
  for (const start of starts) {
    const result = localSearch(gp, best, space, start);
    if (result.value > bestValue) {
      bestValue = result.value;
      bestPoint = result.point;
    }
  }
  return { point: bestPoint, value: bestValue };
}

function localSearch(gp: GaussianProcess, best: number, space: UnitSpace, start: Float64Array): { point: Float64Array; value: number } {
  const d = space.dims;
  const point = Float64Array.from(start);
  let value = gp.logEI(point, best);
  const continuous: number[] = [];
  const discrete: number[] = [];
  for (let c = 0; c < d; c++) {
    if (space.kind(c) === 'continuous') continuous.push(c);
    else discrete.push(c);
  }
  const lengthscales = continuous.map((c) => 1 / Math.sqrt(gp.params.inverseSquaredLengthscales[c]!));

  // Alternate the blocks until a full cycle changes nothing (Optuna's local_search_mixed).
  const CONTINUOUS = -1;
  let lastChanged: number | undefined;
  for (let round = 0; round < 20; round++) {
    if (lastChanged === CONTINUOUS) break;
    if (continuous.length > 0) {
      const improved = gradientAscent(gp, best, point, value, continuous, lengthscales);
      if (improved > value) {
        value = improved;
        lastChanged = CONTINUOUS;
      }
    }
    for (const c of discrete) {
      if (lastChanged === c) return { point, value };
      const improved = discreteSearch(gp, best, space, point, value, c);
      if (improved > value) {
        value = improved;
        lastChanged = c;
      }
    }
    if (lastChanged === undefined) break;
  }
  return { point, value };
}

/** Projected L-BFGS over the continuous coordinates (in x/ℓ); updates `point` in place and returns the new value when it improved. */
function gradientAscent(
  gp: GaussianProcess,
  best: number,
  point: Float64Array,
  value: number,
  dims: readonly number[],
  lengthscales: readonly number[],
): number {
  const d = point.length;
  const work = Float64Array.from(point);
  const fullGrad = new Float64Array(d);
  const z0 = new Float64Array(dims.length);
  const upper = new Float64Array(dims.length);
  for (let j = 0; j < dims.length; j++) {
    z0[j] = point[dims[j]!]! / lengthscales[j]!;
    upper[j] = 1 / lengthscales[j]!;
  }
  const result = minimizeBox(
    (z, g) => {
      for (let j = 0; j < dims.length; j++) work[dims[j]!] = z[j]! * lengthscales[j]!;
      const f = gp.logEI(work, best, fullGrad);
      for (let j = 0; j < dims.length; j++) g[j] = -fullGrad[dims[j]!]! * lengthscales[j]!;
      return -f;
    },
    z0,
    { lower: new Float64Array(dims.length), upper, maxIterations: 200, pgtol: 1e-4, ftol: 1e-12 },
  );
  if (-result.f > value) {
    for (let j = 0; j < dims.length; j++) point[dims[j]!] = Math.min(1, Math.max(0, result.x[j]! * lengthscales[j]!));
    return gp.logEI(point, best);
  }
  return value;
}

/**
 * Best value of one discrete dimension with the others fixed: every value
 * when there are few, else an even scan plus the nearby grid steps, moved
 * to the winner until it stops improving (in place; returns the new value).
 */
function discreteSearch(gp: GaussianProcess, best: number, space: UnitSpace, point: Float64Array, value: number, c: number): number {
  const original = point[c]!;
  let bestU = original;
  let bestV = value;
  const tryU = (u: number): void => {
    if (u === bestU) return;
    point[c] = u;
    const v = gp.logEI(point, best);
    if (v > bestV) {
      bestV = v;
      bestU = u;
    }
  };
  const size = space.size(c);
  if (size <= MAX_EXHAUSTIVE || space.kind(c) === 'categorical') {
    for (let i = 0; i < size; i++) tryU(space.gridPoint(c, i));
  } else {
    for (let i = 0; i <= 32; i++) tryU(space.snap(c, i / 32));
    for (let sweep = 0; sweep < 16; sweep++) {
      const before = bestU;
      for (const offset of [-8, -4, -2, -1, 1, 2, 4, 8]) {
        const u = space.neighbour(c, before, offset);
        if (u !== undefined) tryU(u);
      }
      if (bestU === before) break;
    }
  }
  point[c] = bestU;
  return bestV;
}

// ───────────────────────────── the unit space ─────────────────────────────

export type DimensionKind = 'continuous' | 'discrete' | 'categorical';

/**
 * The relative search space as the GP (and the evolution sampler's
 * mutations) see it: one coordinate per parameter that can take more than
 * one value, sorted by name. Numeric ones are the shared internal space
 * (space.ts: log for log parameters, half a step of padding around a grid)
 * rescaled to [0, 1], so one set of kernel priors fits every range;
 * categorical ones are the choice index, which the kernel compares with a
 * Hamming distance. Single-valued parameters are set aside and always
 * returned as their value.
 */
export class UnitSpace {
  readonly names: string[] = [];
  private readonly spaces: ParamSpace[] = [];
  private readonly kinds: DimensionKind[] = [];
  private readonly sizes: number[] = [];
  private readonly fixed: [string, ParamSpace, ParamValue][] = [];

  constructor(space: Readonly<Record<string, Distribution>>) {
    for (const name of Object.keys(space).sort()) {
      const ps = paramSpace(space[name]!);
      const single = singleValue(ps);
      if (single) {
        this.fixed.push([name, ps, single.value]);
        continue;
      }
      this.names.push(name);
      this.spaces.push(ps);
      if (ps.kind === 'categorical') {
        this.kinds.push('categorical');
        this.sizes.push(ps.choices.length);
      } else {
        this.kinds.push(ps.discrete ? 'discrete' : 'continuous');
        this.sizes.push(ps.discrete ? ps.steps + 1 : Infinity);
      }
    }
  }

  get dims(): number {
    return this.names.length;
  }

  kind(c: number): DimensionKind {
    return this.kinds[c]!;
  }

  /** Number of values of dimension c (Infinity when continuous). */
  size(c: number): number {
    return this.sizes[c]!;
  }

  categoricalMask(): Uint8Array {
    return Uint8Array.from(this.kinds, (k) => (k === 'categorical' ? 1 : 0));
  }

  /** Whether a trial has a value inside the space for every parameter (others are skipped, as values from older ranges). */
  has(trial: FrozenTrial): boolean {
    for (let c = 0; c < this.names.length; c++) if (toInternal(this.spaces[c]!, trial.params[this.names[c]!]) === undefined) return false;
    for (const [name, ps] of this.fixed) if (toInternal(ps, trial.params[name]) === undefined) return false;
    return true;
  }

  /** A value of dimension c to its coordinate (the value must be in the space: see `has`). */
  encode(c: number, value: ParamValue): number {
    const ps = this.spaces[c]!;
    const t = toInternal(ps, value);
    if (t === undefined) throw new RangeError(`${JSON.stringify(value)} is outside the space of '${this.names[c]}'`);
    if (ps.kind === 'categorical') return t;
    return Math.min(1, Math.max(0, (t - ps.lo) / (ps.hi - ps.lo)));
  }

  encodeTrial(trial: FrozenTrial, out: Float64Array): Float64Array {
    for (let c = 0; c < this.names.length; c++) out[c] = this.encode(c, trial.params[this.names[c]!]!);
    return out;
  }

  /** A coordinate of dimension c to the nearest value of its distribution. */
  decode(c: number, u: number): ParamValue {
    const ps = this.spaces[c]!;
    if (ps.kind === 'categorical') return fromInternal(ps, u);
    return fromInternal(ps, ps.lo + Math.min(1, Math.max(0, u)) * (ps.hi - ps.lo));
  }

  /** `value` itself when it is a value of dimension c's distribution, else the nearest one (an enqueued value off the grid). */
  canonical(c: number, value: ParamValue): ParamValue {
    return containsValue(this.spaces[c]!.distribution, value) ? value : this.decode(c, this.encode(c, value));
  }

  /** A point to the parameters it stands for (single-valued parameters included). */
  decodePoint(point: ArrayLike<number>): Record<string, ParamValue> {
    const params: Record<string, ParamValue> = {};
    for (let c = 0; c < this.names.length; c++) params[this.names[c]!] = this.decode(c, point[c]!);
    for (const [name, , value] of this.fixed) params[name] = value;
    return params;
  }

  /**
   * A uniform u ∈ [0, 1] to an admissible coordinate of dimension c: itself
   * when continuous, the coordinate of the grid value it falls on when
   * discrete, the index of the slice it falls in when categorical.
   */
  snap(c: number, u: number): number {
    const kind = this.kinds[c]!;
    if (kind === 'continuous') return Math.min(1, Math.max(0, u));
    if (kind === 'categorical') return Math.min(this.sizes[c]! - 1, Math.floor(u * this.sizes[c]!));
    return this.encode(c, this.decode(c, u));
  }

  /** The coordinate of the i-th value (0-based) of a discrete or categorical dimension. */
  gridPoint(c: number, i: number): number {
    const ps = this.spaces[c]!;
    if (ps.kind === 'categorical') return i;
    // fromInternal clamps and tidies low + i·step (12 × 0.05 is 0.6000000000000001, above high).
    return this.encode(c, fromInternal(ps, ps.log ? Math.log(ps.low + i) : ps.low + i * ps.step!));
  }

  /** The coordinate `offset` grid steps from coordinate u, or undefined past either end. */
  neighbour(c: number, u: number, offset: number): number | undefined {
    const ps = this.spaces[c]!;
    if (ps.kind === 'categorical') {
      const i = u + offset;
      return i >= 0 && i < this.sizes[c]! ? i : undefined;
    }
    const value = this.decode(c, u) as number;
    const k = Math.round((value - ps.low) / ps.step!) + offset;
    return k >= 0 && k < this.sizes[c]! ? this.gridPoint(c, k) : undefined;
  }
}

// ───────────────────────────── the sampler ─────────────────────────────

export interface GPSamplerOptions {
  /** Seed of the study's random streams (random when omitted). */
  seed?: number;
  /** Completed trials sampled at random before the GP takes over (Optuna: 10). */
  nStartupTrials?: number;
  /** Fix the noise at its floor: for objectives that return the same value for the same parameters. */
  deterministicObjective?: boolean;
}

/**
 * Gaussian-process Bayesian optimization of the parameters every completed
 * trial shares (the relative search space); anything else, and the first
 * `nStartupTrials` trials, are sampled at random.
 */
export class GPSampler implements Sampler {
  readonly name = 'gp';
  readonly seed: number;
  readonly nStartupTrials: number;
  readonly deterministicObjective: boolean;

  constructor(options: GPSamplerOptions = {}) {
    const { seed, nStartupTrials = 10, deterministicObjective = false } = options;
    if (!Number.isInteger(nStartupTrials) || nStartupTrials < 0) {
      throw new DloptError(`GPSampler: nStartupTrials must be an integer ≥ 0, got ${nStartupTrials}`);
    }
    this.seed = checkSeed(seed, 'GPSampler');
    this.nStartupTrials = nStartupTrials;
    this.deterministicObjective = deterministicObjective;
  }

  sampleIndependent(ctx: SamplingContext, _name: string, distribution: Distribution): ParamValue {
    return sampleUniform(paramSpace(distribution), ctx.rng);
  }

  sampleRelative(ctx: SamplingContext, space: Readonly<Record<string, Distribution>>): Record<string, ParamValue> {
    const unit = new UnitSpace(space);
    if (unit.dims === 0) return {};
    const completed = ctx.trials.filter((t) => t.state === 'COMPLETE' && t.value !== null && !Number.isNaN(t.value) && unit.has(t));
    if (completed.length < Math.max(1, this.nStartupTrials)) return {};

    const n = completed.length;
    const d = unit.dims;
    const x = new Float64Array(n * d);
    completed.forEach((t, i) => unit.encodeTrial(t, x.subarray(i * d, (i + 1) * d)));
    const y = standardize(completed.map((t) => (ctx.direction === 'minimize' ? -t.value! : t.value!)));
    const categorical = unit.categoricalMask();
    const data: GPData = { x, n, d, categorical, y };
    const params = fitKernelParams(data, { deterministic: this.deterministicObjective, rng: ctx.rng });
    const fitted = new GaussianProcess(data, params);

    let incumbent = 0;
    for (let i = 1; i < n; i++) if (y[i]! > y[incumbent]!) incumbent = i;
    const best = y[incumbent]!;

    // Constant liar for trials other workers are running: each is added as an
    // observation of its posterior mean, capped at the incumbent, so the
    // variance (and the EI) collapses there and no pending point looks like
    // an improvement; parallel workers spread out instead of piling up.
    const pending = ctx.trials.filter((t) => t.state === 'RUNNING' && t.number !== ctx.trial.number && unit.has(t));
    let gp = fitted;
    if (pending.length > 0) {
      const m = n + pending.length;
      const xa = new Float64Array(m * d);
      const ya = new Float64Array(m);
      xa.set(x);
      ya.set(y);
      pending.forEach((t, j) => {
        const row = xa.subarray((n + j) * d, (n + j + 1) * d);
        unit.encodeTrial(t, row);
        ya[n + j] = Math.min(fitted.posterior(row).mean, best);
      });
      gp = new GaussianProcess({ x: xa, n: m, d, categorical, y: ya }, params);
    }

    const { point } = optimizeAcquisition(gp, best, unit, {
      rng: ctx.rng,
      warmStarts: [x.slice(incumbent * d, (incumbent + 1) * d)],
    });
    return unit.decodePoint(point);
  }
}

/**
 * (v − mean)/std with infinities clipped to the finite extremes first (as
 * Optuna), so one diverged trial cannot turn the whole fit into NaN. The
 * deviations are scaled by the largest before squaring: a value like 1e300
 * would otherwise overflow the variance and flatten every target to 0.
 */
export function standardize(values: readonly number[]): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo > hi) return new Float64Array(values.length);
  const clipped = values.map((v) => Math.min(hi, Math.max(lo, v)));
  let mean = 0;
  for (const v of clipped) mean += v / clipped.length;
  let scale = 0;
  for (const v of clipped) scale = Math.max(scale, Math.abs(v - mean));
  if (!(scale > 0)) return new Float64Array(values.length);
  let variance = 0;
  for (const v of clipped) variance += ((v - mean) / scale) ** 2;
  const std = Math.max(scale * Math.sqrt(variance / clipped.length), 1e-10);
  return Float64Array.from(clipped, (v) => (v - mean) / std);
}
