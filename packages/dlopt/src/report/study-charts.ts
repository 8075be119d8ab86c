import { paramImportances } from '../tune/param-importance.js';
import type { ParamImportance } from '../tune/param-importance.js';
import type { Distribution, ParamValue } from '../tune/distributions.js';
import type { Direction, FrozenTrial } from '../tune/trial-state.js';
import { bestTrial, countStates } from '../tune/trial-state.js';
import { formatDuration, formatParam } from '../util/format.js';
import { values, withDefaults, ZOOM } from './chart-specs.js';
import { contourAxis, contourMap } from './contour-map.js';
import type { ContourAxis, ContourMap } from './contour-map.js';
import type { IdSet, ReportChart, ReportSection, ReportTable } from './report-model.js';
import { numCell, text } from './table-cells.js';

/** A study as the report reads it from its storage. */
export interface StudyData {
  name: string;
  direction: Direction;
  /** What the values measure (val_accuracy…); null for a study dlopt tune did not create. */
  metric: string | null;
  /** In number order. */
  trials: FrozenTrial[];
}

const finished = (t: FrozenTrial): t is FrozenTrial & { value: number } => t.state === 'COMPLETE' && t.value !== null && Number.isFinite(t.value);

export interface HistoryPoint {
  trial: number;
  value: number;
  /** The best value of the trials up to and including this one. */
  best: number;
}

/** Completed trials' values in trial order, with the best so far (Optuna's optimization history). */
export function historyPoints(study: StudyData): HistoryPoint[] {
  const better = (a: number, b: number) => (study.direction === 'minimize' ? a < b : a > b);
  let best: number | undefined;
  return study.trials.filter(finished).map((t) => {
    if (best === undefined || better(t.value, best)) best = t.value;
    return { trial: t.number, value: t.value, best };
  });
}

/** Parameters in the order they first appear, with the distribution they were sampled from. */
export function studyParams(trials: readonly FrozenTrial[]): { name: string; distribution: Distribution }[] {
  const seen = new Map<string, Distribution>();
  for (const t of trials) for (const [name, d] of Object.entries(t.distributions)) if (!seen.has(name)) seen.set(name, d);
  return [...seen].map(([name, distribution]) => ({ name, distribution }));
}

export interface ParallelPoint {
  trial: number;
  axis: string;
  /** Position on the axis, 0 to 1: scaled over the distribution's range (log ranges on a log scale), categories evenly spaced. */
  position: number;
  /** The value itself, for tooltips. */
  label: string;
  objective: number;
}

/**
 * One polyline per completed trial across an axis per parameter and a last
 * axis for the objective. Positions are computed here, not in the chart, so
 * a log-scaled rate and a category share one 0–1 scale.
 */
export function parallelPoints(study: StudyData, metric: string): ParallelPoint[] {
  const params = studyParams(study.trials);
  const done = study.trials.filter(finished);
  const lo = Math.min(...done.map((t) => t.value));
  const hi = Math.max(...done.map((t) => t.value));
  return done.flatMap((t) => [
    ...params.flatMap(({ name, distribution }) =>
      name in t.params ? [{ trial: t.number, axis: name, position: axisPosition(t.params[name]!, distribution), label: formatParam(t.params[name]!), objective: t.value }] : [],
    ),
    { trial: t.number, axis: metric, position: hi > lo ? (t.value - lo) / (hi - lo) : 0.5, label: formatValue(t.value), objective: t.value },
  ]);
}

/** Labels along each parallel-coordinates axis: its range's ends (and middle), every category, the objective's range. */
export function parallelTicks(study: StudyData, metric: string): { axis: string; position: number; label: string }[] {
  const ticks = studyParams(study.trials).flatMap(({ name, distribution: d }) => {
    if (d.type === 'categorical') return d.choices.map((c) => ({ axis: name, position: axisPosition(c, d), label: formatParam(c) }));
    const mid = d.log ? Math.sqrt(d.low * d.high) : (d.low + d.high) / 2;
    return [d.low, mid, d.high].map((v) => ({ axis: name, position: axisPosition(v, d), label: formatParam(d.type === 'int' && !d.log ? Math.round(v) : v) }));
  });
  const done = study.trials.filter(finished).map((t) => t.value);
  if (done.length > 0) {
    const lo = Math.min(...done);
    const hi = Math.max(...done);
    const ends = hi > lo ? [[lo, 0] as const, [hi, 1] as const] : [[lo, 0.5] as const];
    ticks.push(...ends.map(([v, position]) => ({ axis: metric, position, label: formatValue(v) })));
  }
  return ticks;
}

export function axisPosition(value: ParamValue, d: Distribution): number {
  if (d.type === 'categorical') {
    const i = d.choices.findIndex((c) => c === value);
    return d.choices.length > 1 ? Math.max(0, i) / (d.choices.length - 1) : 0.5;
  }
  const v = Number(value);
  if (d.high <= d.low) return 0.5;
  const p = d.log ? (Math.log(v) - Math.log(d.low)) / (Math.log(d.high) - Math.log(d.low)) : (v - d.low) / (d.high - d.low);
  return Math.min(1, Math.max(0, p));
}

/** One parameter's value against the objective, for each completed trial. */
export function slicePoints(study: StudyData, param: string): { trial: number; x: ParamValue; value: number }[] {
  return study.trials.filter(finished).flatMap((t) => (param in t.params ? [{ trial: t.number, x: t.params[param]!, value: t.value }] : []));
}

export interface IntermediatePoint {
  trial: number;
  step: number;
  value: number;
  state: string;
  /** The last value a pruned trial reported: where the pruner stopped it. */
  prunedHere: boolean;
}

/**
 * Contour maps for the pairs of the (up to) three most important parameters,
 * most important on x; in study order when importance could not be computed.
 */
export function contourMaps(study: StudyData, params: ReturnType<typeof studyParams>, importance: readonly ParamImportance[]): ContourMap[] {
  const rank = new Map(importance.map((p, i) => [p.name, i]));
  const axes = [...params]
    .sort((a, b) => (rank.get(a.name) ?? Infinity) - (rank.get(b.name) ?? Infinity))
    .flatMap((p) => contourAxis(p.name, p.distribution) ?? [])
    .slice(0, 3);
  const done = study.trials.filter(finished);
  return axes.flatMap((x, i) => axes.slice(i + 1).flatMap((y) => contourMap(done, x, y) ?? []));
}

function contourChart(map: ContourMap, prefix: string, ids: IdSet, metric: string, direction: Direction): ReportChart {
  const position = (axis: ContourAxis, field: 'x' | 'y') =>
    axis.categorical
      ? { field, type: 'nominal', title: axis.name, sort: axis.categories, ...(field === 'x' ? { axis: { labelAngle: 0 } } : {}) }
      : { field, type: 'quantitative', title: axis.name, scale: { type: axis.log ? 'log' : 'linear', domain: [axis.edges[0], axis.edges.at(-1)], nice: false, ...(axis.log ? {} : { zero: false }) } };
  const span = (axis: ContourAxis, field: 'x2' | 'y2') => (axis.categorical ? {} : { [field]: { field } });
  const color = { field: 'value', type: 'quantitative', title: metric, scale: { scheme: 'viridis', reverse: direction === 'minimize' } };
  return {
    id: ids.take(`${prefix}-${map.x.name}-${map.y.name}`),
    title: `Contour: ${map.x.name} × ${map.y.name}`,
    caption: `${metric} over ${map.x.name} and ${map.y.name}: cells with trials (dots) hold their mean; the others are interpolated between them, never beyond the values measured.`,
    spec: withDefaults({
      width: 320,
      height: 260,
      layer: [
        {
          data: values(map.cells),
          mark: { type: 'rect', tooltip: true },
          encoding: {
            x: position(map.x, 'x'),
            ...span(map.x, 'x2'),
            y: position(map.y, 'y'),
            ...span(map.y, 'y2'),
            color,
            tooltip: [{ field: 'value', type: 'quantitative', title: metric, format: '.4f' }, { field: 'measured', type: 'nominal', title: 'has trials' }],
          },
        },
        {
          data: values(map.points),
          mark: { type: 'point', filled: true, color: 'white', stroke: '#222', strokeWidth: 1, size: 36, opacity: 1, tooltip: true },
          encoding: {
            x: position(map.x, 'x'),
            y: position(map.y, 'y'),
            tooltip: [
              { field: 'trial', type: 'quantitative' },
              { field: 'x', type: map.x.categorical ? 'nominal' : 'quantitative', title: map.x.name },
              { field: 'y', type: map.y.categorical ? 'nominal' : 'quantitative', title: map.y.name },
              { field: 'value', type: 'quantitative', title: metric, format: '.4f' },
            ],
          },
        },
      ],
    }),
  };
}

/** Values each trial reported per step (epoch): the learning curves the pruner judged. */
export function intermediatePoints(trials: readonly FrozenTrial[]): IntermediatePoint[] {
  return trials.flatMap((t) => {
    const steps = Object.keys(t.intermediate)
      .map(Number)
      .sort((a, b) => a - b)
      .filter((s) => Number.isFinite(t.intermediate[s]!));
    return steps.map((step, i) => ({
      trial: t.number,
      step,
      value: t.intermediate[step]!,
      state: t.state,
      prunedHere: t.state === 'PRUNED' && i === steps.length - 1,
    }));
  });
}

/**
 * A study: the best trial first, then history, parallel coordinates,
 * importance, slices, learning curves and the trials table. What cannot be
 * drawn yet (no trials, none complete) is said in a note instead.
 */
export function studySection(study: StudyData, ids: IdSet): ReportSection {
  const id = ids.take(`study-${study.name}`);
  const metric = study.metric ?? 'value';
  const notes: string[] = [];
  const charts: ReportChart[] = [];
  const counts = countStates(study.trials);
  const section: ReportSection = { id, title: `Study ${study.name}`, notes, charts, tables: [] };
  if (study.trials.length === 0) {
    notes.push(`Study '${study.name}' has no trials yet: there is nothing to draw. Run dlopt tune on it first.`);
    return section;
  }
  notes.push(`${study.trials.length} trial${study.trials.length === 1 ? '' : 's'} (${counts}); ${study.direction} ${metric}.`);
  const best = bestTrial(study.trials, study.direction);
  if (best) {
    section.highlights = {
      title: `Best trial: #${best.number}, ${metric} ${formatValue(best.value!)}`,
      items: Object.entries(best.params).map(([label, v]) => ({ label, value: formatParam(v) })),
    };
  }
  const done = study.trials.filter(finished);
  if (done.length === 0) {
    notes.push('No trial has completed yet: the history, parameter and importance charts need completed trials.');
  } else {
    charts.push({
      id: `${id}-history`,
      title: 'Optimization history',
      caption: `Each completed trial's ${metric}; the line is the best so far.`,
      spec: withDefaults({
        data: values(historyPoints(study)),
        layer: [
          {
            // In one layer only: a layered spec's params would repeat in each and clash.
            params: [ZOOM],
            mark: { type: 'point', filled: true, tooltip: true },
            encoding: {
              x: { field: 'trial', type: 'quantitative', axis: { tickMinStep: 1 } },
              y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
              color: { value: '#4c78a8' },
            },
          },
          {
            mark: { type: 'line', interpolate: 'step-after', color: '#e45756' },
            encoding: { x: { field: 'trial', type: 'quantitative' }, y: { field: 'best', type: 'quantitative' } },
          },
        ],
      }),
    });
    const params = studyParams(study.trials);
    if (params.length > 0) {
      const axes = [...params.map((p) => p.name), metric];
      charts.push({
        id: `${id}-parallel`,
        title: 'Parallel coordinates',
        caption: `One line per completed trial across its parameters and ${metric} (each axis scaled to its search range; log ranges on a log scale); colour is ${metric}.`,
        spec: withDefaults({
          width: Math.max(440, 120 * (params.length + 1)),
          layer: [
            {
              data: values(parallelPoints(study, metric)),
              mark: { type: 'line', tooltip: true, opacity: 0.7 },
              encoding: {
                x: { field: 'axis', type: 'nominal', sort: axes, title: null, axis: { labelAngle: 0, grid: true, labelFontWeight: 'bold' } },
                y: { field: 'position', type: 'quantitative', axis: null, scale: { domain: [0, 1] } },
                detail: { field: 'trial', type: 'nominal' },
                color: { field: 'objective', type: 'quantitative', title: metric, scale: { scheme: 'viridis', reverse: study.direction === 'minimize' } },
                tooltip: [
                  { field: 'trial', type: 'quantitative' },
                  { field: 'axis', type: 'nominal', title: 'parameter' },
                  { field: 'label', type: 'nominal', title: 'value' },
                ],
              },
            },
            {
              data: values(parallelTicks(study, metric)),
              mark: { type: 'text', align: 'right', dx: -4, fontSize: 10, color: '#444' },
              encoding: {
                x: { field: 'axis', type: 'nominal', sort: axes },
                y: { field: 'position', type: 'quantitative' },
                text: { field: 'label' },
              },
            },
          ],
        }),
      });
      const importance = paramImportances(study.trials);
      if (importance.length > 0 && importance.some((p) => p.importance > 0)) {
        charts.push({
          id: `${id}-importance`,
          title: 'Parameter importance',
          caption: `How much of the variation in ${metric} each parameter explains (mean decrease in impurity of a random forest fitted to the completed trials).`,
          spec: withDefaults({
            height: Math.max(60, 28 * importance.length),
            data: values(importance),
            mark: { type: 'bar', tooltip: true, color: '#54a24b' },
            encoding: {
              y: { field: 'name', type: 'nominal', sort: '-x', title: null },
              x: { field: 'importance', type: 'quantitative', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
            },
          }),
        });
      } else {
        notes.push('Parameter importance needs at least two completed trials whose values differ.');
      }
      const maps = contourMaps(study, params, importance);
      for (const map of maps) charts.push(contourChart(map, `${id}-contour`, ids, metric, study.direction));
      if (maps.length === 0 && params.length >= 2) notes.push('Contour plots need at least 3 completed trials that spread over two parameters.');
      for (const { name, distribution } of params) {
        const points = slicePoints(study, name);
        if (points.length === 0) continue;
        const categorical = distribution.type === 'categorical';
        charts.push({
          id: ids.take(`${id}-slice-${name}`),
          title: `Slice: ${name}`,
          caption: `${metric} against ${name} for each completed trial; later trials are darker.`,
          spec: withDefaults({
            width: 300,
            height: 200,
            data: values(points),
            mark: { type: 'point', filled: true, tooltip: true, size: 50 },
            encoding: {
              x: categorical
                ? { field: 'x', type: 'nominal', title: name, axis: { labelAngle: 0 }, sort: distribution.choices.map(String) }
                : { field: 'x', type: 'quantitative', title: name, scale: distribution.log ? { type: 'log' } : { zero: false } },
              y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
              // Light enough to tell early from late, dark enough to see the earliest on white.
              color: { field: 'trial', type: 'quantitative', scale: { range: ['#9ecae1', '#08306b'] }, legend: null },
            },
          }),
        });
      }
    }
  }
  const curves = intermediatePoints(study.trials);
  if (curves.length > 0) {
    charts.push({
      id: `${id}-intermediate`,
      title: 'Intermediate values',
      caption: `${metric} each trial reported per epoch; a cross marks where the pruner stopped a trial.`,
      spec: withDefaults({
        data: values(curves),
        layer: [
          {
            params: [ZOOM],
            mark: { type: 'line', point: true, tooltip: true, opacity: 0.8 },
            encoding: {
              x: { field: 'step', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
              y: { field: 'value', type: 'quantitative', title: metric, scale: { zero: false } },
              detail: { field: 'trial', type: 'nominal' },
              color: { field: 'state', type: 'nominal', scale: { domain: ['COMPLETE', 'PRUNED', 'RUNNING', 'FAIL'], range: ['#4c78a8', '#bbbbbb', '#f58518', '#e45756'] } },
            },
          },
          {
            transform: [{ filter: 'datum.prunedHere' }],
            mark: { type: 'point', shape: 'cross', size: 120, filled: true, color: '#e45756', tooltip: true },
            encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'value', type: 'quantitative' } },
          },
        ],
      }),
    });
  } else {
    notes.push('No trial reported intermediate values, so there are no learning curves.');
  }
  section.tables.push(trialsTable(study, `${id}-trials`, best?.number));
  return section;
}

/** Every trial: state, value, parameters, epochs and duration; sortable by any column. */
export function trialsTable(study: StudyData, id: string, bestNumber?: number): ReportTable {
  const metric = study.metric ?? 'value';
  const names = studyParams(study.trials).map((p) => p.name);
  const columns = [
    { label: '#', numeric: true },
    { label: 'state', numeric: false },
    { label: metric, numeric: true },
    ...names.map((n) => ({ label: n, numeric: study.trials.some((t) => typeof t.params[n] === 'number') })),
    { label: 'epochs', numeric: true },
    { label: 'duration', numeric: true },
  ];
  const rows = study.trials.map((t) => {
    const seconds = t.startedAt !== null && t.completedAt !== null ? (t.completedAt - t.startedAt) / 1000 : null;
    const epochs = Object.keys(t.intermediate).length;
    return {
      className: t.number === bestNumber ? 'best' : t.state.toLowerCase(),
      cells: [
        numCell(t.number, String(t.number)),
        text(t.state),
        numCell(t.value, t.value === null ? '—' : formatValue(t.value)),
        ...names.map((n) => {
          const v = t.params[n];
          if (v === undefined) return { text: '—', sort: null };
          return typeof v === 'number' ? numCell(v, formatParam(v)) : text(formatParam(v));
        }),
        numCell(epochs, String(epochs)),
        numCell(seconds, seconds === null ? '—' : formatDuration(seconds)),
      ],
    };
  });
  return { id, caption: 'All trials (click a column to sort)', columns, rows, sortable: true };
}


export function formatValue(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toPrecision(4) : v.toFixed(4);
}
