import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as tfl from '@tensorflow/tfjs-layers';
import { DloptError } from '../errors.js';
import { Random } from '../util/random.js';
import { magnitudeMasks } from './magnitude-masks.js';
import type { PrunableKernel } from './prunable-kernels.js';

/** A kernel description without a model: masks only read layer, name, shape, size and inputAxisReduces. */
function kernel(layer: string, shape: number[], inputAxisReduces = true): PrunableKernel {
  const size = shape.reduce((a, b) => a * b, 1);
  return { layer, weight: undefined as unknown as tfl.LayerVariable, name: `${layer}/kernel`, shape, size, index: 0, inputAxisReduces };
}

/** Random weights, rounded to `step` so that equal magnitudes (ties) are common. */
function values(size: number, seed: number, scale = 1, step = 0): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: size }, () => {
    const v = rng.uniform(-scale, scale);
    return step > 0 ? Math.round(v / step) * step : v;
  });
}

/** Brute force: sort every weight by (|w| ascending, later first) and prune the first `count`. */
function bruteForce(arrays: Float32Array[], count: number): Uint8Array[] {
  const all = arrays.flatMap((a, i) => Array.from(a, (v, j) => ({ abs: Math.abs(v), i, j, order: 0 })));
  all.forEach((e, order) => (e.order = order));
  all.sort((a, b) => a.abs - b.abs || b.order - a.order);
  const masks = arrays.map((a) => new Uint8Array(a.length).fill(1));
  for (const e of all.slice(0, count)) masks[e.i]![e.j] = 0;
  return masks;
}

const zeros = (m: Uint8Array): number => m.reduce((n, b) => n + (b === 0 ? 1 : 0), 0);

describe('magnitudeMasks', () => {
  it('per layer: prunes exactly round(sparsity · size) of each kernel, the smallest |w|, ties to the earlier weight', () => {
    const kernels = [kernel('a', [3, 3, 4, 5]), kernel('b', [20, 7]), kernel('c', [1, 1, 6, 6])];
    const vals = kernels.map((k, i) => values(k.size, 10 + i, 1, 0.05));
    for (const sparsity of [0, 0.3, 0.5, 0.77]) {
      const { masks, skipped } = magnitudeMasks(kernels, vals, { sparsity, scope: 'layer' });
      assert.deepEqual(skipped, []);
      kernels.forEach((k, i) => {
        assert.equal(zeros(masks[i]!), Math.round(sparsity * k.size), `${k.layer} at ${sparsity}`);
        assert.deepEqual(masks[i], bruteForce([vals[i]!], Math.round(sparsity * k.size))[0], `${k.layer} at ${sparsity}: the smallest`);
      });
    }
  });

  it('global: one threshold over all kernels, exactly round(sparsity · total) pruned; larger weights keep more', () => {
    const kernels = [kernel('small', [30, 10]), kernel('large', [10, 30]), kernel('mid', [3, 3, 4, 4])];
    const vals = [values(300, 1, 0.6, 0.002), values(300, 2, 1, 0.002), values(144, 3, 0.8, 0.002)];
    const total = 744;
    for (const sparsity of [0.25, 0.5, 0.7]) {
      const { masks } = magnitudeMasks(kernels, vals, { sparsity, scope: 'global' });
      const pruned = masks.reduce((n, m) => n + zeros(m), 0);
      assert.equal(pruned, Math.round(sparsity * total), `at ${sparsity}`);
      assert.deepEqual(masks, bruteForce(vals, Math.round(sparsity * total)), `at ${sparsity}: the smallest over all kernels`);
      assert.ok(zeros(masks[1]!) < zeros(masks[0]!), `at ${sparsity}: the layer of larger weights keeps more`);
      // One threshold: every kept |w| is at least every pruned |w|, across layers.
      let maxPruned = 0;
      let minKept = Infinity;
      masks.forEach((m, i) => m.forEach((keep, j) => {
        const v = Math.abs(vals[i]![j]!);
        if (keep) minKept = Math.min(minKept, v);
        else maxPruned = Math.max(maxPruned, v);
      }));
      assert.ok(maxPruned <= minKept);
    }
  });

  it('N:M 2:4: every 4 consecutive weights along the input axis keep exactly their 2 largest', () => {
    const conv = kernel('conv', [3, 3, 8, 5]);
    const dense = kernel('dense', [12, 3]);
    const vals = [values(conv.size, 4, 1, 0.1), values(dense.size, 5, 1, 0.1)];
    const { masks, skipped } = magnitudeMasks([conv, dense], vals, { pattern: { n: 2, m: 4 } });
    assert.deepEqual(skipped, []);
    const check = (v: Float32Array, mask: Uint8Array, outer: number, axis: number, inner: number, what: string): void => {
      let groups = 0;
      for (let o = 0; o < outer; o++) {
        for (let c0 = 0; c0 < axis; c0 += 4) {
          for (let col = 0; col < inner; col++) {
            const idx = [0, 1, 2, 3].map((g) => (o * axis + c0 + g) * inner + col);
            const kept = idx.filter((i) => mask[i] === 1);
            assert.equal(kept.length, 2, `${what}: group ${o}/${c0}/${col}`);
            // The 2 largest (earlier first on ties): the same as sorting the group.
            const expected = [...idx].sort((a, b) => Math.abs(v[b]!) - Math.abs(v[a]!) || a - b).slice(0, 2).sort((a, b) => a - b);
            assert.deepEqual(kept, expected, `${what}: group ${o}/${c0}/${col}`);
            groups++;
          }
        }
      }
      assert.equal(groups, (outer * axis * inner) / 4);
    };
    check(vals[0]!, masks[0]!, 9, 8, 5, 'conv');
    check(vals[1]!, masks[1]!, 1, 12, 3, 'dense');
    assert.equal(zeros(masks[0]!), conv.size / 2);
  });

  it('N:M leaves dense, and reports, kernels whose input axis is no multiple of m, and depthwise kernels', () => {
    const ok = kernel('ok', [8, 2]);
    const odd = kernel('odd', [3, 3, 6, 4]);
    const depthwise = kernel('dw', [3, 3, 8, 1], false);
    const vals = [values(16, 1), values(odd.size, 2), values(72, 3)];
    const { masks, skipped } = magnitudeMasks([ok, odd, depthwise], vals, { pattern: { n: 1, m: 4 } });
    assert.equal(zeros(masks[0]!), 12);
    assert.equal(zeros(masks[1]!), 0);
    assert.equal(zeros(masks[2]!), 0);
    assert.deepEqual(skipped.map((s) => s.layer), ['odd', 'dw']);
    assert.match(skipped[0]!.reason, /6 entries, not a multiple of 4/);
    assert.match(skipped[1]!.reason, /depthwise/);
  });

  it('rejects sparsities outside [0, 1), bad patterns and a pattern contradicting the sparsity', () => {
    const k = [kernel('a', [4, 4])];
    const v = [values(16, 1)];
    for (const sparsity of [1, 1.5, -0.1, Number.NaN]) {
      for (const scope of ['layer', 'global'] as const) {
        assert.throws(() => magnitudeMasks(k, v, { sparsity, scope }), (e: unknown) => e instanceof DloptError && /sparsity must be in \[0, 1\)/.test(e.message));
      }
    }
    for (const pattern of [{ n: 4, m: 4 }, { n: 0, m: 4 }, { n: 1.5, m: 4 }]) {
      assert.throws(() => magnitudeMasks(k, v, { pattern }), /N:M pattern needs integers 1 <= n < m/);
    }
    assert.throws(() => magnitudeMasks(k, v, { pattern: { n: 2, m: 4 }, sparsity: 0.8 }), /contradicts the 2:4 pattern/);
    assert.equal(zeros(magnitudeMasks(k, v, { pattern: { n: 2, m: 4 }, sparsity: 0.5 }).masks[0]!), 8);
    assert.throws(() => magnitudeMasks(k, [new Float32Array(15)], { sparsity: 0.5, scope: 'layer' }), /layer 'a'.*15 elements/);
    const nan = values(16, 1);
    nan[3] = Number.NaN;
    assert.throws(() => magnitudeMasks(k, [nan], { sparsity: 0.5, scope: 'layer' }), /layer 'a' has NaN weights/);
  });

  it('refuses to empty a layer: global scope names it, as does per-layer scope on a tiny kernel', () => {
    const kernels = [kernel('big', [10, 10]), kernel('conv1', [2, 5])];
    const vals = [values(100, 1, 1).map((x) => 1 + Math.abs(x)), values(10, 2, 0.001)];
    assert.throws(
      () => magnitudeMasks(kernels, vals, { sparsity: 0.1, scope: 'global' }),
      (e: unknown) => e instanceof DloptError && e.message === "global sparsity 0.1 would remove every weight of layer 'conv1'; lower --sparsity or use --scope layer",
    );
    // 0.08 · 110 = 8.8: 9 pruned, all from conv1, which keeps one.
    assert.equal(zeros(magnitudeMasks(kernels, vals, { sparsity: 0.08, scope: 'global' }).masks[1]!), 9);
    assert.throws(() => magnitudeMasks([kernel('tiny', [5])], [values(5, 3)], { sparsity: 0.95, scope: 'layer' }), /would remove every weight of layer 'tiny'/);
  });

  it('is fast on a 270k-weight model', () => {
    const kernels = [kernel('a', [3, 3, 64, 128]), kernel('b', [3, 3, 128, 128]), kernel('c', [2048, 10])];
    const vals = kernels.map((k, i) => values(k.size, i));
    const start = performance.now();
    const global = magnitudeMasks(kernels, vals, { sparsity: 0.9, scope: 'global' });
    const layer = magnitudeMasks(kernels, vals, { sparsity: 0.9, scope: 'layer' });
    const nm = magnitudeMasks(kernels, vals, { pattern: { n: 2, m: 4 } });
    const ms = performance.now() - start;
    assert.equal(global.masks.reduce((n, m) => n + zeros(m), 0), Math.round(0.9 * 241664));
    assert.equal(zeros(layer.masks[2]!), Math.round(0.9 * 20480));
    assert.equal(zeros(nm.masks[1]!), 147456 / 2);
    assert.ok(ms < 1500, `took ${ms.toFixed(0)} ms`);
  });
});
