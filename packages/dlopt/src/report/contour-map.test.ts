import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Distribution, ParamValue } from '../tune/distributions.js';
import type { FrozenTrial } from '../tune/trial-state.js';
import { contourAxis, contourMap, fillGrid, type ContourAxis } from './contour-map.js';

const LR: Distribution = { type: 'float', low: 1e-4, high: 1e-2, log: true };
const DROPOUT: Distribution = { type: 'float', low: 0, high: 0.5, log: false };
const OPT: Distribution = { type: 'categorical', choices: ['adam', 'sgd', 'rmsprop'] };

function done(number: number, value: number, params: Record<string, ParamValue>): FrozenTrial & { value: number } {
  return {
    id: number,
    number,
    state: 'COMPLETE',
    value,
    params,
    distributions: {},
    intermediate: {},
    userAttrs: {},
    systemAttrs: {},
    startedAt: 0,
    completedAt: 1,
  };
}

const axis = (name: string, d: Distribution, cells?: number): ContourAxis => contourAxis(name, d, cells)!;

describe('fillGrid', () => {
  it('keeps known cells and fills a strip between two ends linearly (the harmonic solution in 1-D)', () => {
    const grid = fillGrid([[0, null, null, null, 4]]);
    grid[0]!.forEach((v, j) => assert.ok(Math.abs(v - j) < 1e-6, `cell ${j}: ${v}`));
    assert.equal(grid[0]![0], 0);
    assert.equal(grid[0]![4], 4);
  });

  it('never leaves the range of the known values, and each free cell is the mean of its neighbours', () => {
    const known: (number | null)[][] = Array.from({ length: 9 }, () => new Array<number | null>(11).fill(null));
    known[1]![2] = 0.3;
    known[7]![9] = 0.8;
    known[4]![5] = 0.5;
    known[8]![0] = 0.1;
    const grid = fillGrid(known);
    for (const [i, row] of grid.entries()) {
      for (const [j, v] of row.entries()) {
        assert.ok(v >= 0.1 - 1e-9 && v <= 0.8 + 1e-9, `cell ${i},${j} = ${v} is outside [0.1, 0.8]`);
        if (known[i]![j] !== null) {
          assert.equal(v, known[i]![j]);
          continue;
        }
        const nb = [grid[i - 1]?.[j], grid[i + 1]?.[j], row[j - 1], row[j + 1]].filter((x): x is number => x !== undefined);
        const mean = nb.reduce((a, b) => a + b, 0) / nb.length;
        assert.ok(Math.abs(v - mean) < 1e-6, `cell ${i},${j}: ${v} is not the mean of its neighbours ${mean}`);
      }
    }
  });

  it('one known value (or all equal) fills the grid with it', () => {
    assert.deepEqual(fillGrid([[null, null], [null, 7]]), [[7, 7], [7, 7]]);
    assert.deepEqual(fillGrid([[2, null], [null, 2]]), [[2, 2], [2, 2]]);
  });

  it('a grid with nothing known is a programming error', () => {
    assert.throws(() => fillGrid([[null, null]]), /at least one known cell/);
  });
});

describe('contourAxis', () => {
  it('a log float: edges even in log space, exactly the range at the ends; values land in their cell', () => {
    const a = axis('lr', LR, 4);
    assert.equal(a.edges.length, 5);
    assert.equal(a.edges[0], 1e-4);
    assert.equal(a.edges[4], 1e-2);
    assert.ok(Math.abs(a.edges[2]! - 1e-3) < 1e-15);
    assert.equal(a.cellOf(1e-4), 0);
    assert.equal(a.cellOf(9e-4), 1);
    assert.equal(a.cellOf(1.1e-3), 2);
    assert.equal(a.cellOf(1e-2), 3, 'the top of the range is in the last cell');
    assert.equal(a.cellOf(5e-2), 3, 'a value past the range is clamped');
  });

  it('a linear float: even edges', () => {
    const a = axis('dropout', DROPOUT, 5);
    assert.deepEqual(a.edges.map((e) => Number(e.toFixed(12))), [0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    assert.equal(a.cellOf(0.25), 2);
  });

  it('a categorical: one cell per choice, in order; an unknown value has no cell', () => {
    const a = axis('opt', OPT);
    assert.deepEqual(a.categories, ['adam', 'sgd', 'rmsprop']);
    assert.equal(a.cells, 3);
    assert.equal(a.cellOf('rmsprop'), 2);
    assert.equal(a.cellOf('lion'), -1);
  });

  it('a parameter that cannot vary has no axis', () => {
    assert.equal(contourAxis('one', { type: 'categorical', choices: ['adam'] }), null);
    assert.equal(contourAxis('fixed', { type: 'float', low: 0.1, high: 0.1, log: false }), null);
  });
});

describe('contourMap', () => {
  const x = axis('lr', LR, 4);
  const y = axis('opt', OPT);

  it('a cell per grid square; measured cells hold the mean of their trials; points keep their values', () => {
    const trials = [
      done(0, 0.4, { lr: 1e-4, opt: 'adam' }),
      done(1, 0.6, { lr: 1.2e-4, opt: 'adam' }),
      done(2, 0.9, { lr: 5e-3, opt: 'rmsprop' }),
      done(3, 0.2, { lr: 2e-3, opt: 'sgd' }),
      done(4, 0.7, { opt: 'sgd' }),
    ];
    const map = contourMap(trials, x, y)!;
    assert.ok(map);
    assert.equal(map.cells.length, 4 * 3);
    const cell = (xAt: number, yAt: string) => map.cells.find((c) => Math.abs((c.x as number) - xAt) < 1e-12 && c.y === yAt)!;
    assert.equal(cell(1e-4, 'adam').value, 0.5, 'trials 0 and 1 share a cell: their mean');
    assert.equal(cell(1e-4, 'adam').measured, true);
    assert.equal(cell(1e-4, 'adam').x2, x.edges[1]);
    assert.equal(cell(1e-4, 'adam').y2, undefined, 'a categorical axis has no span');
    assert.equal(map.cells.filter((c) => c.measured).length, 3);
    for (const c of map.cells) assert.ok(c.value >= 0.2 && c.value <= 0.9);
    assert.deepEqual(
      map.points.map((p) => p.trial),
      [0, 1, 2, 3],
      'a trial without both parameters is left out',
    );
    assert.deepEqual(map.points[2], { trial: 2, x: 5e-3, y: 'rmsprop', value: 0.9 });
  });

  it('too little to map: fewer than 3 trials, or all in one row or one column', () => {
    assert.equal(contourMap([done(0, 0.4, { lr: 1e-4, opt: 'adam' }), done(1, 0.6, { lr: 1e-2, opt: 'sgd' })], x, y), null);
    const oneRow = [1e-4, 1e-3, 1e-2].map((lr, i) => done(i, i / 10, { lr, opt: 'adam' }));
    assert.equal(contourMap(oneRow, x, y), null);
    const oneColumn = ['adam', 'sgd', 'rmsprop'].map((opt, i) => done(i, i / 10, { lr: 1e-3, opt }));
    assert.equal(contourMap(oneColumn, x, y), null);
  });
});
