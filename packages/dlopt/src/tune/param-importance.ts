import { DataError, UsageError } from '../errors.js';
import { Random, deriveSeed } from '../util/random.js';
import { describeDistribution, intersectionSearchSpace, sameDistribution } from './distribution-utils.js';
import type { Distribution } from './distributions.js';
import type { FrozenTrial } from './trial-state.js';

export interface ParamImportance {
  name: string;
  importance: number;
}

/**
 * How much each parameter explains the objective, as Optuna's
 * MeanDecreaseImpurityImportanceEvaluator: a random forest regressor is fitted
 * on the parameters of the usable trials, and each parameter scores the
 * variance its splits remove (mean decrease in impurity).
 *
 * trials: any FrozenTrials (only COMPLETE ones with a finite value are used).
 * params: names to score; default = every param present in all those trials whose
 * distribution is the same in all of them (a param that is missing from some trials is skipped).
 * With explicit params, trials lacking one of them are left out, and a param
 * whose distribution differs between the remaining trials is a UsageError (as Optuna).
 * Returns one entry per scored param, sorted by importance descending (ties by name), summing to 1;
 * a param that never varies gets 0. Returns [] when fewer than 2 usable trials or no params.
 * When nothing can be explained (all values equal, or no param varies), every param gets 0.
 */
export function paramImportances(
  trials: readonly FrozenTrial[],
  options: { params?: string[]; seed?: number; nTrees?: number; maxDepth?: number } = {},
): ParamImportance[] {
  const nTrees = options.nTrees ?? 64;
  const maxDepth = options.maxDepth ?? 64;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(nTrees) || nTrees < 1) throw new UsageError(`nTrees must be an integer ≥ 1, got ${nTrees}`);
  if (!Number.isInteger(maxDepth) || maxDepth < 1) throw new UsageError(`maxDepth must be an integer ≥ 1, got ${maxDepth}`);
  if (!Number.isInteger(seed)) throw new UsageError(`seed must be an integer, got ${seed}`);

  let usable = trials.filter((t) => t.state === 'COMPLETE' && typeof t.value === 'number' && Number.isFinite(t.value));
  if (usable.length < 2) return [];

  let space: [string, Distribution][];
  if (options.params === undefined) {
    space = Object.entries(intersectionSearchSpace(usable));
  } else {
    const names = [...new Set(options.params)].sort();
    for (const name of names) {
      // A name no trial knows is almost surely a typo: say so rather than score nothing.
      if (!usable.some((t) => Object.hasOwn(t.distributions, name))) {
        throw new UsageError(`parameter '${name}' appears in no complete trial`);
      }
    }
    usable = usable.filter((t) => names.every((name) => Object.hasOwn(t.distributions, name)));
    if (usable.length < 2) return [];
    const first = usable[0]!;
    space = names.map((name) => [name, first.distributions[name]!]);
    for (const trial of usable) {
      for (const [name, distribution] of space) {
        const other = trial.distributions[name]!;
        if (!sameDistribution(distribution, other)) {
          throw new UsageError(
            `parameter '${name}' has different distributions across trials (${describeDistribution(distribution)} in trial ${first.number}, ` +
              `${describeDistribution(other)} in trial ${trial.number}); importance needs one search space`,
          );
        }
      }
    }
  }
  if (space.length === 0) return [];

  const { columns, columnParam } = encode(usable, space);
  const y = scaledTargets(usable);
  const columnImportance = y === undefined ? new Float64Array(columns.length) : forestImportances(columns, y, nTrees, maxDepth, seed);

  const importance = new Float64Array(space.length);
  for (let c = 0; c < columns.length; c++) importance[columnParam[c]!]! += columnImportance[c]!;
  return space
    .map(([name], i) => ({ name, importance: importance[i]! }))
    .sort((a, b) => b.importance - a.importance || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * One numeric column per float/int param (its log with `log`, so split
 * thresholds sit where the sampler sees the space), one 0/1 column per choice
 * of a categorical param, as Optuna's search-space transform one-hot encodes.
 */
function encode(trials: readonly FrozenTrial[], space: readonly [string, Distribution][]): { columns: Float64Array[]; columnParam: number[] } {
  const n = trials.length;
  const columns: Float64Array[] = [];
  const columnParam: number[] = [];
  space.forEach(([name, distribution], p) => {
    const valueOf = (trial: FrozenTrial): unknown => {
      if (!Object.hasOwn(trial.params, name)) throw new DataError(`trial ${trial.number} has a distribution for '${name}' but no value`);
      return trial.params[name];
    };
    if (distribution.type === 'categorical') {
      const first = columns.length;
      for (let k = 0; k < distribution.choices.length; k++) {
        columns.push(new Float64Array(n));
        columnParam.push(p);
      }
      trials.forEach((trial, i) => {
        const value = valueOf(trial);
        const k = distribution.choices.findIndex((choice) => Object.is(choice, value));
        if (k < 0) throw new DataError(`trial ${trial.number}: '${name}' = ${JSON.stringify(value)} is not one of ${JSON.stringify(distribution.choices)}`);
        columns[first + k]![i] = 1;
      });
      return;
    }
    const column = new Float64Array(n);
    trials.forEach((trial, i) => {
      const value = valueOf(trial);
      const x = typeof value === 'number' ? (distribution.log ? Math.log(value) : value) : NaN;
      if (!Number.isFinite(x)) throw new DataError(`trial ${trial.number}: '${name}' = ${JSON.stringify(value)} does not fit ${describeDistribution(distribution)}`);
      column[i] = x;
    });
    columns.push(column);
    columnParam.push(p);
  });
  return { columns, columnParam };
}

/**
 * The values divided by their largest magnitude and centred: MDI is
 * scale-free, and this keeps sums of squares of huge objectives finite.
 * undefined when the values do not vary, so there is nothing to explain.
 */
function scaledTargets(trials: readonly FrozenTrial[]): Float64Array | undefined {
  const raw = trials.map((t) => t.value as number);
  const scale = Math.max(...raw.map(Math.abs));
  if (raw.every((v) => v === raw[0]) || !(scale > 0)) return undefined;
  const y = Float64Array.from(raw, (v) => v / scale);
  const mean = y.reduce((s, v) => s + v, 0) / y.length;
  for (let i = 0; i < y.length; i++) y[i]! -= mean;
  return y;
}

/**
 * sklearn's RandomForestRegressor feature_importances_ with Optuna's settings
 * (bootstrap, max_features=1.0, min_samples_split 2, min_samples_leaf 1).
 * A bootstrap sample is kept as weights on the distinct rows it drew, which is
 * how sklearn itself fits one; each tree keeps, per feature, its rows in
 * sorted order and partitions those lists stably at every split, so a node
 * costs O(features · rows) instead of a sort per feature.
 */
function forestImportances(columns: readonly Float64Array[], y: Float64Array, nTrees: number, maxDepth: number, seed: number): Float64Array {
  const n = y.length;
  const total = new Float64Array(columns.length);
  // A column constant over all trials can never split; leaving it out saves its partitioning work.
  const active: number[] = [];
  for (let c = 0; c < columns.length; c++) {
    const col = columns[c]!;
    if (col.some((v) => v !== col[0])) active.push(c);
  }
  if (active.length === 0) return total;
  const globalOrder = active.map((c) => {
    const col = columns[c]!;
    return Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => col[a]! - col[b]! || a - b);
  });

  const weight = new Uint32Array(n);
  const leftMark = new Int32Array(n);
  const scratch = new Uint32Array(n);
  const treeImportance = new Float64Array(columns.length);
  let stamp = 0;

  for (let t = 0; t < nTrees; t++) {
    const rng = new Random(deriveSeed(seed, t));
    weight.fill(0);
    for (let i = 0; i < n; i++) weight[rng.int(n)]!++;
    const orders = globalOrder.map((g) => g.filter((row) => weight[row]! > 0));
    const m = orders[0]!.length;
    treeImportance.fill(0);

    const stack: { start: number; end: number; depth: number }[] = [{ start: 0, end: m, depth: 0 }];
    for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
      const { start, end, depth } = node;
      if (end - start < 2 || depth >= maxDepth) continue;
      const rows = orders[0]!;
      let w = 0;
      let sum = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = start; i < end; i++) {
        const row = rows[i]!;
        const v = y[row]!;
        w += weight[row]!;
        sum += weight[row]! * v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (lo === hi) continue;
      const mean = sum / w;
      // Sums of centred values: the decrease is then a difference of small numbers, not of two large ones.
      let centredSum = 0;
      for (let i = start; i < end; i++) centredSum += weight[rows[i]!]! * (y[rows[i]!]! - mean);

      // Features in random order, first strictly best wins: ties (duplicated or one-hot twin columns) are shared out at random as sklearn does.
      const candidates = rng.shuffle(Array.from(active.keys()));
      let bestFeature = -1;
      let bestEnd = -1;
      let bestProxy = -Infinity;
      for (const f of candidates) {
        const order = orders[f]!;
        const col = columns[active[f]!]!;
        let wLeft = 0;
        let sLeft = 0;
        for (let i = start; i < end - 1; i++) {
          const row = order[i]!;
          wLeft += weight[row]!;
          sLeft += weight[row]! * (y[row]! - mean);
          if (col[order[i + 1]!]! <= col[row]!) continue;
          const sRight = centredSum - sLeft;
          const proxy = (sLeft * sLeft) / wLeft + (sRight * sRight) / (w - wLeft);
          if (proxy > bestProxy) {
            bestProxy = proxy;
            bestFeature = f;
            bestEnd = i + 1;
          }
        }
      }
      if (bestFeature < 0) continue;

      // n·imp − nL·impL − nR·impR, with the sums of squares cancelling out.
      treeImportance[active[bestFeature]!]! += Math.max(0, bestProxy - (centredSum * centredSum) / w);

      stamp++;
      const chosen = orders[bestFeature]!;
      for (let i = start; i < bestEnd; i++) leftMark[chosen[i]!] = stamp;
      for (let f = 0; f < orders.length; f++) {
        if (f === bestFeature) continue;
        const order = orders[f]!;
        let l = start;
        let r = 0;
        for (let i = start; i < end; i++) {
          const row = order[i]!;
          if (leftMark[row] === stamp) order[l++] = row;
          else scratch[r++] = row;
        }
        order.set(scratch.subarray(0, r), l);
      }
      stack.push({ start, end: bestEnd, depth: depth + 1 }, { start: bestEnd, end, depth: depth + 1 });
    }

    const treeTotal = treeImportance.reduce((s, v) => s + v, 0);
    if (treeTotal > 0) for (let c = 0; c < total.length; c++) total[c]! += treeImportance[c]! / treeTotal;
  }

  const forestTotal = total.reduce((s, v) => s + v, 0);
  if (forestTotal > 0) for (let c = 0; c < total.length; c++) total[c]! /= forestTotal;
  return total;
}
