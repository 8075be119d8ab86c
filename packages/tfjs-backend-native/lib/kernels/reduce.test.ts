import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../index.js';
import { check, makeRng, permutation, randInt, type CompareOptions } from '../test-support/oracle.js';

type Reduce = (x: tf.Tensor, axis?: number | number[], keepDims?: boolean) => tf.Tensor;

const REDUCTIONS: { name: string; fn: Reduce; scale?: CompareOptions['scale'] }[] = [
  { name: 'sum', fn: tf.sum, scale: 'abs' },
  { name: 'max', fn: tf.max },
  { name: 'min', fn: tf.min },
  { name: 'mean', fn: tf.mean, scale: 'abs' },
];

/** Every non-empty subset of 0..rank-1. */
function axisSubsets(rank: number): number[][] {
  const subsets: number[][] = [];
  for (let mask = 1; mask < 1 << rank; mask++) subsets.push([...Array(rank).keys()].filter((d) => mask & (1 << d)));
  return subsets;
}

function contiguous(axes: number[]): boolean {
  const sorted = [...axes].sort((a, b) => a - b);
  return sorted.every((a, i) => i === 0 || a === sorted[i - 1]! + 1);
}

const rng = makeRng(99);
/** One random shape per rank (dimensions 1 to 5, so some are 1). */
const SHAPES = [1, 2, 3, 4].map((rank) => Array.from({ length: rank }, () => randInt(rng, 1, 5)));
// And one per rank with no dimension of 1 and an odd inner size.
SHAPES.push([37], [3, 17], [2, 3, 19], [2, 3, 2, 33]);


describe('Sum / Max / Min / Mean over every axis combination (native vs cpu)', () => {
  for (const op of REDUCTIONS) {
    for (const shape of SHAPES) {
      it(`${op.name} of [${shape}]: every axis set, keepDims both ways`, async () => {
        for (const axes of axisSubsets(shape.length)) {
          for (const keepDims of [false, true]) {
            // Adjacent axes run natively; others fall back to cpu's transpose-then-reduce.
            const options: CompareOptions = { ...(op.scale && { scale: op.scale }), ...(contiguous(axes) && { native: ['reduce'] }) };
            await check(`${op.name} [${shape}] axes [${axes}] keepDims ${keepDims}`, 7, [{ shape }], (x) => op.fn(x, axes, keepDims), options);
          }
        }
      });
    }
    it(`${op.name}: all axes (axis undefined)`, async () => {
      const options: CompareOptions = { ...(op.scale && { scale: op.scale }), native: ['reduce'] };
      await check(`${op.name} all`, 8, [{ shape: [3, 4, 5] }], (x) => op.fn(x), options);
      await check(`${op.name} all keepDims`, 8, [{ shape: [3, 4, 5] }], (x) => op.fn(x, undefined, true), options);
      await check(`${op.name} 1-D`, 8, [{ shape: [1] }], (x) => op.fn(x), options);
      await check(`${op.name} [70001] all`, 9, [{ shape: [70001] }], (x) => op.fn(x), options);
    });
    it(`${op.name}: negative axes, a single number`, async () => {
      const options: CompareOptions = { ...(op.scale && { scale: op.scale }), native: ['reduce'] };
      await check(`${op.name} axis -1`, 8, [{ shape: [3, 4, 5] }], (x) => op.fn(x, -1), options);
      await check(`${op.name} axes [-2, -1]`, 8, [{ shape: [3, 4, 5] }], (x) => op.fn(x, [-2, -1]), options);
      await check(`${op.name} axis 1`, 8, [{ shape: [3, 4, 5] }], (x) => op.fn(x, 1), options);
    });
    it(`${op.name}: long reductions (vector accumulators, split across threads)`, async () => {
      const options: CompareOptions = { ...(op.scale && { scale: op.scale }), native: ['reduce'] };
      await check(`${op.name} [3, 5000] axis 1`, 9, [{ shape: [3, 5000] }], (x) => op.fn(x, 1), options);
      await check(`${op.name} [1024, 130] axis 0`, 9, [{ shape: [1024, 130] }], (x) => op.fn(x, 0), options);
      await check(`${op.name} [8, 16, 16, 64] axes [0, 1, 2]`, 9, [{ shape: [8, 16, 16, 64] }], (x) => op.fn(x, [0, 1, 2]), options);
    });
    if (op.name === 'mean') {
      // tfjs's cpu Mean divides the (empty) input before summing, so it gives 0; the mean of nothing is 0/0.
      it('tfjs cpu Mean of an empty axis gives 0; native gives NaN, as TensorFlow and NumPy do', async () => {
        await tf.setBackend('native');
        const y = tf.mean(tf.zeros([0, 3]), 0);
        assert.deepEqual(y.shape, [3]);
        assert.ok(Array.from(y.dataSync()).every(Number.isNaN));
      });
      continue;
    }
    it(`${op.name}: empty tensors`, async () => {
      await check(`${op.name} [0, 3] axis 0`, 10, [{ shape: [0, 3] }], (x) => op.fn(x, 0));
      await check(`${op.name} [2, 0] axis 1`, 10, [{ shape: [2, 0] }], (x) => op.fn(x, 1));
      await check(`${op.name} [2, 0, 3] axis 0`, 10, [{ shape: [2, 0, 3] }], (x) => op.fn(x, 0));
    });
  }

  for (const [name, fn] of [['max', tf.max], ['min', tf.min]] as const) {
    it(`${name} propagates NaN like cpu`, async () => {
      const r = makeRng(3);
      const values = Float32Array.from({ length: 4 * 37 }, () => (r() < 0.05 ? NaN : r()));
      values[0] = NaN; // NaN first in a row
      for (const axis of [0, 1]) {
        await check(`${name} NaN axis ${axis}`, 1, [{ shape: [4, 37], values }], (x) => fn(x, axis), { native: ['reduce'] });
      }
      await check(`${name} NaN all`, 1, [{ shape: [4, 37], values }], (x) => fn(x), { native: ['reduce'] });
    });
  }
});

describe('ops built on Max with axes', () => {
  it('logSumExp, logSoftmax and tf.losses.softmaxCrossEntropy', async () => {
    await check('logSumExp axis 1', 20, [{ shape: [4, 10], min: -5, max: 5 }], (x) => tf.logSumExp(x, 1));
    await check('logSoftmax', 20, [{ shape: [4, 10], min: -5, max: 5 }], (x) => tf.logSoftmax(x));
    await check('softmaxCrossEntropy', 20, [{ shape: [4, 10], min: 0, max: 1 }, { shape: [4, 10], min: -5, max: 5 }], (labels, logits) =>
      tf.losses.softmaxCrossEntropy(labels, logits));
  });
});

describe('ArgMax (native vs cpu)', () => {
  for (const shape of SHAPES) {
    it(`argMax of [${shape}] on each axis`, async () => {
      for (let axis = 0; axis < shape.length; axis++) {
        await check(`argMax [${shape}] axis ${axis}`, 11, [{ shape }], (x) => tf.argMax(x, axis), { native: ['argMax'] });
      }
    });
  }

  it('ties: the first maximum, like cpu', async () => {
    const r = makeRng(4);
    const values = Float32Array.from({ length: 5 * 6 * 7 }, () => Math.floor(r() * 2));
    for (let axis = 0; axis < 3; axis++) {
      await check(`argMax ties axis ${axis}`, 12, [{ shape: [5, 6, 7], values }], (x) => tf.argMax(x, axis), { native: ['argMax'] });
      await check(`argMax zeros axis ${axis}`, 12, [{ shape: [5, 6, 7], values: new Float32Array(210) }], (x) => tf.argMax(x, axis), { native: ['argMax'] });
    }
  });
});

describe('Softmax over the last axis (native vs cpu)', () => {
  const shapes = [[1], [5], [1, 1], [3, 10], [4, 1], [2, 3, 37], [2, 2, 2, 65], [300, 10]];
  for (const shape of shapes) {
    it(`softmax [${shape}]`, async () => {
      await check(`softmax [${shape}]`, 13, [{ shape, min: -5, max: 5 }], (x) => tf.softmax(x), { native: ['softmax'] });
      // Large logits: needs the max subtraction.
      await check(`softmax [${shape}] large logits`, 14, [{ shape, min: -80, max: 80 }], (x) => tf.softmax(x), { native: ['softmax'] });
    });
  }
});

describe('Transpose (native vs cpu)', () => {
  it('random permutations of rank 1 to 6', async () => {
    const r = makeRng(2024);
    for (let rank = 1; rank <= 6; rank++) {
      for (let i = 0; i < 6; i++) {
        const shape = Array.from({ length: rank }, () => randInt(r, 1, rank > 4 ? 3 : 5));
        const perm = permutation(r, rank);
        // tf.transpose clones rank-1 tensors without running the kernel.
        await check(`transpose [${shape}] perm [${perm}]`, 15 + i, [{ shape }], (x) => tf.transpose(x, perm), rank > 1 ? { native: ['transpose'] } : {});
      }
    }
  });

  it('identity permutation, empty and large tensors', async () => {
    await check('transpose identity', 16, [{ shape: [3, 4, 5] }], (x) => tf.transpose(x, [0, 1, 2]), { native: ['transpose'] });
    await check('transpose [0, 3]', 16, [{ shape: [0, 3] }], (x) => tf.transpose(x, [1, 0]));
    await check('transpose [2, 0, 3]', 16, [{ shape: [2, 0, 3] }], (x) => tf.transpose(x, [2, 0, 1]));
    const big = [64, 1100];
    await check(`transpose [${big}]`, 16, [{ shape: big }], (x) => tf.transpose(x), { native: ['transpose'] });
    await check('transpose [8, 16, 16, 33] NHWC->NCHW', 16, [{ shape: [8, 16, 16, 33] }], (x) => tf.transpose(x, [0, 3, 1, 2]), { native: ['transpose'] });
    // Rank 7 falls back.
    const shape7 = [2, 1, 2, 3, 1, 2, 2];
    await check('transpose rank 7', 16, [{ shape: shape7 }], (x) => tf.transpose(x, [6, 5, 4, 3, 2, 1, 0]));
  });
});
