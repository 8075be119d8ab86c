import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../index.js';
import { check, type InputSpec } from '../test-support/oracle.js';

/** int32 and bool tensors never reach the addon: the kernels fall back to cpu and must give cpu's answer (and dtype). */
describe('int32 / bool inputs fall back to cpu', () => {
  const i32 = (shape: number[], min = -20, max = 20): InputSpec => ({ shape, dtype: 'int32', min, max });
  const bool = (shape: number[]): InputSpec => ({ shape, dtype: 'bool' });

  const binary: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['maximum', tf.maximum], ['minimum', tf.minimum], ['squaredDifference', tf.squaredDifference],
  ];
  for (const [name, fn] of binary) {
    it(`${name} on int32, with broadcasting`, async () => {
      await check(`${name} int32`, 1, [i32([37]), i32([37])], fn, { fallback: true });
      await check(`${name} int32 broadcast`, 2, [i32([2, 3, 4]), i32([3, 1])], fn, { fallback: true });
      await check(`${name} int32 scalar`, 3, [i32([]), i32([5])], fn, { fallback: true });
    });
  }

  it('div and pow on int32', async () => {
    await check('div int32', 4, [i32([20]), i32([20], 1, 9)], tf.div);
    await check('floorDiv int32', 4, [i32([20]), i32([20], 1, 9)], tf.floorDiv, { fallback: true });
    await check('pow int32', 4, [i32([20], 0, 5), i32([20], 0, 4)], tf.pow, { fallback: true });
  });

  it('unary ops on int32', async () => {
    const unary: [string, (x: tf.Tensor) => tf.Tensor][] = [
      ['abs', tf.abs], ['neg', tf.neg], ['relu', tf.relu], ['relu6', tf.relu6], ['square', tf.square], ['sign', tf.sign],
      ['clipByValue', (x) => tf.clipByValue(x, -5, 7)], ['step', (x) => tf.step(x)],
    ];
    for (const [name, fn] of unary) await check(`${name} int32`, 5, [i32([37])], fn, { fallback: true });
  });

  it('reductions, argMax and transpose on int32', async () => {
    await check('sum int32', 6, [i32([3, 4, 5])], (x) => tf.sum(x, 1), { fallback: true });
    await check('sum int32 all', 6, [i32([3, 4, 5])], (x) => tf.sum(x), { fallback: true });
    await check('max int32', 6, [i32([3, 4, 5])], (x) => tf.max(x, 2), { fallback: true });
    await check('min int32', 6, [i32([3, 4, 5])], (x) => tf.min(x, [0, 1]), { fallback: true });
    await check('mean int32', 6, [i32([3, 4, 5])], (x) => tf.mean(x, 1), { fallback: true });
    await check('argMax int32', 6, [i32([3, 4, 5])], (x) => tf.argMax(x, 1), { fallback: true });
    await check('transpose int32', 6, [i32([3, 4, 5])], (x) => tf.transpose(x, [2, 0, 1]), { fallback: true });
  });

  it('bool inputs', async () => {
    await check('transpose bool', 7, [bool([3, 4, 5])], (x) => tf.transpose(x, [1, 2, 0]), { fallback: true });
    await check('sum bool', 7, [bool([3, 4, 5])], (x) => tf.sum(x, 2), { fallback: true });
    await check('max bool', 7, [bool([3, 4, 5])], (x) => tf.max(x, 2), { fallback: true });
    await check('add bool', 7, [bool([12]), bool([12])], tf.add, { fallback: true });
    await check('logicalAnd', 7, [bool([12]), bool([12])], tf.logicalAnd, { fallback: true });
  });

  it('matMul on int32', async () => {
    await check('matMul int32', 8, [i32([3, 4], -5, 5), i32([4, 5], -5, 5)], (a, b) => tf.matMul(a, b), { fallback: true });
  });

  it('float32 mixed with int32 is cast to float32 and runs natively', async () => {
    await check('add float32 + int32', 9, [{ shape: [37] }, i32([37])], tf.add, { native: ['binary'] });
  });
});
