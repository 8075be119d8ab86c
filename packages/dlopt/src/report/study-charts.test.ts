import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SEARCH_SPACE, studyTrials, writeStudy, type TrialSpec } from '../test-support/report-fixtures.js';
import type { Distribution, ParamValue } from '../tune/distributions.js';
import { InMemoryStorage } from '../tune/storages/in-memory-storage.js';
import type { FrozenTrial, TrialState } from '../tune/trial-state.js';
import { formatParam } from '../util/format.js';
import { readStudy } from './build-report.js';
import { IdSet, type ReportChart } from './report-model.js';
import {
  axisPosition,
  historyPoints,
  intermediatePoints,
  parallelPoints,
  slicePoints,
  studyParams,
  studySection,
  trialsTable,
  type StudyData,
} from './study-charts.js';

const LR: Distribution = { type: 'float', low: 1e-4, high: 1e-2, log: true };
const BATCH: Distribution = { type: 'int', low: 16, high: 128, log: false, step: 16 };
const OPT: Distribution = { type: 'categorical', choices: ['adam', 'sgd', 'rmsprop'] };

function trial(
  number: number,
  state: TrialState,
  value: number | null,
  params: Record<string, [Distribution, ParamValue]> = {},
  intermediate: Record<number, number> = {},
): FrozenTrial {
  return {
    id: 100 + number,
    number,
    state,
    value,
    params: Object.fromEntries(Object.entries(params).map(([n, [, v]]) => [n, v])),
    distributions: Object.fromEntries(Object.entries(params).map(([n, [d]]) => [n, d])),
    intermediate,
    userAttrs: {},
    systemAttrs: {},
    startedAt: 1_000_000 + number * 10_000,
    completedAt: state === 'RUNNING' ? null : 1_000_000 + number * 10_000 + 65_000,
  };
}

function study(trials: FrozenTrial[], direction: 'minimize' | 'maximize' = 'maximize', metric: string | null = 'val_accuracy'): StudyData {
  return { name: 'demo', direction, metric, trials };
}

/** Completed 0 (0.5), 2 (0.4), 3 (0.8), 5 (0.6); a PRUNED trial with a high value, a FAIL, a RUNNING and a NaN. */
const MIXED = [
  trial(0, 'COMPLETE', 0.5),
  trial(1, 'PRUNED', 0.9),
  trial(2, 'COMPLETE', 0.4),
  trial(3, 'COMPLETE', 0.8),
  trial(4, 'FAIL', null),
  trial(5, 'COMPLETE', 0.6),
  trial(6, 'RUNNING', null),
  trial(7, 'COMPLETE', Number.NaN),
];

async function storedStudy(trials: readonly TrialSpec[], name = 'demo'): Promise<StudyData> {
  const storage = new InMemoryStorage();
  await writeStudy(storage, name, trials);
  return readStudy(storage, name);
}

const ids = (charts: readonly ReportChart[]) => charts.map((c) => c.id);

describe('historyPoints', () => {
  it('maximize: completed trials only, with the best so far', () => {
    assert.deepEqual(historyPoints(study(MIXED, 'maximize')), [
      { trial: 0, value: 0.5, best: 0.5 },
      { trial: 2, value: 0.4, best: 0.5 },
      { trial: 3, value: 0.8, best: 0.8 },
      { trial: 5, value: 0.6, best: 0.8 },
    ]);
  });

  it('minimize: the best so far is the lowest', () => {
    assert.deepEqual(historyPoints(study(MIXED, 'minimize')), [
      { trial: 0, value: 0.5, best: 0.5 },
      { trial: 2, value: 0.4, best: 0.4 },
      { trial: 3, value: 0.8, best: 0.4 },
      { trial: 5, value: 0.6, best: 0.4 },
    ]);
  });

  it('no completed trial, no points', () => {
    assert.deepEqual(historyPoints(study([trial(0, 'PRUNED', 0.3), trial(1, 'FAIL', null)])), []);
    assert.deepEqual(historyPoints(study([])), []);
  });
});

describe('axisPosition', () => {
  it('a log float is placed on a log scale', () => {
    assert.ok(Math.abs(axisPosition(1e-3, LR) - 0.5) < 1e-12);
    assert.equal(axisPosition(1e-4, LR), 0);
    assert.ok(Math.abs(axisPosition(1e-2, LR) - 1) < 1e-12);
  });

  it('a linear int is placed linearly', () => {
    assert.equal(axisPosition(16, BATCH), 0);
    assert.equal(axisPosition(72, BATCH), 0.5);
    assert.equal(axisPosition(128, BATCH), 1);
    assert.equal(axisPosition(44, BATCH), 0.25);
  });

  it('categories are evenly spaced in their order', () => {
    assert.equal(axisPosition('adam', OPT), 0);
    assert.equal(axisPosition('sgd', OPT), 0.5);
    assert.equal(axisPosition('rmsprop', OPT), 1);
    assert.equal(axisPosition('only', { type: 'categorical', choices: ['only'] }), 0.5);
    assert.equal(axisPosition(true, { type: 'categorical', choices: [false, true] }), 1);
  });

  it('clamps values outside the range, and a one-point range sits in the middle', () => {
    assert.equal(axisPosition(1, LR), 1);
    assert.equal(axisPosition(0, BATCH), 0);
    assert.equal(axisPosition(5, { type: 'float', low: 5, high: 5, log: false }), 0.5);
  });
});

describe('parallelPoints and slicePoints', () => {
  const trials = [
    trial(0, 'COMPLETE', 0.2, { lr: [LR, 1e-3], opt: [OPT, 'sgd'] }),
    trial(1, 'PRUNED', 0.1, { lr: [LR, 1e-4], opt: [OPT, 'adam'] }),
    trial(2, 'COMPLETE', 0.6, { lr: [LR, 1e-2], opt: [OPT, 'rmsprop'] }),
    trial(3, 'COMPLETE', 0.4, { lr: [LR, 1e-4] }),
    trial(4, 'FAIL', null, { lr: [LR, 1e-3], opt: [OPT, 'adam'] }),
  ];

  it('one point per parameter a completed trial has, plus one on the objective axis', () => {
    const points = parallelPoints(study(trials), 'val_accuracy');
    const objective = points.filter((p) => p.axis === 'val_accuracy');
    assert.deepEqual(
      objective.map((p) => p.trial),
      [0, 2, 3],
    );
    assert.deepEqual(
      objective.map((p) => Math.round(p.position * 1e9) / 1e9),
      [0, 1, 0.5],
    );
    assert.deepEqual(
      points.filter((p) => p.trial === 3).map((p) => p.axis),
      ['lr', 'val_accuracy'],
    );
    assert.equal(points.length, 3 + 3 + 2);
    const t2 = points.filter((p) => p.trial === 2);
    assert.deepEqual(
      t2.map((p) => [p.axis, p.position, p.label, p.objective]),
      [
        ['lr', 1, '0.01', 0.6],
        ['opt', 1, 'rmsprop', 0.6],
        ['val_accuracy', 1, '0.6000', 0.6],
      ],
    );
  });

  it('all objectives equal: the objective axis sits in the middle', () => {
    const same = [trial(0, 'COMPLETE', 0.5, { lr: [LR, 1e-3] }), trial(1, 'COMPLETE', 0.5, { lr: [LR, 1e-2] })];
    const objective = parallelPoints(study(same), 'value').filter((p) => p.axis === 'value');
    assert.deepEqual(
      objective.map((p) => p.position),
      [0.5, 0.5],
    );
  });

  it('studyParams lists parameters in the order they first appear', () => {
    assert.deepEqual(
      studyParams(trials).map((p) => [p.name, p.distribution.type]),
      [
        ['lr', 'float'],
        ['opt', 'categorical'],
      ],
    );
  });

  it('slicePoints: completed trials that have the parameter', () => {
    assert.deepEqual(slicePoints(study(trials), 'opt'), [
      { trial: 0, x: 'sgd', value: 0.2 },
      { trial: 2, x: 'rmsprop', value: 0.6 },
    ]);
  });
});

describe('intermediatePoints', () => {
  it('marks only the last point of a pruned trial', () => {
    const points = intermediatePoints([
      trial(0, 'COMPLETE', 0.5, {}, { 1: 0.2, 2: 0.4, 3: 0.5 }),
      trial(1, 'PRUNED', 0.1, {}, { 1: 0.05, 2: 0.08, 3: 0.1 }),
      trial(2, 'RUNNING', null, {}, { 1: 0.3 }),
      trial(3, 'FAIL', null),
    ]);
    assert.equal(points.length, 7);
    assert.deepEqual(
      points.filter((p) => p.prunedHere).map((p) => [p.trial, p.step, p.value]),
      [[1, 3, 0.1]],
    );
    assert.deepEqual(
      points.filter((p) => p.trial === 1).map((p) => [p.step, p.state, p.prunedHere]),
      [
        [1, 'PRUNED', false],
        [2, 'PRUNED', false],
        [3, 'PRUNED', true],
      ],
    );
  });

  it('orders steps numerically and skips values that are not finite', () => {
    const points = intermediatePoints([trial(0, 'PRUNED', 0.1, {}, { 10: 0.3, 2: 0.1, 9: 0.2, 11: Number.NaN })]);
    assert.deepEqual(
      points.map((p) => [p.step, p.prunedHere]),
      [
        [2, false],
        [9, false],
        [10, true],
      ],
    );
  });
});

describe('studySection', () => {
  it('an empty study: a note saying there are no trials yet, no charts, no tables', () => {
    const section = studySection(study([]), new IdSet());
    assert.equal(section.id, 'study-demo');
    assert.deepEqual(section.charts, []);
    assert.deepEqual(section.tables, []);
    assert.equal(section.highlights, undefined);
    assert.equal(section.notes.length, 1);
    assert.match(section.notes[0]!, /no trials yet/);
  });

  it('a stored study of 20 trials: history, parallel, importance, contours, a slice per parameter, intermediate values', async () => {
    const data = await storedStudy(studyTrials(20));
    assert.equal(data.trials.length, 20);
    assert.equal(data.metric, 'val_accuracy');
    const section = studySection(data, new IdSet());
    assert.deepEqual(ids(section.charts), [
      'study-demo-history',
      'study-demo-parallel',
      'study-demo-importance',
      // Pairs of parameters, most important first (the fixture's accuracy follows the learning rate).
      'study-demo-contour-optimizer-lr-optimizer-name',
      'study-demo-contour-optimizer-lr-batchsize',
      'study-demo-contour-optimizer-name-batchsize',
      'study-demo-slice-optimizer-lr',
      'study-demo-slice-batchsize',
      'study-demo-slice-optimizer-name',
      'study-demo-intermediate',
    ]);
    assert.equal(new Set(ids(section.charts)).size, section.charts.length);
    for (const c of section.charts) assert.match(c.id, /^[a-z0-9-]+$/);
    assert.match(section.notes[0]!, /^20 trials \(15 complete, 5 pruned, 0 failed\); maximize val_accuracy\.$/);

    const complete = data.trials.filter((t) => t.state === 'COMPLETE');
    const best = complete.reduce((a, b) => (b.value! > a.value! ? b : a));
    assert.ok(section.highlights);
    assert.match(section.highlights.title, new RegExp(`^Best trial: #${best.number}, val_accuracy `));
    assert.deepEqual(
      section.highlights.items,
      Object.keys(SEARCH_SPACE).map((label) => ({ label, value: formatParam(best.params[label]!) })),
    );

    const history = section.charts[0]!.spec as unknown as { data: { values: { trial: number; best: number }[] } };
    assert.equal(history.data.values.length, 15);
    assert.equal(history.data.values.at(-1)!.best, best.value);

    assert.equal(section.tables.length, 1);
    assert.equal(section.tables[0]!.id, 'study-demo-trials');
    assert.equal(section.tables[0]!.rows.length, 20);
  });

  it('a study where no trial completed: a note, no history chart, no highlights', async () => {
    const trials = studyTrials(4).map((t): TrialSpec => ({ ...t, state: 'PRUNED' }));
    trials.push({ state: 'FAIL', params: { 'optimizer.lr': 1e-3 }, curve: [] });
    const section = studySection(await storedStudy(trials), new IdSet());
    assert.equal(section.highlights, undefined);
    assert.ok(section.notes.some((n) => /No trial has completed yet/.test(n)), section.notes.join(' | '));
    assert.ok(!section.charts.some((c) => c.id.endsWith('-history')));
    assert.deepEqual(ids(section.charts), ['study-demo-intermediate']);
    assert.equal(section.tables[0]!.rows.length, 5);
  });

  it('notes what it cannot draw: importance with one completed trial, curves with none reported', () => {
    const section = studySection(study([trial(0, 'COMPLETE', 0.5, { lr: [LR, 1e-3] })]), new IdSet());
    assert.ok(section.notes.some((n) => /importance needs/.test(n)));
    assert.ok(section.notes.some((n) => /no learning curves/.test(n)));
    assert.deepEqual(ids(section.charts), ['study-demo-history', 'study-demo-parallel', 'study-demo-slice-lr']);
  });

  it('contours: only for the three most important parameters, with their axes and the completed trials as dots', () => {
    const D: Distribution = { type: 'float', low: 0, high: 0.5, log: false };
    // val depends on lr most, then dropout, then batch; the optimizer barely matters.
    const trials = Array.from({ length: 24 }, (_, i) => {
      const lr = 1e-4 * Math.pow(100, ((i * 5) % 24) / 23);
      const dropout = ((i * 7) % 24) / 48;
      const batch = 16 * (1 + ((i * 11) % 8));
      const value = 0.9 - 0.2 * Math.abs(Math.log10(lr) + 3) - 0.2 * dropout - 0.0004 * batch + 0.001 * (i % 3);
      return trial(i, 'COMPLETE', value, { lr: [LR, lr], opt: [OPT, ['adam', 'sgd', 'rmsprop'][i % 3]!], dropout: [D, dropout], batch: [BATCH, batch] });
    });
    trials.push(trial(24, 'PRUNED', 0.99, { lr: [LR, 1e-3], opt: [OPT, 'adam'], dropout: [D, 0.1], batch: [BATCH, 32] }));
    const section = studySection(study(trials), new IdSet());
    const contours = section.charts.filter((c) => c.id.includes('-contour-'));
    assert.deepEqual(ids(contours), ['study-demo-contour-lr-dropout', 'study-demo-contour-lr-batch', 'study-demo-contour-dropout-batch']);
    const spec = contours[0]!.spec as unknown as {
      layer: [
        { data: { values: { value: number }[] }; encoding: Record<string, { field?: string; type?: string; scale?: { type: string; domain: number[] } }> },
        { data: { values: { trial: number }[] } },
      ];
    };
    const [cells, dots] = spec.layer;
    assert.equal(cells.data.values.length, 20 * 20);
    assert.deepEqual(cells.encoding.x!.scale, { type: 'log', domain: [1e-4, 1e-2], nice: false });
    assert.deepEqual(cells.encoding.y!.scale, { type: 'linear', domain: [0, 0.5], nice: false, zero: false });
    assert.equal(cells.encoding.x2!.field, 'x2');
    assert.equal(dots.data.values.length, 24, 'completed trials only: the pruned one is not a dot');
    const values = trials.slice(0, 24).map((t) => t.value!);
    for (const c of cells.data.values) assert.ok(c.value >= Math.min(...values) - 1e-9 && c.value <= Math.max(...values) + 1e-9);
    assert.ok(!section.notes.some((n) => /Contour/.test(n)));
  });

  it('contours need three completed trials over two parameters; a note says so', () => {
    const two = [trial(0, 'COMPLETE', 0.5, { lr: [LR, 1e-3], opt: [OPT, 'sgd'] }), trial(1, 'COMPLETE', 0.6, { lr: [LR, 1e-4], opt: [OPT, 'adam'] })];
    const section = studySection(study(two), new IdSet());
    assert.ok(!section.charts.some((c) => c.id.includes('-contour-')));
    assert.ok(section.notes.some((n) => /Contour plots need at least 3 completed trials/.test(n)), section.notes.join(' | '));
  });

  it('a hostile study name still gives a safe section id', () => {
    const section = studySection({ ...study([]), name: '<img src=x onerror=alert(1)>' }, new IdSet());
    assert.match(section.id, /^[a-z0-9-]+$/);
  });
});

describe('trialsTable', () => {
  it('columns: number, state, metric, each parameter, epochs, duration; the best row is marked', () => {
    const trials = [
      trial(0, 'COMPLETE', 0.5, { lr: [LR, 1e-3], batch: [BATCH, 32], opt: [OPT, 'sgd'] }, { 1: 0.3, 2: 0.5 }),
      trial(1, 'PRUNED', 0.2, { lr: [LR, 2e-4], batch: [BATCH, 64], opt: [OPT, 'adam'] }, { 1: 0.2 }),
      trial(2, 'COMPLETE', 0.7, { lr: [LR, 3e-3], batch: [BATCH, 16] }, { 1: 0.4, 2: 0.6, 3: 0.7 }),
      trial(3, 'FAIL', null, { lr: [LR, 1e-2] }),
    ];
    const table = trialsTable(study(trials), 't', 2);
    assert.deepEqual(
      table.columns.map((c) => [c.label, c.numeric]),
      [
        ['#', true],
        ['state', false],
        ['val_accuracy', true],
        ['lr', true],
        ['batch', true],
        ['opt', false],
        ['epochs', true],
        ['duration', true],
      ],
    );
    assert.equal(table.sortable, true);
    assert.deepEqual(
      table.rows.map((r) => r.className),
      ['complete', 'pruned', 'best', 'fail'],
    );
    const best = table.rows[2]!.cells;
    assert.deepEqual(best[0], { text: '2', sort: 2 });
    assert.deepEqual(best[1], { text: 'COMPLETE', sort: 'COMPLETE' });
    assert.deepEqual(best[2], { text: '0.7000', sort: 0.7 });
    assert.deepEqual(best[3], { text: '0.003', sort: 3e-3 });
    assert.deepEqual(best[5], { text: '—', sort: null });
    assert.deepEqual(best[6], { text: '3', sort: 3 });
    assert.deepEqual(best[7], { text: '1m05s', sort: 65 });
    assert.deepEqual(table.rows[3]!.cells[2], { text: '—', sort: null });
    assert.deepEqual(table.rows[0]!.cells[5], { text: 'sgd', sort: 'sgd' });
  });

  it('a study without a recorded metric calls its column value', () => {
    const table = trialsTable(study([trial(0, 'COMPLETE', 1)], 'minimize', null), 't');
    assert.equal(table.columns[2]!.label, 'value');
    assert.equal(table.rows[0]!.className, 'complete');
  });

  it('studySection marks the best trial’s row', async () => {
    const data = await storedStudy(studyTrials(8));
    const section = studySection(data, new IdSet());
    const rows = section.tables[0]!.rows;
    const bestRows = rows.filter((r) => r.className === 'best');
    assert.equal(bestRows.length, 1);
    assert.match(section.highlights!.title, new RegExp(`#${bestRows[0]!.cells[0]!.text},`));
  });
});
