import type { Distribution, ParamValue } from '../tune/distributions.js';
import type { FrozenTrial } from '../tune/trial-state.js';
import { formatParam } from '../util/format.js';

/** Cells per numeric axis: fine enough to read, small enough to inline 3 maps in the page. */
export const CONTOUR_CELLS = 20;

/**
 * Fills the unknown (null) cells of a grid by harmonic interpolation: each
 * becomes the mean of its 4-neighbours, iterated until it settles. This is
 * the interpolation Plotly's heatmaps and Optuna's contour plots use; unlike
 * a fitted surface it never invents a value outside the measured range (the
 * maximum principle), so the map cannot promise an accuracy no trial reached.
 * Known cells are kept as they are.
 */
export function fillGrid(known: readonly (readonly (number | null)[])[], tolerance = 1e-9, maxSweeps = 10_000): number[][] {
  const rows = known.length;
  const cols = known[0]?.length ?? 0;
  const measured = known.flatMap((r) => r.filter((v): v is number => v !== null));
  if (measured.length === 0) throw new Error('fillGrid needs at least one known cell');
  const mean = measured.reduce((a, b) => a + b, 0) / measured.length;
  const range = Math.max(...measured) - Math.min(...measured);
  const grid = known.map((r) => r.map((v) => v ?? mean));
  const free: [number, number][] = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (known[i]![j] === null) free.push([i, j]);
  // Gauss–Seidel with over-relaxation: a 20×20 grid settles in a few hundred sweeps.
  const omega = 1.8;
  for (let sweep = 0; sweep < maxSweeps && range > 0; sweep++) {
    let change = 0;
    for (const [i, j] of free) {
      let sum = 0;
      let n = 0;
      if (i > 0) (sum += grid[i - 1]![j]!), n++;
      if (i < rows - 1) (sum += grid[i + 1]![j]!), n++;
      if (j > 0) (sum += grid[i]![j - 1]!), n++;
      if (j < cols - 1) (sum += grid[i]![j + 1]!), n++;
      if (n === 0) continue;
      const next = grid[i]![j]! + omega * (sum / n - grid[i]![j]!);
      change = Math.max(change, Math.abs(next - grid[i]![j]!));
      grid[i]![j] = next;
    }
    if (change <= tolerance * range) break;
  }
  return grid;
}

/** One axis of a contour map: its cells in the parameter's own units (numbers) or its categories. */
export interface ContourAxis {
  name: string;
  categorical: boolean;
  log: boolean;
  /** Cell edges (numeric axes; cells + 1 of them) or the categories (categorical axes), as labels. */
  edges: number[];
  categories: string[];
  cells: number;
  /** The cell a value falls in. */
  cellOf(value: ParamValue): number;
}

export function contourAxis(name: string, d: Distribution, cells = CONTOUR_CELLS): ContourAxis | null {
  if (d.type === 'categorical') {
    if (d.choices.length < 2) return null;
    const categories = d.choices.map((c) => formatParam(c));
    return { name, categorical: true, log: false, edges: [], categories, cells: categories.length, cellOf: (v) => d.choices.findIndex((c) => c === v) };
  }
  if (!(d.high > d.low)) return null;
  const lo = d.log ? Math.log(d.low) : d.low;
  const hi = d.log ? Math.log(d.high) : d.high;
  const edges = Array.from({ length: cells + 1 }, (_, i) => {
    const t = lo + ((hi - lo) * i) / cells;
    return d.log ? Math.exp(t) : t;
  });
  // The ends exactly: exp(log(x)) drifts in the last digit.
  edges[0] = d.low;
  edges[cells] = d.high;
  return {
    name,
    categorical: false,
    log: d.log,
    edges,
    categories: [],
    cells,
    cellOf: (v) => {
      const t = d.log ? Math.log(Number(v)) : Number(v);
      return Math.min(cells - 1, Math.max(0, Math.floor(((t - lo) / (hi - lo)) * cells)));
    },
  };
}

export interface ContourCell {
  /** The cell's extent along each axis: numbers [x, x2) for numeric axes, the category for categorical ones. */
  x: number | string;
  x2?: number;
  y: number | string;
  y2?: number;
  value: number;
  /** Whether a trial fell in this cell (its value is their mean) rather than being interpolated. */
  measured: boolean;
}

export interface ContourMap {
  x: ContourAxis;
  y: ContourAxis;
  cells: ContourCell[];
  /** The completed trials that set the map, at their own parameter values. */
  points: { trial: number; x: ParamValue; y: ParamValue; value: number }[];
}

/**
 * The objective over two parameters (Optuna's contour plot): completed trials
 * that sampled both land in grid cells (the mean where several share one),
 * and the rest of the grid is filled by `fillGrid`. Null when fewer than 3
 * trials sampled both or they all fall in one row or column: then a map would
 * be interpolation from nothing.
 */
export function contourMap(trials: readonly (FrozenTrial & { value: number })[], x: ContourAxis, y: ContourAxis): ContourMap | null {
  const points = trials.filter((t) => x.name in t.params && y.name in t.params).map((t) => ({ trial: t.number, x: t.params[x.name]!, y: t.params[y.name]!, value: t.value }));
  const placed = points.map((p) => ({ ...p, i: y.cellOf(p.y), j: x.cellOf(p.x) })).filter((p) => p.i >= 0 && p.j >= 0);
  if (placed.length < 3 || new Set(placed.map((p) => p.i)).size < 2 || new Set(placed.map((p) => p.j)).size < 2) return null;
  const sums = Array.from({ length: y.cells }, () => new Array<number>(x.cells).fill(0));
  const counts = Array.from({ length: y.cells }, () => new Array<number>(x.cells).fill(0));
  for (const p of placed) {
    sums[p.i]![p.j]! += p.value;
    counts[p.i]![p.j]! += 1;
  }
  const known = sums.map((r, i) => r.map((s, j) => (counts[i]![j]! > 0 ? s / counts[i]![j]! : null)));
  const grid = fillGrid(known);
  const extent = (axis: ContourAxis, k: number): { at: number | string; to?: number } =>
    axis.categorical ? { at: axis.categories[k]! } : { at: axis.edges[k]!, to: axis.edges[k + 1]! };
  const cells: ContourCell[] = [];
  for (let i = 0; i < y.cells; i++) {
    for (let j = 0; j < x.cells; j++) {
      const ex = extent(x, j);
      const ey = extent(y, i);
      cells.push({ x: ex.at, x2: ex.to, y: ey.at, y2: ey.to, value: grid[i]![j]!, measured: known[i]![j] !== null });
    }
  }
  // A categorical axis is drawn over its labels, so points carry the label too.
  const at = (axis: ContourAxis, v: ParamValue): ParamValue => (axis.categorical ? formatParam(v) : v);
  return { x, y, cells, points: placed.map((p) => ({ trial: p.trial, x: at(x, p.x), y: at(y, p.y), value: p.value })) };
}
