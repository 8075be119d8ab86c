import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients; tfjs-layers registers them all.
import '@tensorflow/tfjs-layers';
import '../index.js';
import { check, makeRng, pick, randInt } from '../test-support/oracle.js';

/** Shapes of A and B for C[m x n] = op(A) op(B) with the given transposes and batch shapes. */
function shapes(m: number, k: number, n: number, ta: boolean, tb: boolean, aBatch: number[] = [], bBatch: number[] = []): [number[], number[]] {
  return [[...aBatch, ...(ta ? [k, m] : [m, k])], [...bBatch, ...(tb ? [n, k] : [k, n])]];
}

const TRANSPOSES: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];

const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 1],
  [3, 5, 7],
  [16, 16, 16],
  [17, 1, 9],
  [1, 64, 10],
  [37, 33, 300],
  [37, 300, 33], // k > 256: the GEMM's k blocking accumulates
  [10, 20, 8],
  [9, 13, 17],
  [128, 64, 70], // over 1 MFLOP: rows split across threads
];

describe('BatchMatMul (native vs cpu)', () => {
  for (const [m, k, n] of SIZES) {
    for (const [ta, tb] of TRANSPOSES) {
      const name = `matMul m ${m} k ${k} n ${n} transposeA ${ta} transposeB ${tb}`;
      it(name, async () => {
        const [a, b] = shapes(m, k, n, ta, tb);
        await check(name, m * 7 + k * 3 + n, [{ shape: a }, { shape: b }], (x, y) => tf.matMul(x, y, ta, tb), { scale: 'abs', native: ['gemm'] });
      });
    }
  }

  const batched: { a: number[]; b: number[]; ta?: boolean; tb?: boolean; native?: boolean }[] = [
    { a: [4, 5, 6], b: [4, 6, 7] },
    { a: [3, 5, 6], b: [3, 7, 6], tb: true },
    { a: [3, 6, 5], b: [3, 6, 7], ta: true },
    { a: [2, 6, 5], b: [2, 7, 6], ta: true, tb: true },
    { a: [1, 5, 6], b: [4, 6, 7] },
    { a: [4, 5, 6], b: [1, 6, 7] },
    { a: [4, 5, 6], b: [6, 7] },
    { a: [5, 6], b: [3, 6, 7] },
    { a: [2, 3, 5, 6], b: [2, 3, 6, 7] },
    { a: [2, 3, 5, 6], b: [1, 6, 7] },
    { a: [1, 1, 5, 6], b: [2, 3, 6, 7] },
    { a: [1, 1, 1], b: [1, 1, 1] },
    { a: [3, 1, 1], b: [3, 1, 1] },
    { a: [5, 17, 33], b: [5, 33, 9] },
    // Batch shapes only tfjs's kernel broadcasts: fall back.
    { a: [2, 1, 5, 6], b: [1, 3, 6, 7], native: false },
    { a: [3, 5, 6], b: [2, 3, 6, 7], native: false },
    { a: [3, 5, 6], b: [1, 3, 6, 7], native: false },
    { a: [1, 1, 5, 6], b: [6, 7] },
  ];
  for (const [i, c] of batched.entries()) {
    const name = `batched matMul [${c.a}] x [${c.b}] transposeA ${c.ta ?? false} transposeB ${c.tb ?? false}`;
    it(name, async () => {
      await check(name, 40 + i, [{ shape: c.a }, { shape: c.b }], (x, y) => tf.matMul(x, y, c.ta, c.tb),
        { scale: 'abs', ...(c.native !== false && { native: ['gemm'] }) });
    });
  }

  // One side holds a single matrix but has more batch dimensions (of size 1) than the other: the output's
  // batch shape is the broadcast of both ([1, 1] with [2] is [1, 2]), not the other side's batch shape.
  for (const c of [{ a: [5, 6], b: [1, 1, 6, 7] }, { a: [2, 5, 6], b: [1, 1, 6, 7] }, { a: [1, 5, 6], b: [1, 1, 6, 7] }, { a: [1, 1, 5, 6], b: [3, 6, 7] }]) {
    const name = `batched matMul [${c.a}] x [${c.b}] (single matrix with more batch dimensions than the other side)`;
    it(name, async () => {
      await check(name, 60, [{ shape: c.a }, { shape: c.b }], (x, y) => tf.matMul(x, y), { scale: 'abs' });
    });
  }

  it('empty matrices: k = 0 gives zeros, m = 0 and n = 0 give empty results', async () => {
    for (const [m, k, n] of [[3, 0, 4], [0, 5, 4], [3, 5, 0], [0, 0, 0]] as const) {
      await check(`matMul m ${m} k ${k} n ${n}`, 70, [{ shape: [m, k] }, { shape: [k, n] }], (x, y) => tf.matMul(x, y));
    }
  });

  it('randomized shapes and transposes', async () => {
    const rng = makeRng(4242);
    for (let i = 0; i < 20; i++) {
      const m = randInt(rng, 1, 40), k = randInt(rng, 1, 40), n = randInt(rng, 1, 40);
      const ta = rng() < 0.5, tb = rng() < 0.5;
      const batch = pick(rng, [[], [2], [3], [2, 2]]);
      const bSide = pick(rng, ['same', 'one', 'none'] as const);
      const bBatch = bSide === 'same' ? batch : bSide === 'one' && batch.length > 0 ? [1] : [];
      const [a, b] = shapes(m, k, n, ta, tb, batch, bBatch);
      await check(`matMul [${a}] x [${b}] ta ${ta} tb ${tb}`, 1000 + i, [{ shape: a }, { shape: b }], (x, y) => tf.matMul(x, y, ta, tb), { scale: 'abs', native: ['gemm'] });
    }
  });
});

const ACTIVATIONS: { activation: tf.fused.Activation; leakyreluAlpha?: number }[] = [
  { activation: 'linear' },
  { activation: 'relu' },
  { activation: 'relu6' },
  { activation: 'elu' },
  { activation: 'leakyrelu', leakyreluAlpha: 0.2 },
  { activation: 'leakyrelu', leakyreluAlpha: 0.01 },
  { activation: 'sigmoid' },
];

describe('_FusedMatMul (bias + activation)', () => {
  const cases: { m: number; k: number; n: number; ta: boolean; tb: boolean; batch?: number[] }[] = [
    { m: 5, k: 7, n: 3, ta: false, tb: false },
    { m: 37, k: 33, n: 17, ta: true, tb: false },
    { m: 9, k: 300, n: 33, ta: false, tb: true }, // k blocking: the epilogue must run once, after the last block
    { m: 4, k: 6, n: 10, ta: true, tb: true, batch: [3] },
    { m: 1, k: 1, n: 1, ta: false, tb: false },
  ];
  for (const [i, c] of cases.entries()) {
    for (const act of ACTIVATIONS) {
      const name = `fused matMul ${act.activation}${act.leakyreluAlpha !== undefined ? ` alpha ${act.leakyreluAlpha}` : ''} m ${c.m} k ${c.k} n ${c.n} ta ${c.ta} tb ${c.tb}${c.batch ? ` batch [${c.batch}]` : ''}`;
      it(name, async () => {
        const [a, b] = shapes(c.m, c.k, c.n, c.ta, c.tb, c.batch, c.batch);
        await check(name, 500 + i, [{ shape: a, min: -2, max: 2 }, { shape: b }, { shape: [c.n] }], (x, y, bias) =>
          tf.fused.matMul({ a: x, b: y, transposeA: c.ta, transposeB: c.tb, bias, activation: act.activation, ...(act.leakyreluAlpha !== undefined && { leakyreluAlpha: act.leakyreluAlpha }) }),
        { native: ['gemm'] });
      });
    }
  }

  it('fused matMul with relu and no bias', async () => {
    await check('fused matMul relu no bias', 520, [{ shape: [6, 5] }, { shape: [5, 9] }], (x, y) => tf.fused.matMul({ a: x, b: y, activation: 'relu' }), { native: ['gemm'] });
  });

  it('fused matMul with a [1, n] bias', async () => {
    await check('fused matMul bias [1,n]', 521, [{ shape: [6, 5] }, { shape: [5, 9] }, { shape: [1, 9] }], (x, y, bias) => tf.fused.matMul({ a: x, b: y, bias, activation: 'relu' }));
  });

  it('fused matMul with a full [m, n] bias (falls back)', async () => {
    await check('fused matMul bias [m,n]', 522, [{ shape: [6, 5] }, { shape: [5, 9] }, { shape: [6, 9] }], (x, y, bias) => tf.fused.matMul({ a: x, b: y, bias, activation: 'relu' }));
  });

  it('fused matMul with a per-row [m, 1] bias where m == n', async () => {
    await check('fused matMul bias [m,1]', 523, [{ shape: [6, 5] }, { shape: [5, 6] }, { shape: [6, 1] }], (x, y, bias) => tf.fused.matMul({ a: x, b: y, bias }));
  });

  it('fused matMul with prelu (falls back)', async () => {
    await check('fused matMul prelu', 524, [{ shape: [6, 5] }, { shape: [5, 9] }, { shape: [9] }, { shape: [9] }], (x, y, bias, alpha) =>
      tf.fused.matMul({ a: x, b: y, bias, activation: 'prelu', preluActivationWeights: alpha }));
  });
});

describe('matMul gradients', () => {
  for (const [ta, tb] of TRANSPOSES) {
    it(`d/da, d/db of sum(matMul(a, b) * r) transposeA ${ta} transposeB ${tb}`, async () => {
      const [a, b] = shapes(7, 9, 5, ta, tb, [2], [2]);
      await check(`matMul grads ta ${ta} tb ${tb}`, 600, [{ shape: a }, { shape: b }, { shape: [2, 7, 5] }], (x, y, r) =>
        tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p, q, ta, tb), r)))([x, y]), { scale: 'abs', native: ['gemm'] });
    });
  }

  it('gradients of fused matMul + bias + relu (a, b and bias)', async () => {
    await check('fused matMul grads', 610, [{ shape: [8, 6] }, { shape: [6, 5] }, { shape: [5] }, { shape: [8, 5] }], (x, y, bias, r) =>
      tf.grads((p: tf.Tensor, q: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(tf.fused.matMul({ a: p, b: q, bias: c, activation: 'relu' }), r)))([x, y, bias]),
    { scale: 'abs', native: ['gemm'] });
  });
});
