import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../test-support/fixtures.js';
import { writePruningRun } from '../test-support/report-fixtures.js';
import { comparisonTable, fineTunePoints, layerPoints, pruneLabel, pruningSection, sparsityPoints } from './pruning-charts.js';
import { IdSet } from './report-model.js';
import { readRun, type RunRecord } from './run-files.js';

describe('pruning charts', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let l1: RunRecord;
  let magnitude: RunRecord;
  before(async () => {
    ({ dir, cleanup } = await tempDir('dlopt-report-prune-'));
    l1 = await readRun(await writePruningRun(join(dir, 'prune-l1'), { method: 'l1', steps: 2 }));
    magnitude = await readRun(await writePruningRun(join(dir, 'prune-mag'), { method: 'magnitude', steps: 3 }));
  });
  after(() => cleanup());

  describe('pruneLabel', () => {
    it('names the run, its method and its target', () => {
      assert.equal(pruneLabel(l1), 'prune-l1 (l1, −50%)');
      assert.equal(pruneLabel(magnitude), 'prune-mag (magnitude, −50%)');
    });

    it('an unfinished run goes by its name', () => {
      assert.equal(pruneLabel({ ...l1, summary: null }), 'prune-l1');
    });
  });

  describe('fineTunePoints', () => {
    it('numbers fine-tuning epochs across steps and keeps each epoch\'s step', () => {
      const points = fineTunePoints([l1]);
      // Two steps of two epochs: four epochs, train and validation each.
      assert.equal(points.length, 8);
      assert.deepEqual([...new Set(points.map((p) => p.epoch))], [1, 2, 3, 4]);
      assert.deepEqual(points.filter((p) => p.split === 'validation').map((p) => p.step), [1, 1, 2, 2]);
      assert.equal(points[1]!.accuracy, l1.metrics[0]!.val_accuracy);
      assert.equal(points[0]!.accuracy, l1.metrics[0]!.accuracy);
    });

    it('a pruning run\'s section draws them', () => {
      const section = pruningSection([l1], new IdSet());
      assert.ok(section.charts.some((c) => c.id === 'pruning-prune-l1-fine-tuning'), section.charts.map((c) => c.id).join());
    });
  });

  describe('sparsityPoints', () => {
    it('structured: the original at 0, then each step pruned and fine-tuned', () => {
      const label = pruneLabel(l1);
      assert.deepEqual(sparsityPoints([l1]), [
        { run: label, sparsity: 0, accuracy: 0.66, stage: 'original', step: 0 },
        { run: label, sparsity: 0.25, accuracy: 0.5, stage: 'pruned', step: 1 },
        { run: label, sparsity: 0.25, accuracy: 0.66 - 0.003, stage: 'fine-tuned', step: 1 },
        { run: label, sparsity: 0.5, accuracy: 0.5 - 0.1, stage: 'pruned', step: 2 },
        { run: label, sparsity: 0.5, accuracy: 0.66 - 0.006, stage: 'fine-tuned', step: 2 },
      ]);
    });

    it('magnitude: no pruned stage (pruned_accuracy is null)', () => {
      const points = sparsityPoints([magnitude]);
      assert.ok(!points.some((p) => p.stage === 'pruned'));
      assert.deepEqual(
        points.map((p) => [p.stage, p.step]),
        [
          ['original', 0],
          ['fine-tuned', 1],
          ['fine-tuned', 2],
          ['fine-tuned', 3],
        ],
      );
      assert.deepEqual(
        points.map((p) => p.sparsity),
        [0, 0.5 / 3, 1 / 3, 0.5],
      );
    });

    it('several runs: one labelled series each', () => {
      const points = sparsityPoints([l1, magnitude]);
      assert.deepEqual(new Set(points.map((p) => p.run)), new Set([pruneLabel(l1), pruneLabel(magnitude)]));
      assert.equal(points.length, 5 + 4);
    });

    it('an unfinished run has no points', () => {
      assert.deepEqual(sparsityPoints([{ ...l1, summary: null }]), []);
    });
  });

  describe('layerPoints', () => {
    it('structured: widths before and after', () => {
      const { kind, points } = layerPoints(l1);
      assert.equal(kind, 'width');
      assert.deepEqual(points, [
        { layer: 'conv1', value: 32, stage: 'before' },
        { layer: 'conv1', value: 16, stage: 'after' },
        { layer: 'conv2', value: 64, stage: 'before' },
        { layer: 'conv2', value: 32, stage: 'after' },
        { layer: 'dense', value: 10, stage: 'before' },
        { layer: 'dense', value: 10, stage: 'after' },
      ]);
    });

    it('magnitude: the share of each kernel that is zero', () => {
      const { kind, points } = layerPoints(magnitude);
      assert.equal(kind, 'sparsity');
      assert.deepEqual(points, [
        { layer: 'conv1', value: 400 / 864, stage: 'after' },
        { layer: 'conv2', value: 14000 / 18432, stage: 'after' },
        { layer: 'dense', value: 19000 / 23040, stage: 'after' },
      ]);
      for (const p of points) assert.ok(p.value >= 0 && p.value <= 1);
    });

    it('no layers recorded: no points', () => {
      assert.deepEqual(layerPoints({ ...l1, summary: null }).points, []);
    });
  });

  describe('comparisonTable', () => {
    it('original against pruned, the change as a ratio (×) or in accuracy points', () => {
      const table = comparisonTable(l1, 'cmp');
      assert.equal(table.id, 'cmp');
      assert.equal(table.sortable, false);
      assert.deepEqual(
        table.columns.map((c) => [c.label, c.numeric]),
        [
          ['measure', false],
          ['original', true],
          ['pruned', true],
          ['change', true],
        ],
      );
      const row = (label: string) => {
        const r = table.rows.find((x) => x.cells[0]!.text === label);
        assert.ok(r, `no row ${label}`);
        return r.cells;
      };
      const params = row('parameters');
      assert.deepEqual(params[1], { text: '42.4k', sort: 42442 });
      assert.deepEqual(params[2], { text: '15.0k', sort: 15000 });
      assert.equal(params[3]!.sort, 15000 / 42442);
      assert.equal(params[3]!.text, '×0.35');

      const speed = row('images/s (inference)');
      assert.deepEqual(speed[3], { text: '×2.50', sort: 2.5 });

      const weights = row('weights.bin');
      assert.equal(weights[1]!.text, '169.8 kB');
      assert.equal(weights[2]!.text, '60.0 kB');

      const accuracy = row('validation accuracy');
      assert.equal(accuracy[1]!.text, '66.00%');
      assert.equal(accuracy[2]!.text, '65.50%');
      assert.ok(Math.abs((accuracy[3]!.sort as number) - -0.5) < 1e-9);
      assert.equal(accuracy[3]!.text, '-0.50 pts');
    });

    it('a change from zero, or with a side missing, has no ratio', () => {
      const table = comparisonTable(l1, 'cmp');
      const sparse = table.rows.find((r) => r.cells[0]!.text === 'weights.sparse.bin')!;
      assert.deepEqual(sparse.cells[3], { text: '—', sort: null });
      const empty = comparisonTable({ ...l1, summary: null }, 'cmp');
      for (const r of empty.rows) {
        assert.deepEqual(r.cells[1], { text: '—', sort: null });
        assert.deepEqual(r.cells[3], { text: '—', sort: null });
      }
    });

    it('a gain in accuracy has a plus sign', () => {
      const summary = { ...l1.summary, original: { val_accuracy: 0.5 }, pruned: { val_accuracy: 0.5125 } };
      const table = comparisonTable({ ...l1, summary }, 'cmp');
      const accuracy = table.rows.find((r) => r.cells[0]!.text === 'validation accuracy')!;
      assert.equal(accuracy.cells[3]!.text, '+1.25 pts');
    });
  });

  describe('pruningSection', () => {
    it('one structured run: accuracy against sparsity, layer widths and a comparison table', () => {
      const section = pruningSection([l1], new IdSet());
      assert.equal(section.id, 'pruning-prune-l1');
      assert.equal(section.title, `Pruning run ${pruneLabel(l1)}`);
      assert.deepEqual(
        section.charts.map((c) => c.id),
        ['pruning-prune-l1-accuracy-vs-sparsity', 'pruning-prune-l1-fine-tuning', 'pruning-prune-l1-layers', 'pruning-prune-l1-classes'],
      );
      assert.match(section.charts[2]!.title, /widths/);
      // The fixture's pruning cost cats 4 of 50 images, dogs 2, and gave ships 1.
      const classes = section.charts[3]!.spec as unknown as { layer: { encoding: { y: { sort: string[] } } }[] };
      assert.deepEqual(classes.layer[0]!.encoding.y.sort.slice(0, 2), ['cat', 'dog']);
      assert.equal(classes.layer[0]!.encoding.y.sort.at(-1), 'ship');
      assert.deepEqual(
        section.tables.map((t) => t.id),
        ['pruning-prune-l1-table'],
      );
      assert.deepEqual(section.notes, []);
    });

    it('two runs: per-run layer charts and tables, all ids unique', () => {
      const section = pruningSection([l1, magnitude], new IdSet());
      assert.equal(section.id, 'pruning-runs');
      const chartIds = section.charts.map((c) => c.id);
      assert.deepEqual(chartIds, ['pruning-runs-accuracy-vs-sparsity', 'pruning-runs-fine-tuning', 'pruning-runs-layers-prune-l1', 'pruning-runs-layers-prune-mag', 'pruning-runs-classes-prune-l1', 'pruning-runs-classes-prune-mag']);
      assert.match(section.charts[3]!.title, /Weight sparsity per layer/);
      assert.deepEqual(
        section.tables.map((t) => t.id),
        ['pruning-runs-table-prune-l1', 'pruning-runs-table-prune-mag'],
      );
      for (const id of [...chartIds, ...section.tables.map((t) => t.id)]) assert.match(id, /^[a-z0-9-]+$/);
    });

    // Per-run ids come from run names, which may differ only in punctuation or case.
    it('runs whose names differ only in punctuation or case still get unique ids', async () => {
      const a = await readRun(await writePruningRun(join(dir, 'collide', 'prune_l1')));
      const b = await readRun(await writePruningRun(join(dir, 'collide', 'Prune-L1')));
      const section = pruningSection([l1, a, b], new IdSet());
      const chartIds = section.charts.map((c) => c.id);
      const tableIds = section.tables.map((t) => t.id);
      assert.equal(new Set(chartIds).size, chartIds.length, `chart ids repeat: ${chartIds.join(', ')}`);
      assert.equal(new Set(tableIds).size, tableIds.length, `table ids repeat: ${tableIds.join(', ')}`);
    });

    it('an unfinished run (no summary.json) is noted, and has only its fine-tuning so far', async () => {
      const path = await writePruningRun(join(dir, 'prune-live'));
      await rm(join(path, 'summary.json'));
      const live = await readRun(path);
      assert.equal(live.kind, 'prune');
      const section = pruningSection([live], new IdSet());
      assert.deepEqual(section.charts.map((c) => c.id), ['pruning-prune-live-fine-tuning']);
      assert.deepEqual(section.tables, []);
      assert.ok(section.notes.some((n) => n.includes('prune-live') && /not finished/.test(n)), section.notes.join(' | '));

      const both = pruningSection([l1, live], new IdSet());
      assert.equal(both.tables.length, 1);
      assert.ok(both.notes.some((n) => n.includes('prune-live')));
      assert.ok(!both.notes.some((n) => n.startsWith('prune-l1')));
      const tradeoff = both.charts.find((c) => c.id.endsWith('-accuracy-vs-sparsity'))!;
      const values = (tradeoff.spec as unknown as { data: { values: { run: string }[] } }).data.values;
      assert.ok(values.every((v) => v.run === pruneLabel(l1)));
    });

    it('a finished run with no step recorded says there is no curve', () => {
      const summary = { ...l1.summary, steps: [] };
      const section = pruningSection([{ ...l1, summary }], new IdSet());
      assert.ok(!section.charts.some((c) => c.id.endsWith('-accuracy-vs-sparsity')));
      assert.ok(section.notes.some((n) => /No pruning step was recorded/.test(n)));
    });
  });
});
