import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../test-support/fixtures.js';
import { confusionFor, epochLines, writeTrainingRun, type EpochLine } from '../test-support/report-fixtures.js';
import { CLASS_NAMES } from '../test-support/fixtures.js';
import { IdSet, type ReportChart } from './report-model.js';
import { readRuns, type RunRecord } from './run-files.js';
import { MAX_CONFUSION_RUNS } from './class-charts.js';
import { curvePoints, finalTable, learningRatePoints, speedPoints, trainingSection } from './training-charts.js';

/** A run as readRuns returns it, made in memory. */
function run(name: string, metrics: EpochLine[], summary: Record<string, unknown> | null = { model: 'seed-cnn' }): RunRecord {
  return { path: `/runs/${name}`, name, kind: 'train', config: { config: { model: 'seed-cnn' }, backend: 'cpu' }, metrics, summary };
}

type Encoding = Record<string, { field?: string } | undefined>;
const encoding = (chart: ReportChart): Encoding => (chart.spec as unknown as { encoding: Encoding }).encoding;
const data = (chart: ReportChart): Record<string, unknown>[] => (chart.spec as unknown as { data: { values: Record<string, unknown>[] } }).data.values;

describe('curvePoints', () => {
  it('gives training and validation values per epoch, in order', () => {
    const lines = epochLines(3);
    const points = curvePoints([run('a', lines)], 'loss');
    assert.equal(points.length, 6);
    assert.deepEqual(points.slice(0, 2), [
      { run: 'a', epoch: 1, split: 'train', value: lines[0]!.loss },
      { run: 'a', epoch: 1, split: 'validation', value: lines[0]!.val_loss },
    ]);
    const acc = curvePoints([run('a', lines)], 'accuracy');
    assert.deepEqual(
      acc.filter((p) => p.split === 'train').map((p) => p.value),
      lines.map((l) => l.accuracy),
    );
    assert.deepEqual(
      acc.filter((p) => p.split === 'validation').map((p) => p.value),
      lines.map((l) => l.val_accuracy),
    );
  });

  it('skips epochs without validation', () => {
    const lines = epochLines(3);
    lines[1] = { ...lines[1]!, val_loss: null, val_accuracy: null };
    const points = curvePoints([run('a', lines)], 'loss');
    assert.equal(points.length, 5);
    assert.deepEqual(
      points.filter((p) => p.split === 'validation').map((p) => p.epoch),
      [1, 3],
    );
    assert.ok(points.every((p) => typeof p.value === 'number'));
  });

  it('labels each point with its run', () => {
    const points = curvePoints([run('a', epochLines(2)), run('b', epochLines(3))], 'accuracy');
    assert.equal(points.filter((p) => p.run === 'a').length, 4);
    assert.equal(points.filter((p) => p.run === 'b').length, 6);
  });
});

describe('learningRatePoints and speedPoints', () => {
  it('skips epochs with no learning rate', () => {
    const lines = epochLines(4);
    lines[0] = { ...lines[0]!, lr: null };
    lines[2] = { ...lines[2]!, lr: null };
    assert.deepEqual(learningRatePoints([run('a', lines)]), [
      { run: 'a', epoch: 2, lr: lines[1]!.lr },
      { run: 'a', epoch: 4, lr: lines[3]!.lr },
    ]);
    assert.deepEqual(learningRatePoints([run('a', lines.map((l) => ({ ...l, lr: null })))]), []);
  });

  it('gives images/s for every epoch', () => {
    const lines = epochLines(3, { speed: 1000 });
    assert.deepEqual(speedPoints([run('a', lines)]), [
      { run: 'a', epoch: 1, images_per_s: 1000 },
      { run: 'a', epoch: 2, images_per_s: 1010 },
      { run: 'a', epoch: 3, images_per_s: 1020 },
    ]);
  });
});

describe('trainingSection', () => {
  it('two runs: loss, accuracy, learning rate and speed, coloured by run, with unique ids', () => {
    const ids = new IdSet();
    const section = trainingSection([run('a', epochLines(4)), run('b', epochLines(5, { start: 0.1 }))], ids);
    assert.equal(section.id, 'training-runs');
    assert.deepEqual(
      section.charts.map((c) => c.id),
      ['training-runs-loss', 'training-runs-accuracy', 'training-runs-learning-rate', 'training-runs-speed'],
    );
    assert.equal(new Set(section.charts.map((c) => c.id)).size, section.charts.length);
    for (const c of section.charts) {
      assert.ok(c.id.startsWith(`${section.id}-`));
      assert.match(c.id, /^[a-z0-9-]+$/);
      assert.equal(encoding(c).color?.field, 'run', c.id);
    }
    const loss = section.charts[0]!;
    assert.equal(data(loss).length, (4 + 5) * 2);
    assert.deepEqual(new Set(data(loss).map((p) => p.run)), new Set(['a', 'b']));
    assert.equal(section.notes.length, 0);
    assert.equal(section.tables.length, 1);
    assert.equal(section.tables[0]!.rows.length, 2);
    assert.equal(section.tables[0]!.sortable, true);
  });

  it('a second training section takes a different id', () => {
    const ids = new IdSet();
    const first = trainingSection([run('a', epochLines(2))], ids);
    const second = trainingSection([run('b', epochLines(2))], ids);
    assert.notEqual(first.id, second.id);
    const all = [...first.charts, ...second.charts].map((c) => c.id);
    assert.equal(new Set(all).size, all.length);
  });

  it('one run: curves coloured by split', () => {
    const section = trainingSection([run('a', epochLines(3))], new IdSet());
    assert.equal(section.id, 'training');
    assert.equal(section.title, 'Training run a');
    const loss = section.charts.find((c) => c.id === 'training-loss')!;
    assert.equal(encoding(loss).color?.field, 'split');
    assert.equal(section.tables[0]!.sortable, false);
  });

  it('no learning-rate chart when no epoch recorded one', () => {
    const section = trainingSection([run('a', epochLines(3).map((l) => ({ ...l, lr: null })))], new IdSet());
    assert.deepEqual(
      section.charts.map((c) => c.id),
      ['training-loss', 'training-accuracy', 'training-speed'],
    );
  });

  it('one run of one epoch: no charts, and notes saying why', () => {
    const section = trainingSection([run('solo', epochLines(1))], new IdSet());
    assert.deepEqual(section.charts, []);
    assert.ok(section.notes.some((n) => n.includes('solo') && /only one epoch/.test(n)), section.notes.join(' | '));
    assert.ok(section.notes.some((n) => /no curves/.test(n)), section.notes.join(' | '));
    assert.equal(section.tables[0]!.rows.length, 1);
  });

  it('a run with no epoch: no charts and a note for it', () => {
    const section = trainingSection([run('empty', [], null)], new IdSet());
    assert.deepEqual(section.charts, []);
    assert.ok(section.notes.some((n) => n.includes('empty') && /no epoch has finished/.test(n)), section.notes.join(' | '));
    const row = section.tables[0]!.rows[0]!;
    assert.equal(row.cells[2]!.text, '0');
    assert.equal(row.cells[3]!.text, '—');
  });

  it('a zero-epoch run beside a full one: the full one is drawn, the empty one noted', () => {
    const section = trainingSection([run('full', epochLines(3)), run('empty', [])], new IdSet());
    assert.equal(section.charts.length, 4);
    for (const c of section.charts) assert.ok(data(c).every((p) => p.run === 'full'), c.id);
    assert.ok(section.notes.some((n) => n.startsWith('empty:')));
  });

  it('notes an unfinished run', () => {
    const section = trainingSection([run('live', epochLines(3), null)], new IdSet());
    assert.equal(section.charts.length, 4);
    assert.ok(section.notes.some((n) => n.includes('live') && /not finished/.test(n)), section.notes.join(' | '));
  });
});

describe('finalTable', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await tempDir('dlopt-report-train-'));
  });
  after(() => cleanup());

  it('shows a finished run’s figures, accuracy as a percentage, with numeric sort keys', async () => {
    const runs = await readRuns([await writeTrainingRun(join(dir, 'done'), { epochs: 4 })]);
    const table = finalTable(runs, 'final');
    assert.equal(table.id, 'final');
    const labels = table.columns.map((c) => c.label);
    assert.deepEqual(labels, ['run', 'model', 'epochs', 'val accuracy', 'val loss', 'test accuracy', 'params', 'FLOPs/image', 'train images/s', 'time', 'backend', 'status']);
    const cell = (label: string) => table.rows[0]!.cells[labels.indexOf(label)]!;
    const last = epochLines(4).at(-1)!;
    assert.equal(cell('run').text, 'done');
    assert.equal(cell('model').text, 'seed-cnn');
    assert.deepEqual(cell('epochs'), { text: '4', sort: 4 });
    assert.equal(cell('val accuracy').sort, last.val_accuracy);
    assert.equal(cell('val accuracy').text, `${(last.val_accuracy! * 100).toFixed(2)}%`);
    assert.match(cell('val accuracy').text, /^\d+\.\d\d%$/);
    assert.equal(cell('val loss').sort, last.val_loss);
    assert.equal(cell('val loss').text, last.val_loss!.toFixed(4));
    assert.deepEqual(cell('test accuracy'), { text: '—', sort: null });
    assert.deepEqual(cell('params'), { text: '42.4k', sort: 42442 });
    assert.deepEqual(cell('FLOPs/image'), { text: '7.95M', sort: 7948584 });
    assert.deepEqual(cell('train images/s'), { text: '2,100', sort: 2100 });
    assert.equal(cell('time').sort, 12.5);
    assert.equal(cell('backend').text, 'native');
    assert.equal(cell('status').text, 'complete');
    table.columns.forEach((c, i) => {
      const sort = table.rows[0]!.cells[i]!.sort;
      if (c.numeric) assert.ok(sort === null || typeof sort === 'number', `${c.label}: ${typeof sort}`);
      else assert.equal(typeof sort, 'string', c.label);
    });
  });

  it('falls back to the metrics for an unfinished run and says it is not finished', () => {
    const lines = epochLines(3);
    const table = finalTable([run('live', lines, null)], 'final');
    const labels = table.columns.map((c) => c.label);
    const cell = (label: string) => table.rows[0]!.cells[labels.indexOf(label)]!;
    assert.equal(cell('val accuracy').sort, lines[2]!.val_accuracy);
    assert.equal(cell('train images/s').sort, (lines[0]!.images_per_s + lines[1]!.images_per_s + lines[2]!.images_per_s) / 3);
    assert.ok(Math.abs((cell('time').sort as number) - (lines[0]!.seconds + lines[1]!.seconds + lines[2]!.seconds)) < 1e-9);
    assert.equal(cell('backend').text, 'cpu');
    assert.equal(cell('status').text, 'not finished');
  });

  it('shows test accuracy and early stopping from the summary', () => {
    const summary = { final: { val: { accuracy: 0.5, loss: 1.2 }, test: { accuracy: 0.4875 } }, stopped_early: 7 };
    const table = finalTable([run('s', epochLines(7), summary)], 'final');
    const labels = table.columns.map((c) => c.label);
    const cell = (label: string) => table.rows[0]!.cells[labels.indexOf(label)]!;
    assert.deepEqual(cell('val accuracy'), { text: '50.00%', sort: 0.5 });
    assert.deepEqual(cell('val loss'), { text: '1.2000', sort: 1.2 });
    assert.deepEqual(cell('test accuracy'), { text: '48.75%', sort: 0.4875 });
    assert.equal(cell('status').text, 'stopped early (epoch 7)');
  });
});

describe('trainingSection: confusion matrices', () => {
  const THREE = ['cat', 'dog', 'ship'];
  const M = [
    [6, 3, 1],
    [2, 8, 0],
    [0, 0, 0],
  ];
  const withMatrix = (name: string, final: Record<string, unknown>, names: unknown = THREE) => run(name, epochLines(2), { model: 'seed-cnn', class_names: names, final });

  it('one run: one matrix after its curves, ordered by the class names', () => {
    const section = trainingSection([withMatrix('a', { val: { accuracy: 0.7, confusion: M } })], new IdSet());
    const chart = section.charts.at(-1)!;
    assert.equal(chart.id, 'training-confusion');
    assert.equal(chart.title, 'Confusion matrix (validation)');
    assert.deepEqual((encoding(chart).x as { sort?: string[] }).sort, THREE);
    assert.deepEqual((encoding(chart).y as { sort?: string[] }).sort, THREE);
    assert.equal(data(chart).length, 9);
  });

  it('a one-epoch run still gets its matrix: it describes the final model, not a curve', () => {
    const one = run('one', epochLines(1), { model: 'seed-cnn', class_names: [...CLASS_NAMES], final: { val: { accuracy: 0.5, confusion: confusionFor(0.5) } } });
    assert.deepEqual(trainingSection([one], new IdSet()).charts.map((c) => c.id), ['training-confusion']);
  });

  it(`several runs: one matrix each, up to ${MAX_CONFUSION_RUNS}; past that only the most accurate run's, with a note`, () => {
    const runs = [0.5, 0.8, 0.6, 0.7, 0.4].map((acc, i) => withMatrix(`r${i}`, { val: { accuracy: acc, confusion: M } }));
    const four = trainingSection(runs.slice(0, 4), new IdSet());
    assert.deepEqual(four.charts.filter((c) => c.id.includes('confusion')).map((c) => c.id), [0, 1, 2, 3].map((i) => `training-runs-confusion-r${i}`));
    const five = trainingSection(runs, new IdSet());
    assert.deepEqual(five.charts.filter((c) => c.id.includes('confusion')).map((c) => c.title), ['Confusion matrix: r1 (validation)']);
    assert.ok(five.notes.some((n) => /5 runs have a confusion matrix; only the most accurate one's \(r1\) is drawn/.test(n)), five.notes.join(' | '));
  });
});
