import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients; tfjs-layers registers them all.
import '@tensorflow/tfjs-layers';
import '../index.js';
import { check, makeRng, randInt, sizeOf, type InputSpec, type Rng } from '../test-support/oracle.js';

type Binary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** The binary ops, with input ranges that keep them well-defined (division away from 0, pow of a positive base). */
const BINARY: { name: string; fn: Binary; a?: Partial<InputSpec>; b?: Partial<InputSpec> }[] = [
  { name: 'add', fn: tf.add },
  { name: 'sub', fn: tf.sub },
  { name: 'mul', fn: tf.mul },
  { name: 'div', fn: tf.div, b: { min: 0.5, max: 2 } },
  { name: 'maximum', fn: tf.maximum },
  { name: 'minimum', fn: tf.minimum },
  { name: 'pow', fn: tf.pow, a: { min: 0.1, max: 3 }, b: { min: -2, max: 2 } },
  { name: 'squaredDifference', fn: tf.squaredDifference },
];

/** Hand-picked broadcasting patterns; every pair is also run the other way round. */
const SHAPE_PAIRS: [number[], number[]][] = [
  [[37], [37]],
  [[2, 3, 4], [4]],
  [[2, 3, 4], [3, 1]],
  [[2, 1, 4], [1, 3, 1]],
  [[], [2, 3]],
  [[], []],
  [[1], [7]],
  [[1], [1]],
  [[3, 1], [1, 4]],
  [[5, 1, 1], [1, 1, 33]],
  [[1, 1, 1], [1, 1, 1]],
  [[2, 1, 3, 1], [1, 4, 1, 5]],
  [[2, 3, 1, 2, 1], [1, 1, 4, 1, 3]],
  [[2, 1, 2, 1, 2, 3], [1, 2, 1, 2, 1, 3]],
  [[2, 3, 4, 5, 6, 7], [7]],
  [[2, 3, 4, 5, 6, 7], [2, 1, 4, 1, 6, 1]],
  // Rank 7 with no mergeable dimensions: beyond the native kernel (falls back).
  [[2, 1, 2, 1, 2, 1, 2], [1, 2, 1, 2, 1, 2, 1]],
  // Empty tensors.
  [[0], [0]],
  [[0, 3], [3]],
  [[2, 0], [1]],
  [[0], []],
  [[4, 0, 2], [4, 1, 2]],
  // Large enough to be split across threads, with a broadcast row.
  [[64, 1100], [1100]],
  [[70001], []],
];

/** A random broadcasting pair of rank up to 6: each dimension is n or 1 on each side, and either side may be shorter. */
function randomPair(rng: Rng): [number[], number[]] {
  const rank = randInt(rng, 1, 6);
  const full = Array.from({ length: rank }, () => randInt(rng, 2, rank > 4 ? 3 : 5));
  const a = full.map((d) => (rng() < 0.35 ? 1 : d));
  const b = full.map((d, i) => (a[i] === 1 ? (rng() < 0.8 ? d : 1) : rng() < 0.4 ? 1 : d));
  const cutA = rng() < 0.3 ? randInt(rng, 0, rank) : 0;
  const cutB = cutA === 0 && rng() < 0.3 ? randInt(rng, 0, rank) : 0;
  return [a.slice(cutA), b.slice(cutB)];
}

const rng = makeRng(31337);
const RANDOM_PAIRS = Array.from({ length: 30 }, () => randomPair(rng));

function nativeExpected(a: number[], b: number[]): string[] | undefined {
  const out = tf.backend_util.assertAndGetBroadcastShape(a, b);
  return out.length <= 6 && sizeOf(out) > 0 ? ['binary'] : undefined;
}

describe('binary ops with broadcasting (native vs cpu)', () => {
  for (const op of BINARY) {
    it(`${op.name}: hand-picked shapes, both orders`, async () => {
      for (const [i, [s1, s2]] of SHAPE_PAIRS.entries()) {
        for (const [a, b] of [[s1, s2], [s2, s1]] as const) {
          const native = nativeExpected(a, b);
          await check(`${op.name} [${a}] [${b}]`, 10 * i, [{ shape: a, ...op.a }, { shape: b, ...op.b }], op.fn, native ? { native } : {});
        }
      }
    });
    it(`${op.name}: random broadcasting patterns of rank 1 to 6`, async () => {
      for (const [i, [a, b]] of RANDOM_PAIRS.entries()) {
        const native = nativeExpected(a, b);
        await check(`${op.name} [${a}] [${b}]`, 500 + i, [{ shape: a, ...op.a }, { shape: b, ...op.b }], op.fn, native ? { native } : {});
      }
    });
  }

  it('every broadcasting pattern of rank 1 to 4 (each dimension full or 1 on each side; shorter ranks), all ops', async () => {
    // Inner dimensions longer than a vector at every ISA, with a tail.
    const FULL = [[37], [5, 37], [3, 5, 19], [2, 3, 4, 33]];
    let seed = 2000;
    for (const full of FULL) {
      const rank = full.length;
      for (let maskA = 0; maskA < 1 << rank; maskA++) {
        for (let maskB = 0; maskB < 1 << rank; maskB++) {
          const a = full.map((d, i) => (maskA & (1 << i) ? 1 : d));
          const b = full.map((d, i) => (maskB & (1 << i) ? 1 : d));
          // Also with the leading dimension dropped from one side (rank broadcasting).
          const variants: [number[], number[]][] = [[a, b]];
          if (rank > 1 && maskA === 0) variants.push([a, b.slice(1)]);
          if (rank > 1 && maskB === 0) variants.push([a.slice(1), b]);
          for (const [sa, sb] of variants) {
            // All eight ops in one comparison; a positive base for pow, a divisor away from 0.
            await check(`binary ops [${sa}] [${sb}]`, seed++, [{ shape: sa, min: 0.1, max: 3 }, { shape: sb, min: 0.5, max: 2 }, { shape: sb }],
              (x, y, z) => [...BINARY.filter((op) => op.name !== 'pow' && op.name !== 'div').map((op) => op.fn(x, z)), tf.div(x, y), tf.pow(x, z)],
              { native: ['binary'] });
          }
        }
      }
    }
  });

  it('maximum and minimum propagate NaN like cpu (either side, vector body and tail, broadcast)', async () => {
    const size = 37;
    const r = makeRng(5);
    const withNaN = (p: number) => Float32Array.from({ length: size }, () => (r() < p ? NaN : r() * 2 - 1));
    const a = withNaN(0.3);
    const b = withNaN(0.3);
    for (const fn of [tf.maximum, tf.minimum]) {
      await check('NaN', 1, [{ shape: [size], values: a }, { shape: [size], values: b }], fn, { native: ['binary'] });
      await check('NaN scalar', 2, [{ shape: [size], values: a }, { shape: [], values: [NaN] }], fn, { native: ['binary'] });
      await check('NaN scalar first', 3, [{ shape: [], values: [NaN] }, { shape: [size], values: b }], fn, { native: ['binary'] });
      await check('NaN broadcast row', 4, [{ shape: [3, size], min: -1, max: 1 }, { shape: [size], values: b }], fn, { native: ['binary'] });
    }
  });

  it('infinities and signed zeros', async () => {
    const values = [Infinity, -Infinity, 0, -0, 1, -1, 3.5, -2.25, Infinity, -Infinity, 0, -0, 1e30, -1e30, 1e-30, 7, 9, 11];
    const other = [1, 1, -0, 0, Infinity, -Infinity, 0, 0, Infinity, Infinity, -Infinity, 0, 1e30, 1e30, 2, -7, 3, 0.5];
    for (const op of BINARY.filter((o) => o.name !== 'pow' && o.name !== 'div')) {
      await check(`${op.name} special values`, 1, [{ shape: [values.length], values }, { shape: [other.length], values: other }], op.fn, { native: ['binary'] });
    }
  });
});

type Unary = (x: tf.Tensor) => tf.Tensor;

/** The unary ops with their input ranges. */
const UNARY: { name: string; fn: Unary; min?: number; max?: number }[] = [
  { name: 'abs', fn: tf.abs },
  { name: 'neg', fn: tf.neg },
  { name: 'relu', fn: tf.relu },
  { name: 'relu6', fn: tf.relu6, min: -3, max: 9 },
  { name: 'step', fn: (x) => tf.step(x) },
  { name: 'step alpha 0.3', fn: (x) => tf.step(x, 0.3) },
  { name: 'square', fn: tf.square },
  { name: 'sqrt', fn: tf.sqrt, min: 0, max: 10 },
  { name: 'rsqrt', fn: tf.rsqrt, min: 0.05, max: 10 },
  { name: 'exp', fn: tf.exp, min: -10, max: 10 },
  { name: 'log', fn: tf.log, min: 0.001, max: 100 },
  { name: 'sigmoid', fn: tf.sigmoid, min: -20, max: 20 },
  { name: 'tanh', fn: tf.tanh, min: -5, max: 5 },
  { name: 'leakyRelu', fn: (x) => tf.leakyRelu(x) },
  { name: 'leakyRelu alpha 0.05', fn: (x) => tf.leakyRelu(x, 0.05) },
  { name: 'elu', fn: tf.elu, min: -5, max: 5 },
  { name: 'reciprocal', fn: tf.reciprocal, min: 0.1, max: 10 },
  { name: 'floor', fn: tf.floor, min: -10, max: 10 },
  { name: 'ceil', fn: tf.ceil, min: -10, max: 10 },
  { name: 'round', fn: tf.round, min: -10, max: 10 },
  { name: 'sign', fn: tf.sign },
  { name: 'log1p', fn: tf.log1p, min: -0.99, max: 10 },
  { name: 'expm1', fn: tf.expm1, min: -5, max: 5 },
  { name: 'softplus', fn: tf.softplus, min: -30, max: 30 },
  { name: 'sin', fn: tf.sin, min: -10, max: 10 },
  { name: 'cos', fn: tf.cos, min: -10, max: 10 },
  { name: 'clipByValue', fn: (x) => tf.clipByValue(x, -0.5, 0.7) },
];

/** Sizes: empty, one, a vector body plus a tail at every ISA's width, a 3-D shape, and one split across threads. */
const UNARY_SHAPES = [[0], [1], [37], [3, 5, 7], [70001]];

describe('unary ops (native vs cpu)', () => {
  for (const [i, op] of UNARY.entries()) {
    it(op.name, async () => {
      for (const shape of UNARY_SHAPES) {
        await check(`${op.name} [${shape}]`, 100 + i, [{ shape, min: op.min ?? -3, max: op.max ?? 3 }], op.fn, sizeOf(shape) > 0 ? { native: ['unary'] } : {});
      }
    });
  }

  it('round: halves go to the even neighbour like cpu', async () => {
    const halves = Array.from({ length: 41 }, (_, i) => -10 + i * 0.5);
    await check('round halves', 1, [{ shape: [halves.length], values: halves }], tf.round, { native: ['unary'] });
    await check('round near halves', 2, [{ shape: [6], values: [0.49999997, 0.50000006, -0.49999997, -0.50000006, 2.4999998, 2.5000002] }], tf.round, { native: ['unary'] });
  });

  const special = [NaN, Infinity, -Infinity, 0, -0, 1, -1, NaN, 0.5, -0.5, 2, NaN];
  // 40 values: NaN lands in the vector body and in the tail.
  const specialValues = Array.from({ length: 40 }, (_, i) => special[i % special.length]!);
  const domainless = new Set(['sqrt', 'rsqrt', 'log', 'log1p', 'reciprocal']);
  for (const op of UNARY) {
    if (op.name === 'sign') continue; // see the next test
    it(`${op.name}: NaN and infinite inputs give what cpu gives`, async () => {
      const input = domainless.has(op.name) ? specialValues.map((v) => (Number.isFinite(v) ? Math.abs(v) : v)) : specialValues;
      await check(`${op.name} special values`, 1, [{ shape: [input.length], values: input }], op.fn, { native: ['unary'] });
    });
  }
});

describe('where native is deliberately not tfjs cpu', () => {
  it('tfjs cpu Sign maps NaN to 0; native sign(NaN) is NaN, as TensorFlow and NumPy give', async () => {
    const values = [NaN, 2, -3, 0, NaN];
    await tf.setBackend('cpu');
    const cpu = Array.from(tf.sign(tf.tensor1d(values)).dataSync());
    await tf.setBackend('native');
    const native = Array.from(tf.sign(tf.tensor1d(values)).dataSync());
    assert.deepEqual(cpu, [0, 1, -1, 0, 0]);
    assert.deepEqual(native, [NaN, 1, -1, 0, NaN]);
  });
});

describe('gradients through native elementwise kernels', () => {
  const ops: { name: string; fn: Unary; min?: number; max?: number }[] = [
    { name: 'relu', fn: tf.relu },
    { name: 'relu6', fn: tf.relu6, min: -3, max: 9 },
    { name: 'elu', fn: tf.elu },
    { name: 'leakyRelu', fn: (x) => tf.leakyRelu(x, 0.1) },
    { name: 'sigmoid', fn: tf.sigmoid },
    { name: 'tanh', fn: tf.tanh },
    { name: 'softplus', fn: tf.softplus },
    { name: 'sqrt', fn: tf.sqrt, min: 0.1, max: 4 },
    { name: 'exp', fn: tf.exp },
    { name: 'log', fn: tf.log, min: 0.1, max: 4 },
    { name: 'square', fn: tf.square },
  ];
  for (const op of ops) {
    it(`d/dx sum(${op.name}(x) * r)`, async () => {
      await check(`${op.name} grad`, 7, [{ shape: [3, 37], min: op.min ?? -3, max: op.max ?? 3 }, { shape: [3, 37] }], (x, r) =>
        tf.grad((a: tf.Tensor) => tf.sum(tf.mul(op.fn(a), r)))(x));
    });
  }

  it('gradients of broadcasting binary ops reduce over the broadcast dimensions', async () => {
    for (const op of BINARY) {
      // tfjs-core's Maximum, Minimum and SquaredDifference gradients do not reduce over broadcast
      // dimensions (an error on any backend): same shapes for those.
      const bShape = ['maximum', 'minimum', 'squaredDifference'].includes(op.name) ? [2, 3, 4] : [3, 1];
      await check(`${op.name} grads`, 8, [{ shape: [2, 3, 4], ...op.a }, { shape: bShape, ...op.b }, { shape: [2, 3, 4] }], (a, b, r) =>
        tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(op.fn(p, q), r)))([a, b]), { scale: 'abs' });
    }
  });
});
