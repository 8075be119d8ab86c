import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients; tfjs-layers registers them all.
import '@tensorflow/tfjs-layers';
import '../index.js';
import {
  assertClose, check, countAddonCalls, forEachIsa, makeInputs, makeRng, pick, randInt, runOn, worstMismatch, type InputData, type Output, type Rng,
} from '../test-support/oracle.js';

type Pair = [number, number];
type Shape4 = [number, number, number, number];

interface PoolCase {
  x: Shape4;
  filter: Pair;
  strides: Pair;
  pad: 'valid' | 'same' | number;
  rounding?: 'floor' | 'round' | 'ceil';
}

function describeCase(c: PoolCase): string {
  return `x [${c.x}] window [${c.filter}] strides [${c.strides}] pad ${c.pad}${c.rounding ? ` ${c.rounding}` : ''}`;
}

function info(c: PoolCase): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(c.x, c.filter, c.strides, 1, c.pad, c.rounding);
}

/** Whether every window lies inside the image (no padding at all): then tfjs's cpu AvgPoolGrad is right. */
function unpadded(c: PoolCase): boolean {
  const i = info(c);
  const { top, left } = i.padInfo;
  return top === 0 && left === 0 &&
    (i.outHeight - 1) * i.strideHeight + i.filterHeight <= i.inHeight &&
    (i.outWidth - 1) * i.strideWidth + i.filterWidth <= i.inWidth;
}

const CHANNELS = [1, 3, 7, 8, 16, 24, 33];

function randomCase(rng: Rng): PoolCase {
  for (;;) {
    const fh = randInt(rng, 1, 4);
    const fw = rng() < 0.7 ? fh : randInt(rng, 1, 4);
    const strides: Pair = [randInt(rng, 1, 3), randInt(rng, 1, 3)];
    // A numeric pad only with square windows and strides: tfjs then sizes the output width from the
    // window height and stride height, leaving windows wholly outside the image.
    const square = fh === fw && strides[0] === strides[1];
    const padKind = pick(rng, square ? ['same', 'valid', 'number'] as const : ['same', 'valid'] as const);
    const pad = padKind === 'number' ? randInt(rng, 0, fh - 1) : padKind;
    const c: PoolCase = {
      x: [randInt(rng, 1, 3), randInt(rng, 1, 12), randInt(rng, 1, 12), pick(rng, CHANNELS)],
      filter: [fh, fw],
      strides,
      pad,
    };
    try {
      const i = info(c);
      if (i.outHeight > 0 && i.outWidth > 0) return c;
    } catch {
      // not a valid pooling (window larger than the input with 'valid'): draw again
    }
  }
}

const EDGE_CASES: PoolCase[] = [
  { x: [1, 1, 1, 1], filter: [1, 1], strides: [1, 1], pad: 'valid' },
  { x: [1, 5, 5, 3], filter: [1, 1], strides: [2, 2], pad: 'valid' },
  { x: [1, 7, 7, 3], filter: [2, 2], strides: [2, 2], pad: 'valid' },
  { x: [1, 7, 7, 3], filter: [2, 2], strides: [2, 2], pad: 'same' },
  { x: [2, 9, 9, 7], filter: [3, 3], strides: [2, 2], pad: 'same' },
  { x: [1, 11, 10, 33], filter: [3, 3], strides: [3, 3], pad: 'same' },
  { x: [1, 8, 8, 16], filter: [4, 4], strides: [1, 1], pad: 'same' },
  { x: [2, 12, 11, 8], filter: [4, 3], strides: [3, 2], pad: 'valid' },
  { x: [1, 3, 3, 7], filter: [4, 4], strides: [1, 1], pad: 'same' },
  { x: [1, 2, 2, 3], filter: [4, 4], strides: [3, 3], pad: 'same' },
  { x: [1, 9, 9, 3], filter: [3, 3], strides: [2, 2], pad: 1 },
  { x: [1, 9, 9, 3], filter: [3, 3], strides: [2, 2], pad: 1, rounding: 'ceil' },
  { x: [1, 10, 10, 3], filter: [3, 3], strides: [3, 3], pad: 1, rounding: 'round' },
  { x: [3, 12, 12, 33], filter: [2, 2], strides: [2, 2], pad: 'valid' },
];

const rng = makeRng(777);
const CASES = [...EDGE_CASES, ...Array.from({ length: 16 }, () => randomCase(rng))];

function maxPool(c: PoolCase) {
  return (x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, c.filter, c.strides, c.pad, c.rounding);
}
function avgPool(c: PoolCase) {
  return (x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, c.filter, c.strides, c.pad, c.rounding);
}
/** Gradient of sum(pool(x) * r) with respect to x. */
function poolGrad(pool: (x: tf.Tensor) => tf.Tensor) {
  return (x: tf.Tensor, r: tf.Tensor) => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(pool(a), r)))(x);
}

describe('MaxPool / AvgPool forward (native vs cpu)', () => {
  for (const [i, c] of CASES.entries()) {
    it(`maxPool ${describeCase(c)}`, async () => {
      await check(`maxPool ${describeCase(c)}`, 10 + i, [{ shape: c.x }], maxPool(c), { native: ['maxPool'] });
    });
    it(`avgPool ${describeCase(c)}`, async () => {
      await check(`avgPool ${describeCase(c)}`, 10 + i, [{ shape: c.x }], avgPool(c), { native: ['avgPool'] });
    });
  }

  it('avgPool with a numeric pad as large as the window (windows wholly in the padding)', async () => {
    const c: PoolCase = { x: [1, 4, 4, 2], filter: [2, 2], strides: [2, 2], pad: 2 };
    await check(`avgPool ${describeCase(c)}`, 99, [{ shape: c.x }], avgPool(c));
  });
});

describe('MaxPool gradient (native vs cpu)', () => {
  for (const [i, c] of CASES.entries()) {
    it(`maxPool grad ${describeCase(c)}`, async () => {
      await check(`maxPool grad ${describeCase(c)}`, 100 + i, [{ shape: c.x }, { shape: info(c).outShape }], poolGrad(maxPool(c)), { native: ['maxPoolGrad'] });
    });
  }

  it('ties pick the same (first, row-major) maximum as cpu', async () => {
    const ties: PoolCase[] = [
      { x: [1, 6, 6, 3], filter: [2, 2], strides: [2, 2], pad: 'valid' },
      { x: [2, 7, 7, 33], filter: [3, 3], strides: [1, 1], pad: 'same' },
      { x: [1, 9, 9, 17], filter: [3, 3], strides: [2, 2], pad: 'same' },
    ];
    for (const [i, c] of ties.entries()) {
      const size = c.x.reduce((a, b) => a * b, 1);
      const zeros = new Float32Array(size);
      // Mostly zeros, a few ones: many windows hold several equal maxima.
      const r = makeRng(300 + i);
      const fewValues = Float32Array.from({ length: size }, () => (r() < 0.2 ? 1 : 0));
      for (const [label, values] of [['all zeros', zeros], ['zeros and ones', fewValues]] as const) {
        await check(`maxPool grad with ties (${label}) ${describeCase(c)}`, 310 + i, [{ shape: c.x, values }, { shape: info(c).outShape }], poolGrad(maxPool(c)), { native: ['maxPoolGrad'] });
      }
    }
  });
});

describe('AvgPool gradient', () => {
  const valid = CASES.filter(unpadded);
  it('has unpadded cases to compare with cpu', () => assert.ok(valid.length >= 5, `${valid.length} unpadded cases`));
  for (const [i, c] of valid.entries()) {
    it(`avgPool grad (no padding, vs cpu) ${describeCase(c)}`, async () => {
      await check(`avgPool grad ${describeCase(c)}`, 200 + i, [{ shape: c.x }, { shape: info(c).outShape }], poolGrad(avgPool(c)), { native: ['avgPoolGrad'] });
    });
  }

  /**
   * d/dx of sum(avgPool(x) * r) by central differences of the forward pass on cpu (which divides
   * by the positions inside the image, correctly). The function is linear in x, so a step of 0.5
   * is exact up to float32 rounding; all perturbed inputs go through one batched avgPool.
   */
  async function finiteDifferences(c: PoolCase, x: InputData, r: InputData): Promise<Output> {
    const step = 0.5;
    const [n, h, w, ch] = c.x;
    const size = n * h * w * ch;
    const batch = new Float32Array(2 * size * size);
    for (let i = 0; i < size; i++) {
      const plus = batch.subarray((2 * i) * size, (2 * i + 1) * size);
      const minus = batch.subarray((2 * i + 1) * size, (2 * i + 2) * size);
      plus.set(x.values);
      minus.set(x.values);
      plus[i]! += step;
      minus[i]! -= step;
    }
    const [pooled] = await runOn('cpu', (b: tf.Tensor) => avgPool(c)(b), [{ shape: [2 * size * n, h, w, ch], dtype: 'float32', values: batch }]);
    const per = r.values.length;
    const grad = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      let fPlus = 0, fMinus = 0;
      for (let j = 0; j < per; j++) {
        fPlus += pooled!.values[(2 * i) * per + j]! * r.values[j]!;
        fMinus += pooled!.values[(2 * i + 1) * per + j]! * r.values[j]!;
      }
      grad[i] = (fPlus - fMinus) / (2 * step);
    }
    return { shape: [...c.x], dtype: 'float32', values: grad };
  }

  const padded: PoolCase[] = [
    { x: [1, 5, 5, 3], filter: [3, 3], strides: [1, 1], pad: 'same' },
    { x: [2, 6, 7, 2], filter: [2, 2], strides: [1, 1], pad: 'same' },
    { x: [1, 7, 7, 17], filter: [3, 3], strides: [2, 2], pad: 'same' },
    { x: [1, 5, 6, 3], filter: [4, 3], strides: [3, 2], pad: 'same' },
    { x: [1, 6, 6, 2], filter: [3, 3], strides: [2, 2], pad: 1 },
  ];
  it('tfjs cpu AvgPoolGrad bug: same padding divides by full window size — native matches finite differences, cpu does not', async () => {
    for (const [i, c] of padded.entries()) {
      const what = `avgPool grad ${describeCase(c)}`;
      const inputs = makeInputs(400 + i, [{ shape: c.x }, { shape: info(c).outShape }]);
      const exact = await finiteDifferences(c, inputs[0]!, inputs[1]!);
      const [cpu] = await runOn('cpu', poolGrad(avgPool(c)), inputs);
      // Documents the cpu bug (if tfjs fixes it, this fails: then compare with cpu again).
      assert.equal(worstMismatch(cpu!.values, exact.values, 1e-4).ok, false, `${what}: tfjs cpu now matches finite differences`);
      await forEachIsa(async (isa) => {
        const { result, calls } = await countAddonCalls(() => runOn('native', poolGrad(avgPool(c)), inputs));
        assert.ok(calls.has('avgPoolGrad'), `${what} [${isa}]: native AvgPoolGrad did not run`);
        assertClose(result[0]!, exact, `${what} [${isa}] vs finite differences`);
        assert.equal(worstMismatch(result[0]!.values, cpu!.values, 1e-4).ok, false, `${what} [${isa}]: native equals cpu's wrong gradient`);
      });
      await tf.setBackend('native');
    }
  });

  it('same padding that pads nothing (window 2, stride 2, even size) still matches cpu', async () => {
    const c: PoolCase = { x: [2, 8, 6, 5], filter: [2, 2], strides: [2, 2], pad: 'same' };
    assert.ok(unpadded(c));
    await check(`avgPool grad ${describeCase(c)}`, 450, [{ shape: c.x }, { shape: info(c).outShape }], poolGrad(avgPool(c)), { native: ['avgPoolGrad'] });
  });
});
