import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { epochLines } from '../test-support/report-fixtures.js';
import { classChangeChart, confusionCells, isConfusion, pruningClassChanges, runConfusion } from './class-charts.js';
import type { RunRecord } from './run-files.js';

const THREE = ['cat', 'dog', 'ship'];
const M = [
  [6, 3, 1],
  [2, 8, 0],
  [0, 0, 0],
];

function run(name: string, summary: Record<string, unknown> | null, kind: 'train' | 'prune' = 'train'): RunRecord {
  return { path: `/runs/${name}`, name, kind, config: {}, metrics: epochLines(2), summary };
}
const withMatrix = (name: string, final: Record<string, unknown>, names: unknown = THREE) => run(name, { model: 'seed-cnn', class_names: names, final });

describe('isConfusion', () => {
  it('a k×k matrix of non-negative integer counts, nothing else', () => {
    assert.equal(isConfusion(M, 3), true);
    assert.equal(isConfusion(M, 2), false);
    assert.equal(isConfusion([[1, 2], [3]], 2), false);
    assert.equal(isConfusion([[1, -2], [3, 4]], 2), false);
    assert.equal(isConfusion([[1, 2.5], [3, 4]], 2), false);
    assert.equal(isConfusion('[[1]]', 1), false);
  });
});

describe('runConfusion and confusionCells', () => {
  it('runConfusion takes the reported split: test when the run had one, else validation', () => {
    assert.equal(runConfusion(withMatrix('a', { val: { accuracy: 0.7, confusion: M } }))?.split, 'val');
    const both = runConfusion(withMatrix('b', { val: { accuracy: 0.7, confusion: M }, test: { accuracy: 0.6, confusion: M } }))!;
    assert.equal(both.split, 'test');
    assert.equal(both.accuracy, 0.6);
    assert.deepEqual(both.classNames, THREE);
  });

  it('runConfusion: nothing for an unfinished or older run, or a matrix that does not fit its class names', () => {
    assert.equal(runConfusion(run('a', null)), null);
    assert.equal(runConfusion(withMatrix('b', { val: { accuracy: 0.7 } })), null);
    assert.equal(runConfusion(withMatrix('c', { val: { confusion: M } }, ['cat', 'dog'])), null);
    assert.equal(runConfusion(withMatrix('d', { val: { confusion: M } }, null)), null);
    assert.equal(runConfusion(withMatrix('e', { val: { confusion: [[1, 2, 3], [4, 5], [6, 7, 8]] } })), null);
    assert.equal(runConfusion(withMatrix('f', { val: { confusion: [[1, 2, 3], [4, 5, -6], [6, 7, 8]] } })), null);
    assert.equal(runConfusion(withMatrix('g', { val: { confusion: [[1, 2, 3], [4, 5, 0.5], [6, 7, 8]] } })), null);
  });

  it('confusionCells: a cell per pair, each row of shares summing to 1; an empty row is all zeros', () => {
    const cells = confusionCells({ split: 'val', classNames: THREE, confusion: M, accuracy: null });
    assert.equal(cells.length, 9);
    assert.deepEqual(cells[1], { actual: 'cat', predicted: 'dog', count: 3, share: 0.3 });
    for (const name of ['cat', 'dog']) {
      const sum = cells.filter((c) => c.actual === name).reduce((n, c) => n + c.share, 0);
      assert.ok(Math.abs(sum - 1) < 1e-12, name);
    }
    assert.ok(cells.filter((c) => c.actual === 'ship').every((c) => c.share === 0));
  });

});

describe('pruning: accuracy per class, original against pruned', () => {
  const BEFORE = [
    [8, 2, 0],
    [1, 9, 0],
    [0, 1, 9],
  ];
  const AFTER = [
    [5, 5, 0],
    [1, 9, 0],
    [0, 0, 10],
  ];
  const pruned = (confusion: unknown, names: unknown = THREE) => run('prune-l1', { kind: 'prune', class_names: names, confusion }, 'prune');

  it('per class before, after and the change, from the two matrices', () => {
    const changes = pruningClassChanges(pruned({ original: BEFORE, pruned: AFTER }))!;
    assert.deepEqual(changes.map((c) => [c.name, c.before, c.after]), [
      ['cat', 0.8, 0.5],
      ['dog', 0.9, 0.9],
      ['ship', 0.9, 1],
    ]);
  });

  it('nothing for a run from before matrices were recorded, a bad matrix, or matrices over different images', () => {
    assert.equal(pruningClassChanges(run('old', { kind: 'prune' }, 'prune')), null);
    assert.equal(pruningClassChanges(pruned({ original: BEFORE, pruned: null })), null);
    assert.equal(pruningClassChanges(pruned({ original: BEFORE, pruned: AFTER }, ['cat', 'dog'])), null);
    assert.equal(pruningClassChanges(pruned({ original: BEFORE, pruned: [[9, 2, 0], [1, 9, 0], [0, 0, 10]] })), null);
    assert.equal(classChangeChart(run('old', { kind: 'prune' }, 'prune'), null), null);
  });

  it('the chart lists the classes that lost most first, a rule and two dots per class', () => {
    const chart = classChangeChart(pruned({ original: BEFORE, pruned: AFTER }), null)!;
    assert.equal(chart.title, 'Accuracy per class, original against pruned');
    const spec = chart.spec as unknown as { layer: { data: { values: Record<string, unknown>[] }; encoding: { y: { sort: string[] } } }[] };
    assert.deepEqual(spec.layer[0]!.encoding.y.sort, ['cat', 'dog', 'ship']);
    assert.equal(spec.layer[0]!.data.values.length, 3);
    assert.deepEqual(spec.layer[1]!.data.values.slice(0, 2), [
      { class: 'cat', model: 'original', accuracy: 0.8 },
      { class: 'cat', model: 'pruned', accuracy: 0.5 },
    ]);
  });
});
