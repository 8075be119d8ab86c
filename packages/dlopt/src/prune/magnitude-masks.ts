import { DloptError } from '../errors.js';
import type { PrunableKernel } from './prunable-kernels.js';

export type PruningScope = 'layer' | 'global';

/** Keep the n largest of every m consecutive weights along the input axis (2:4 is what sparse tensor cores run). */
export interface NmPattern {
  n: number;
  m: number;
}

/** Magnitude pruning to a sparsity, per layer or with one threshold over all kernels. */
export interface SparsityMaskOptions {
  sparsity: number;
  scope: PruningScope;
  pattern?: undefined;
}

/**
 * N:M pruning. Its sparsity is 1 − n/m by construction, so `sparsity` may be
 * left out; given, it must agree. There is no scope: every group is its own.
 */
export interface PatternMaskOptions {
  pattern: NmPattern;
  sparsity?: number;
  scope?: PruningScope;
}

export type MaskOptions = SparsityMaskOptions | PatternMaskOptions;

/** A kernel left dense, and why (an N:M pattern that does not fit it). */
export interface SkippedKernel {
  layer: string;
  name: string;
  reason: string;
}

export interface MaskResult {
  /** One per kernel, in the kernels' order: 1 keeps the weight, 0 prunes it. */
  masks: Uint8Array[];
  skipped: SkippedKernel[];
}

/**
 * Masks that prune the smallest-magnitude weights. Ties in |w| go to the
 * earlier weight (lower flat index, then earlier kernel), so the same weights
 * always give the same masks. The counts are exact: round(sparsity · size)
 * weights pruned per kernel, or round(sparsity · total) over all kernels.
 */
export function magnitudeMasks(kernels: readonly PrunableKernel[], values: readonly Float32Array[], options: MaskOptions): MaskResult {
  if (values.length !== kernels.length) {
    throw new DloptError(`magnitude pruning got values for ${values.length} kernels but the model has ${kernels.length}`);
  }
  kernels.forEach((k, i) => {
    const v = values[i]!;
    if (v.length !== k.size) throw new DloptError(`values for layer '${k.layer}' (${k.name}) have ${v.length} elements but the kernel has ${k.size}`);
    // NaN has no magnitude to rank by; such a layer comes from a diverged run.
    for (let j = 0; j < v.length; j++) {
      if (Number.isNaN(v[j])) throw new DloptError(`layer '${k.layer}' has NaN weights (${k.name}); cannot prune by magnitude`);
    }
  });
  if (options.pattern !== undefined) return patternMasks(kernels, values, options.pattern, options.sparsity);
  checkSparsity(options.sparsity);
  if (options.scope === 'global') return { masks: globalMasks(kernels, values, options.sparsity), skipped: [] };
  if (options.scope !== 'layer') throw new DloptError(`pruning scope must be 'layer' or 'global' but got '${String(options.scope)}'`);
  const masks = kernels.map((k, i) => {
    const prune = Math.round(options.sparsity * k.size);
    if (prune >= k.size && k.size > 0) {
      throw new DloptError(
        `sparsity ${options.sparsity} would remove every weight of layer '${k.layer}' (${k.size} weights); lower --sparsity`,
      );
    }
    return pruneSmallest([values[i]!], prune)[0]!;
  });
  return { masks, skipped: [] };
}

/** Throws unless 0 <= sparsity < 1 (pruning every weight leaves no model). */
export function checkSparsity(sparsity: number): void {
  if (!(sparsity >= 0 && sparsity < 1)) throw new DloptError(`sparsity must be in [0, 1) but got ${sparsity}`);
}

/** Throws unless n and m are integers with 1 <= n < m. */
export function checkPattern(pattern: NmPattern): void {
  const { n, m } = pattern;
  if (!Number.isInteger(n) || !Number.isInteger(m) || n < 1 || m <= n) {
    throw new DloptError(`an N:M pattern needs integers 1 <= n < m but got ${n}:${m}`);
  }
}

function globalMasks(kernels: readonly PrunableKernel[], values: readonly Float32Array[], sparsity: number): Uint8Array[] {
  const total = values.reduce((n, v) => n + v.length, 0);
  const masks = pruneSmallest(values, Math.round(sparsity * total));
  masks.forEach((mask, i) => {
    const k = kernels[i]!;
    if (k.size > 0 && !mask.includes(1)) {
      throw new DloptError(
        `global sparsity ${sparsity} would remove every weight of layer '${k.layer}'; lower --sparsity or use --scope layer`,
      );
    }
  });
  return masks;
}

/**
 * Masks pruning exactly `count` of the smallest |w| over the concatenation of
 * `arrays`. Sorting a Float32Array copy is native and fast; the k-th smallest
 * magnitude is the threshold, everything below it goes, and of the weights
 * equal to it only as many as are still needed, latest first.
 */
function pruneSmallest(arrays: readonly Float32Array[], count: number): Uint8Array[] {
  const masks = arrays.map((a) => new Uint8Array(a.length).fill(1));
  if (count <= 0) return masks;
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const sorted = new Float32Array(total);
  let at = 0;
  for (const a of arrays) {
    for (let j = 0; j < a.length; j++) sorted[at++] = Math.abs(a[j]!);
  }
  sorted.sort();
  const threshold = sorted[count - 1]!;
  let below = 0;
  for (let j = 0; j < count; j++) if (sorted[j]! < threshold) below++;
  let equalToPrune = count - below;
  for (let i = arrays.length - 1; i >= 0; i--) {
    const a = arrays[i]!;
    const mask = masks[i]!;
    for (let j = a.length - 1; j >= 0; j--) {
      const v = Math.abs(a[j]!);
      if (v < threshold) mask[j] = 0;
      else if (v === threshold && equalToPrune > 0) {
        mask[j] = 0;
        equalToPrune--;
      }
    }
  }
  return masks;
}

function patternMasks(
  kernels: readonly PrunableKernel[],
  values: readonly Float32Array[],
  pattern: NmPattern,
  sparsity: number | undefined,
): MaskResult {
  checkPattern(pattern);
  const { n, m } = pattern;
  const implied = 1 - n / m;
  if (sparsity !== undefined && Math.abs(sparsity - implied) > 1e-9) {
    throw new DloptError(`sparsity ${sparsity} contradicts the ${n}:${m} pattern, which prunes ${implied} of the weights; leave sparsity out`);
  }
  const skipped: SkippedKernel[] = [];
  const masks = kernels.map((k, i) => {
    const mask = new Uint8Array(k.size).fill(1);
    const skip = (reason: string): Uint8Array => {
      skipped.push({ layer: k.layer, name: k.name, reason });
      return mask;
    };
    if (!k.inputAxisReduces) return skip(`a depthwise kernel has no input-channel axis to apply ${n}:${m} along`);
    const rank = k.shape.length;
    if (rank < 2) return skip(`a kernel of shape [${k.shape.join(', ')}] has no input axis`);
    const axis = k.shape[rank - 2]!;
    if (axis % m !== 0) return skip(`its input axis has ${axis} entries, not a multiple of ${m}`);
    nmMask(values[i]!, mask, k.shape.slice(0, rank - 2).reduce((a, b) => a * b, 1), axis, k.shape[rank - 1]!, n, m);
    return mask;
  });
  return { masks, skipped };
}

/**
 * For a kernel laid out [outer, axis, inner] (row-major), keeps in every run of
 * m consecutive entries along `axis` (fixed outer and inner) the n largest |w|,
 * the earlier one on ties.
 */
function nmMask(v: Float32Array, mask: Uint8Array, outer: number, axis: number, inner: number, n: number, m: number): void {
  const group = new Float32Array(m);
  for (let o = 0; o < outer; o++) {
    for (let c0 = 0; c0 < axis; c0 += m) {
      for (let col = 0; col < inner; col++) {
        const base = (o * axis + c0) * inner + col;
        for (let g = 0; g < m; g++) {
          group[g] = Math.abs(v[base + g * inner]!);
          mask[base + g * inner] = 0;
        }
        for (let keep = 0; keep < n; keep++) {
          let best = -1;
          for (let g = 0; g < m; g++) if (group[g]! >= 0 && (best < 0 || group[g]! > group[best]!)) best = g;
          mask[base + best * inner] = 1;
          group[best] = -1;
        }
      }
    }
  }
}
