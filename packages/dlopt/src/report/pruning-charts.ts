import { formatCompact, formatRate } from '../util/format.js';
import { values, withDefaults } from './chart-specs.js';
import { classChangeChart } from './class-charts.js';
import type { IdSet, ReportChart, ReportSection, ReportTable } from './report-model.js';
import type { RunRecord } from './run-files.js';
import { num, numCell, pct, text } from './table-cells.js';

export interface SparsityPoint {
  run: string;
  /** Share of prunable weights (magnitude) or of channels (structured) removed. */
  sparsity: number;
  accuracy: number;
  stage: 'original' | 'pruned' | 'fine-tuned';
  step: number;
}

/** What a pruning run's summary.json holds that the report draws (see runner/run-pruning.ts). */
interface PruneSummary {
  method?: string;
  sparsity?: number;
  original?: Record<string, unknown>;
  pruned?: Record<string, unknown>;
  steps?: { step: number; achieved: number; pruned_accuracy: number | null; val_accuracy: number }[];
  layers?: ({ layer: string; before: number; after: number } | { layer: string; size: number; zeros: number })[];
  speedup?: number;
  accuracy_change?: number;
}

function summaryOf(run: RunRecord): PruneSummary {
  return (run.summary ?? {}) as PruneSummary;
}

/** The label a pruning run goes by: its directory and what it did ("prune-l1 (l1, −50%)"). */
export function pruneLabel(run: RunRecord): string {
  const s = summaryOf(run);
  return s.method && s.sparsity !== undefined ? `${run.name} (${s.method}, −${Math.round(s.sparsity * 100)}%)` : run.name;
}

/**
 * Accuracy against sparsity: the original at 0, then each step right after
 * pruning and after fine-tuning. Several runs (a sweep of targets) draw one
 * trade-off curve each.
 */
export function sparsityPoints(runs: readonly RunRecord[]): SparsityPoint[] {
  return runs.flatMap((r) => {
    const s = summaryOf(r);
    const base = num(s.original?.val_accuracy);
    const points: SparsityPoint[] = base === null ? [] : [{ run: pruneLabel(r), sparsity: 0, accuracy: base, stage: 'original', step: 0 }];
    for (const step of s.steps ?? []) {
      if (step.pruned_accuracy !== null) points.push({ run: pruneLabel(r), sparsity: step.achieved, accuracy: step.pruned_accuracy, stage: 'pruned', step: step.step });
      points.push({ run: pruneLabel(r), sparsity: step.achieved, accuracy: step.val_accuracy, stage: 'fine-tuned', step: step.step });
    }
    return points;
  });
}

export interface FineTunePoint {
  run: string;
  /** Fine-tuning epochs counted across steps (each step's epochs restart at 1 in metrics.jsonl). */
  epoch: number;
  step: number;
  split: 'train' | 'validation';
  accuracy: number;
}

/** Accuracy through fine-tuning, epoch by epoch across the steps (a step's line ends where the next pruning cuts in). */
export function fineTunePoints(runs: readonly RunRecord[]): FineTunePoint[] {
  return runs.flatMap((r) =>
    r.metrics.flatMap((m, i) => {
      const step = m.step ?? 1;
      const points: FineTunePoint[] = [{ run: pruneLabel(r), epoch: i + 1, step, split: 'train', accuracy: m.accuracy }];
      if (m.val_accuracy !== null) points.push({ run: pruneLabel(r), epoch: i + 1, step, split: 'validation', accuracy: m.val_accuracy });
      return points;
    }),
  );
}

export interface LayerPoint {
  layer: string;
  /** Channels or units (structured), or kept share of weights in % (magnitude). */
  value: number;
  stage: 'before' | 'after';
}

/** Per-layer widths before and after (structured), or weight sparsity per kernel (magnitude). */
export function layerPoints(run: RunRecord): { kind: 'width' | 'sparsity'; points: LayerPoint[] } {
  const layers = summaryOf(run).layers ?? [];
  if (layers.length > 0 && 'before' in layers[0]!) {
    const widths = layers as { layer: string; before: number; after: number }[];
    return { kind: 'width', points: widths.flatMap((l) => [{ layer: l.layer, value: l.before, stage: 'before' as const }, { layer: l.layer, value: l.after, stage: 'after' as const }]) };
  }
  const kernels = layers as { layer: string; size: number; zeros: number }[];
  return { kind: 'sparsity', points: kernels.map((l) => ({ layer: l.layer, value: l.size ? l.zeros / l.size : 0, stage: 'after' as const })) };
}

export function pruningSection(runs: readonly RunRecord[], ids: IdSet): ReportSection {
  const id = ids.take(runs.length === 1 ? `pruning-${runs[0]!.name}` : 'pruning-runs');
  const notes: string[] = [];
  const charts: ReportChart[] = [];
  const finished = runs.filter((r) => r.summary !== null);
  for (const r of runs) if (r.summary === null) notes.push(`${r.name}: the pruning run has not finished (no summary.json), so it has no figures yet.`);
  const tradeoff = sparsityPoints(finished);
  if (tradeoff.some((p) => p.stage !== 'original')) {
    charts.push({
      id: `${id}-accuracy-vs-sparsity`,
      title: 'Accuracy against sparsity',
      caption: 'Validation accuracy of the original (at 0), of each step right after pruning (hollow) and after fine-tuning (filled).',
      spec: withDefaults({
        data: values(tradeoff),
        layer: [
          {
            transform: [{ filter: "datum.stage !== 'pruned'" }],
            mark: { type: 'line', point: { filled: true, size: 60 }, tooltip: true },
            encoding: {
              x: { field: 'sparsity', type: 'quantitative', axis: { format: '.0%' }, title: 'sparsity (share removed)', scale: { padding: 8, nice: false } },
              y: { field: 'accuracy', type: 'quantitative', axis: { format: '.0%' }, title: 'validation accuracy', scale: { zero: false } },
              color: { field: 'run', type: 'nominal', title: null, legend: { labelLimit: 320 } },
            },
          },
          {
            transform: [{ filter: "datum.stage === 'pruned'" }],
            mark: { type: 'point', filled: false, size: 60, tooltip: true },
            encoding: {
              x: { field: 'sparsity', type: 'quantitative' },
              y: { field: 'accuracy', type: 'quantitative' },
              color: { field: 'run', type: 'nominal', title: null },
            },
          },
        ],
      }),
    });
  } else if (finished.length > 0) {
    notes.push('No pruning step was recorded, so there is no accuracy-against-sparsity curve.');
  }
  const fineTune = fineTunePoints(runs);
  if (fineTune.length > 0) {
    const several = runs.length > 1;
    charts.push({
      id: ids.take(`${id}-fine-tuning`),
      title: 'Accuracy through fine-tuning',
      caption: 'Each step’s fine-tuning epochs in order; a line breaks where the next step prunes. Solid is training, dashed validation.',
      spec: withDefaults({
        data: values(fineTune),
        mark: { type: 'line', point: true, tooltip: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', title: 'fine-tuning epoch', axis: { tickMinStep: 1 }, scale: { padding: 6, nice: false } },
          y: { field: 'accuracy', type: 'quantitative', axis: { format: '.0%' }, scale: { zero: false, padding: 6 } },
          color: several ? { field: 'run', type: 'nominal', title: null, legend: { labelLimit: 320 } } : { field: 'split', type: 'nominal', title: null },
          strokeDash: { field: 'split', type: 'nominal', title: null, legend: { symbolType: 'stroke', encode: { symbols: { update: { stroke: { value: '#555' } } } } } },
          detail: { field: 'step' },
        },
      }),
    });
  }
  for (const r of finished) {
    const { kind, points } = layerPoints(r);
    if (points.length === 0) continue;
    const layerOrder = [...new Set(points.map((p) => p.layer))];
    charts.push({
      id: ids.take(`${id}-layers${finished.length > 1 ? `-${r.name}` : ''}`),
      title: kind === 'width' ? `Layer widths before and after${finished.length > 1 ? `: ${pruneLabel(r)}` : ''}` : `Weight sparsity per layer${finished.length > 1 ? `: ${pruneLabel(r)}` : ''}`,
      caption: kind === 'width' ? 'Filters or units of each layer in the original and the pruned model.' : 'Share of each kernel’s weights that are zero in the pruned model.',
      spec: withDefaults({
        width: Math.max(300, 36 * layerOrder.length),
        data: values(points),
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'layer', type: 'nominal', sort: layerOrder, title: null, axis: { labelAngle: -40 } },
          y:
            kind === 'width'
              ? { field: 'value', type: 'quantitative', title: 'filters / units' }
              : { field: 'value', type: 'quantitative', title: 'weights removed', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
          ...(kind === 'width' && {
            xOffset: { field: 'stage', sort: ['before', 'after'] },
            color: { field: 'stage', type: 'nominal', sort: ['before', 'after'], scale: { range: ['#9ecae9', '#4c78a8'] }, title: null },
          }),
        },
      }),
    });
  }
  for (const r of finished) {
    const chart = classChangeChart(r, finished.length > 1 ? pruneLabel(r) : null);
    if (chart) charts.push({ ...chart, id: ids.take(`${id}-classes${finished.length > 1 ? `-${r.name}` : ''}`) });
  }
  return {
    id,
    title: runs.length === 1 ? `Pruning run ${pruneLabel(runs[0]!)}` : `Pruning runs (${runs.length})`,
    notes,
    charts,
    tables: finished.map((r) => comparisonTable(r, ids.take(`${id}-table${finished.length > 1 ? `-${r.name}` : ''}`))),
  };
}

/** Original against pruned: size, FLOPs, speed and accuracy, with the change. */
export function comparisonTable(run: RunRecord, id: string): ReportTable {
  const s = summaryOf(run);
  const o = s.original ?? {};
  const p = s.pruned ?? {};
  const files = (m: Record<string, unknown>) => (m.files ?? {}) as Record<string, unknown>;
  const bytes = (n: number | null) => (n === null ? '—' : n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} kB`);
  type Row = [label: string, before: number | null, after: number | null, show: (n: number | null) => string, change: 'ratio' | 'points'];
  const count = (n: number | null) => (n === null ? '—' : formatCompact(n));
  const rows: Row[] = [
    ['parameters', num(o.params), num(p.params), count, 'ratio'],
    ['nonzero parameters', num(o.nonzeroParams), num(p.nonzeroParams), count, 'ratio'],
    ['FLOPs per image', num(o.flops), num(p.flops), count, 'ratio'],
    ['FLOPs per image, zeros skipped', num(o.sparseFlops), num(p.sparseFlops), count, 'ratio'],
    ['weights.bin', num(files(o).weights), num(files(p).weights), bytes, 'ratio'],
    ['weights.bin, gzipped', num(files(o).weights_gzip), num(files(p).weights_gzip), bytes, 'ratio'],
    ['weights.sparse.bin', num(files(o).sparse_weights), num(files(p).sparse_weights), bytes, 'ratio'],
    ['images/s (inference)', num(o.images_per_s), num(p.images_per_s), (n) => (n === null ? '—' : formatRate(n)), 'ratio'],
    ['validation accuracy', num(o.val_accuracy), num(p.val_accuracy), pct, 'points'],
  ];
  return {
    id,
    caption: `Original against pruned (${pruneLabel(run)}); images/s of both measured in the same process`,
    columns: [
      { label: 'measure', numeric: false },
      { label: 'original', numeric: true },
      { label: 'pruned', numeric: true },
      { label: 'change', numeric: true },
    ],
    rows: rows.map(([label, before, after, show, change]) => {
      const delta =
        before === null || after === null
          ? null
          : change === 'points'
            ? (after - before) * 100
            : before === 0
              ? null
              : after / before;
      const deltaText = delta === null ? '—' : change === 'points' ? `${delta >= 0 ? '+' : ''}${delta.toFixed(2)} pts` : `×${delta.toFixed(2)}`;
      return { cells: [text(label), numCell(before, show(before)), numCell(after, show(after)), numCell(delta, deltaText)] };
    }),
    sortable: false,
  };
}
