import { formatCompact, formatDuration, formatRate } from '../util/format.js';
import { values, withDefaults, ZOOM } from './chart-specs.js';
import type { IdSet, ReportChart, ReportSection, ReportTable } from './report-model.js';
import { confusionCharts } from './class-charts.js';
import type { RunRecord } from './run-files.js';
import { fixed, num, numCell, pct, str, text } from './table-cells.js';

export interface CurvePoint {
  run: string;
  epoch: number;
  split: 'train' | 'validation';
  value: number;
}

/** Loss or accuracy per epoch, training and (where measured) validation, for every run. */
export function curvePoints(runs: readonly RunRecord[], metric: 'loss' | 'accuracy'): CurvePoint[] {
  return runs.flatMap((r) =>
    r.metrics.flatMap((m) => {
      const points: CurvePoint[] = [{ run: r.name, epoch: m.epoch, split: 'train', value: m[metric] }];
      const val = metric === 'loss' ? m.val_loss : m.val_accuracy;
      if (val !== null) points.push({ run: r.name, epoch: m.epoch, split: 'validation', value: val });
      return points;
    }),
  );
}

/** Learning rate at the end of each epoch (runs that recorded it). */
export function learningRatePoints(runs: readonly RunRecord[]): { run: string; epoch: number; lr: number }[] {
  return runs.flatMap((r) => r.metrics.flatMap((m) => (m.lr === null ? [] : [{ run: r.name, epoch: m.epoch, lr: m.lr }])));
}

export function speedPoints(runs: readonly RunRecord[]): { run: string; epoch: number; images_per_s: number }[] {
  return runs.flatMap((r) => r.metrics.map((m) => ({ run: r.name, epoch: m.epoch, images_per_s: m.images_per_s })));
}

/**
 * Training runs: curves (overlaid when there are several runs), learning
 * rate, throughput and a table of final figures. A run with fewer than two
 * epochs has no curve, and the section says so instead of drawing one.
 */
export function trainingSection(runs: readonly RunRecord[], ids: IdSet): ReportSection {
  const id = ids.take(runs.length === 1 ? 'training' : 'training-runs');
  const notes: string[] = [];
  for (const r of runs) {
    if (r.metrics.length === 0) notes.push(`${r.name}: no epoch has finished, so there is nothing to draw for it.`);
    else if (r.metrics.length === 1) notes.push(`${r.name}: only one epoch, so its curves are single points, not lines.`);
    if (r.summary === null) notes.push(`${r.name}: the run has not finished (no summary.json): it is still running, or it stopped.`);
  }
  const drawable = runs.filter((r) => r.metrics.length > 0);
  const charts: ReportChart[] = [];
  if (drawable.some((r) => r.metrics.length >= 2)) {
    const several = runs.length > 1;
    const curve = (metric: 'loss' | 'accuracy'): ReportChart => ({
      id: `${id}-${metric}`,
      title: metric === 'loss' ? 'Loss per epoch' : 'Accuracy per epoch',
      caption: several
        ? 'Solid lines are training, dashed are validation; one colour per run.'
        : 'Training against validation: a widening gap is overfitting.',
      spec: withDefaults({
        data: values(curvePoints(drawable, metric)),
        mark: { type: 'line', point: true, tooltip: true },
        params: [ZOOM],
        encoding: {
          x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 }, scale: { padding: 6, nice: false } },
          y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false, padding: 6 } },
          color: several ? { field: 'run', type: 'nominal', legend: { symbolType: 'stroke' } } : { field: 'split', type: 'nominal', title: null, legend: { symbolType: 'stroke' } },
          // A line symbol needs its stroke set in the legend's own encoding, or it is invisible.
          strokeDash: { field: 'split', type: 'nominal', title: null, legend: { symbolType: 'stroke', encode: { symbols: { update: { stroke: { value: '#555' } } } } } },
          ...(several && { detail: { field: 'split' } }),
        },
      }),
    });
    charts.push(curve('loss'), curve('accuracy'));
    const lr = learningRatePoints(drawable);
    if (lr.length > 0) {
      charts.push({
        id: `${id}-learning-rate`,
        title: 'Learning rate',
        caption: 'At the end of each epoch, as the schedule set it.',
        spec: withDefaults({
          data: values(lr),
          mark: { type: 'line', point: true, tooltip: true },
          encoding: {
            x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 }, scale: { padding: 6, nice: false } },
            y: { field: 'lr', type: 'quantitative', title: 'learning rate', axis: { format: '.2~e' } },
            ...(several && { color: { field: 'run', type: 'nominal' } }),
          },
        }),
      });
    }
    charts.push({
      id: `${id}-speed`,
      title: 'Training speed',
      caption: 'Training images per second in each epoch (training steps only).',
      spec: withDefaults({
        data: values(speedPoints(drawable)),
        mark: { type: 'line', point: true, tooltip: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
          y: { field: 'images_per_s', type: 'quantitative', title: 'images/s' },
          ...(several && { color: { field: 'run', type: 'nominal' } }),
        },
      }),
    });
  } else if (drawable.length > 0) {
    notes.unshift('No run has two epochs or more: there are no curves to draw, only the figures below.');
  }
  charts.push(...confusionCharts(runs, id, ids, notes));
  return {
    id,
    title: runs.length === 1 ? `Training run ${runs[0]!.name}` : `Training runs (${runs.length})`,
    notes,
    charts,
    tables: [finalTable(runs, `${id}-final`)],
  };
}

/** One row per run: what it reached and what it cost. */
export function finalTable(runs: readonly RunRecord[], id: string): ReportTable {
  const columns = [
    ['run', false],
    ['model', false],
    ['epochs', true],
    ['val accuracy', true],
    ['val loss', true],
    ['test accuracy', true],
    ['params', true],
    ['FLOPs/image', true],
    ['train images/s', true],
    ['time', true],
    ['backend', false],
    ['status', false],
  ] as const;
  const rows = runs.map((r) => {
    const s = r.summary ?? {};
    const last = r.metrics.at(-1);
    const final = (s.final ?? {}) as Record<string, { accuracy?: number; loss?: number } | undefined>;
    const config = (r.config.config ?? {}) as Record<string, unknown>;
    const model = str(s.model) ?? str(config.model);
    const valAcc = num(final.val?.accuracy) ?? last?.val_accuracy ?? null;
    const valLoss = num(final.val?.loss) ?? last?.val_loss ?? null;
    const testAcc = num(final.test?.accuracy);
    const params = num(s.params);
    const flops = num(s.flops_per_image);
    const rate = num(s.train_images_per_s) ?? (r.metrics.length ? r.metrics.reduce((n, m) => n + m.images_per_s, 0) / r.metrics.length : null);
    const seconds = num(s.total_seconds) ?? (r.metrics.length ? r.metrics.reduce((n, m) => n + m.seconds, 0) : null);
    const stopped = num(s.stopped_early);
    const status = r.summary === null ? 'not finished' : stopped !== null ? `stopped early (epoch ${stopped})` : 'complete';
    return {
      cells: [
        text(r.name),
        text(model ?? '—'),
        numCell(r.metrics.length, String(r.metrics.length)),
        numCell(valAcc, pct(valAcc)),
        numCell(valLoss, fixed(valLoss, 4)),
        numCell(testAcc, pct(testAcc)),
        numCell(params, params === null ? '—' : formatCompact(params)),
        numCell(flops, flops === null ? '—' : formatCompact(flops)),
        numCell(rate, rate === null ? '—' : formatRate(rate)),
        numCell(seconds, seconds === null ? '—' : formatDuration(seconds)),
        text(str(s.backend) ?? str(r.config.backend) ?? '—'),
        text(status),
      ],
    };
  });
  return { id, caption: 'Final figures (accuracy on the split the run reports; test only when the run had one)', columns: columns.map(([label, numeric]) => ({ label, numeric })), rows, sortable: runs.length > 1 };
}
