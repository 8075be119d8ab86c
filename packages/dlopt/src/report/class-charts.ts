import { classAccuracyChanges, type ClassAccuracyChange } from '../train/class-metrics.js';
import { values, withDefaults } from './chart-specs.js';
import type { IdSet, ReportChart } from './report-model.js';
import type { RunRecord } from './run-files.js';
import { num } from './table-cells.js';

/**
 * Charts of how a model does class by class, from the confusion matrices
 * dlopt train and dlopt prune record in summary.json: a training run's matrix,
 * and a pruning run's per-class accuracy before and after.
 */

/** The class names a summary records, or null. */
function classNamesOf(summary: Record<string, unknown>): string[] | null {
  const names = summary.class_names;
  return Array.isArray(names) && names.length > 0 && names.every((n) => typeof n === 'string') ? (names as string[]) : null;
}

/** A k×k matrix of non-negative integer counts: anything else in a summary is not drawn from. */
export function isConfusion(m: unknown, k: number): m is number[][] {
  return Array.isArray(m) && m.length === k && m.every((row) => Array.isArray(row) && row.length === k && row.every((v) => Number.isInteger(v) && v >= 0));
}

export interface RunConfusion {
  split: 'test' | 'val';
  classNames: string[];
  confusion: number[][];
  accuracy: number | null;
}

/**
 * The confusion matrix of the split a run reports (test when it had one),
 * from its summary.json; null for runs from before dlopt recorded one, or a
 * matrix that does not fit its class names (then nothing is drawn from it).
 */
export function runConfusion(run: RunRecord): RunConfusion | null {
  const s = run.summary;
  if (!s) return null;
  const final = (s.final ?? {}) as Record<string, { confusion?: unknown; accuracy?: unknown } | undefined>;
  const names = classNamesOf(s);
  for (const split of ['test', 'val'] as const) {
    const m = final[split]?.confusion;
    if (m === undefined) continue;
    return names && isConfusion(m, names.length) ? { split, classNames: names, confusion: m, accuracy: num(final[split]?.accuracy) } : null;
  }
  return null;
}

export interface ConfusionCell {
  actual: string;
  predicted: string;
  count: number;
  /** count over the images of the actual class: each row sums to 1. */
  share: number;
}

export function confusionCells(c: RunConfusion): ConfusionCell[] {
  return c.confusion.flatMap((row, i) => {
    const images = row.reduce((a, b) => a + b, 0);
    return row.map((count, j) => ({ actual: c.classNames[i]!, predicted: c.classNames[j]!, count, share: images > 0 ? count / images : 0 }));
  });
}

/** Most runs a section draws a confusion matrix for; past that only the most accurate one's, or the page drowns in them. */
export const MAX_CONFUSION_RUNS = 4;

export function confusionCharts(runs: readonly RunRecord[], id: string, ids: IdSet, notes: string[]): ReportChart[] {
  let withMatrix = runs.flatMap((r) => {
    const c = runConfusion(r);
    return c ? [{ run: r, c }] : [];
  });
  if (withMatrix.length > MAX_CONFUSION_RUNS) {
    const best = withMatrix.reduce((a, b) => ((b.c.accuracy ?? -1) > (a.c.accuracy ?? -1) ? b : a));
    notes.push(`${withMatrix.length} runs have a confusion matrix; only the most accurate one's (${best.run.name}) is drawn.`);
    withMatrix = [best];
  }
  return withMatrix.map(({ run, c }) => {
    const split = c.split === 'test' ? 'test' : 'validation';
    return {
      id: ids.take(`${id}-confusion${runs.length > 1 ? `-${run.name}` : ''}`),
      title: runs.length > 1 ? `Confusion matrix: ${run.name} (${split})` : `Confusion matrix (${split})`,
      caption: `Rows are the true class, columns what the final model predicted on the ${split} split; each row's shares sum to 100%, so the diagonal is each class's accuracy.`,
      spec: withDefaults({
        width: 26 * c.classNames.length,
        height: 26 * c.classNames.length,
        data: values(confusionCells(c)),
        encoding: {
          x: { field: 'predicted', type: 'nominal', sort: c.classNames, axis: { labelAngle: -45, orient: 'top' } },
          y: { field: 'actual', type: 'nominal', sort: c.classNames, title: 'true class' },
        },
        layer: [
          {
            mark: { type: 'rect', tooltip: true },
            encoding: {
              color: { field: 'share', type: 'quantitative', title: 'share of row', scale: { scheme: 'blues', domain: [0, 1] }, legend: { format: '.0%' } },
              tooltip: [
                { field: 'actual', type: 'nominal', title: 'true class' },
                { field: 'predicted', type: 'nominal' },
                { field: 'count', type: 'quantitative', title: 'images' },
                { field: 'share', type: 'quantitative', format: '.1%' },
              ],
            },
          },
          {
            transform: [{ filter: 'datum.share >= 0.01' }],
            mark: { type: 'text', fontSize: 9 },
            encoding: {
              text: { field: 'share', type: 'quantitative', format: '.0%' },
              color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: '#222' },
            },
          },
        ],
      }),
    };
  });
}

/**
 * A pruning run's per-class validation accuracy, original against pruned;
 * null for a run from before matrices were recorded, or matrices that do not
 * fit the class names or the same images.
 */
export function pruningClassChanges(run: RunRecord): ClassAccuracyChange[] | null {
  const s = run.summary;
  if (!s) return null;
  const names = classNamesOf(s);
  const m = (s.confusion ?? {}) as { original?: unknown; pruned?: unknown };
  if (!names || !isConfusion(m.original, names.length) || !isConfusion(m.pruned, names.length)) return null;
  const total = (row: readonly number[]) => row.reduce((a, b) => a + b, 0);
  const pruned = m.pruned;
  if (m.original.some((row, i) => total(row) !== total(pruned[i]!))) return null;
  return classAccuracyChanges(m.original, pruned, names);
}

/** Per-class accuracy before and after pruning, the classes that lost most first (its id is the section's to give). */
export function classChangeChart(run: RunRecord, label: string | null): Omit<ReportChart, 'id'> | null {
  const changes = pruningClassChanges(run)?.filter((c): c is ClassAccuracyChange & { before: number; after: number; change: number } => c.change !== null);
  if (!changes || changes.length === 0) return null;
  const order = [...changes].sort((a, b) => a.change - b.change || a.name.localeCompare(b.name)).map((c) => c.name);
  const y = { field: 'class', type: 'nominal', sort: order, title: null };
  return {
    title: label ? `Accuracy per class, original against pruned: ${label}` : 'Accuracy per class, original against pruned',
    caption: 'Validation accuracy of each class in the original model (grey) and after pruning and fine-tuning (blue); the classes that lost most are at the top. The overall change can hide a class that lost far more.',
    spec: withDefaults({
      height: Math.max(120, 22 * changes.length),
      layer: [
        {
          data: values(changes.map((c) => ({ class: c.name, before: c.before, after: c.after, change: c.change, images: c.images }))),
          mark: { type: 'rule', strokeWidth: 2, tooltip: true },
          encoding: {
            y,
            x: { field: 'before', type: 'quantitative', title: 'validation accuracy', axis: { format: '.0%' }, scale: { zero: false, padding: 8 } },
            x2: { field: 'after' },
            color: { condition: { test: 'datum.change < 0', value: '#e45756' }, value: '#54a24b' },
            tooltip: [
              { field: 'class', type: 'nominal' },
              { field: 'images', type: 'quantitative' },
              { field: 'before', type: 'quantitative', title: 'original', format: '.1%' },
              { field: 'after', type: 'quantitative', title: 'pruned', format: '.1%' },
              { field: 'change', type: 'quantitative', format: '+.1%' },
            ],
          },
        },
        {
          data: values(changes.flatMap((c) => [
            { class: c.name, model: 'original', accuracy: c.before },
            { class: c.name, model: 'pruned', accuracy: c.after },
          ])),
          mark: { type: 'point', filled: true, size: 60, opacity: 1, tooltip: true },
          encoding: {
            y,
            x: { field: 'accuracy', type: 'quantitative' },
            color: { field: 'model', type: 'nominal', title: null, sort: ['original', 'pruned'], scale: { range: ['#9d9d9d', '#4c78a8'] } },
          },
        },
      ],
    }),
  };
}
