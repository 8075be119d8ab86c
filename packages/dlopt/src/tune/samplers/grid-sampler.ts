import { DloptError } from '../../errors.js';
import { deriveSeed, hash32 } from '../../util/random.js';
import type { Distribution, ParamValue } from '../distributions.js';
import type { Sampler, SamplingContext } from './sampler.js';
import { checkSeed, containsValue, describeDistribution } from './space.js';

export interface GridSamplerOptions {
  /** Orders the grid; without it one is drawn at construction and recorded in `seed`. */
  seed?: number;
}

/**
 * Every combination of the listed values, each once, in an order shuffled
 * from the seed (so a study stopped early has still spread over the grid).
 *
 * Stateless: the trial numbered n takes point n mod size of that order.
 * Numbers are unique and gapless within a study, so two workers never pick
 * the same point for different trials, any `size` consecutive trials cover
 * the grid exactly once, and a study replays identically. (Counting the
 * earlier trials in ctx.trials gives the same in a plain study, but collides
 * when the snapshot is a filtered view.) Unlike Optuna, points are not
 * skipped when an earlier trial failed or was enqueued with fixed values:
 * such trials use up their point. After `size` trials the grid repeats from
 * the start, in the same order; stop the study after `size` trials to visit
 * each point exactly once.
 *
 * The grid is never materialised (the order is a keyed permutation of
 * 0..size−1), so large grids cost nothing until sampled.
 */
export class GridSampler implements Sampler {
  readonly name = 'grid';
  readonly seed: number;
  /** Number of grid points (the product of the value counts). */
  readonly size: number;
  private readonly axes = new Map<string, { values: readonly ParamValue[]; stride: number }>();
  private readonly permutation: FeistelPermutation;

  constructor(searchSpace: Readonly<Record<string, readonly ParamValue[]>>, options: GridSamplerOptions = {}) {
    this.seed = checkSeed(options.seed, 'GridSampler');
    // Sorted so that the order params were listed in does not change which trial gets which point.
    const names = Object.keys(searchSpace).sort();
    let size = 1;
    for (const name of names) {
      const values = searchSpace[name];
      if (!Array.isArray(values) || values.length === 0) {
        throw new DloptError(`GridSampler: parameter "${name}" needs a non-empty list of values`);
      }
      this.axes.set(name, { values: [...values], stride: size });
      size *= values.length;
    }
    if (size > Number.MAX_SAFE_INTEGER) throw new DloptError(`GridSampler: the grid has ${size} points, too many to enumerate`);
    this.size = size;
    this.permutation = new FeistelPermutation(size, this.seed);
  }

  sampleIndependent(ctx: SamplingContext, name: string, distribution: Distribution): ParamValue {
    const axis = this.axes.get(name);
    if (!axis) {
      throw new DloptError(`GridSampler: parameter "${name}" is not in the grid (grid parameters: ${[...this.axes.keys()].join(', ') || 'none'})`);
    }
    const point = this.permutation.apply(ctx.trial.number % this.size);
    const value = axis.values[Math.floor(point / axis.stride) % axis.values.length]!;
    if (!containsValue(distribution, value)) {
      throw new DloptError(`GridSampler: grid value ${JSON.stringify(value)} of "${name}" is not a value of its distribution (${describeDistribution(distribution)})`);
    }
    return value;
  }
}

/**
 * A seeded bijection of 0..n−1: a 4-round Feistel network on the smallest
 * even number of bits covering n, with cycle walking to stay below n (fewer
 * than 4 steps on average). O(1) memory whatever n.
 */
class FeistelPermutation {
  private readonly half: number;
  private readonly mask: number;
  private readonly keys: number[];

  constructor(
    private readonly n: number,
    seed: number,
  ) {
    const bits = Math.max(2, Math.ceil(Math.log2(Math.max(n, 2))));
    this.half = Math.ceil(bits / 2);
    this.mask = 2 ** this.half - 1;
    this.keys = [0, 1, 2, 3].map((r) => deriveSeed(seed, r));
  }

  apply(i: number): number {
    let x = i;
    do x = this.round(x);
    while (x >= this.n);
    return x;
  }

  private round(x: number): number {
    const base = 2 ** this.half;
    let left = Math.floor(x / base);
    let right = x % base;
    for (const key of this.keys) {
      const next = (left ^ (hash32((right ^ key) >>> 0) & this.mask)) >>> 0;
      left = right;
      right = next;
    }
    return left * base + right;
  }
}
