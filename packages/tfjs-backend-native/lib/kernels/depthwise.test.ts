import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients; tfjs-layers registers them all.
import '@tensorflow/tfjs-layers';
import '../index.js';
import { check, makeRng, pick, randInt, sizeOf, type Rng } from '../test-support/oracle.js';

type Pad = 'valid' | 'same' | number;
type Pair = [number, number];
type Shape4 = [number, number, number, number];

/** A depthwise convolution: x [n, h, w, c], filter [kh, kw, c, multiplier]. */
interface DwCase {
  x: Shape4;
  f: Shape4;
  strides: Pair;
  pad: Pad;
  dilations: Pair;
}

function describeCase(c: DwCase): string {
  return `x [${c.x}] f [${c.f}] strides [${c.strides}] pad ${c.pad} dilations [${c.dilations}]`;
}

function outShape(c: DwCase): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, c.dilations, c.pad, undefined, true, 'channelsLast').outShape;
}

function dw(c: DwCase) {
  return (x: tf.Tensor, f: tf.Tensor) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilations);
}

function dwCase(x: Shape4, k: Pair, mult: number, strides: Pair, pad: Pad, dilations: Pair = [1, 1]): DwCase {
  return { x, f: [k[0], k[1], x[3], mult], strides, pad, dilations };
}

/** Channels 1/3/7/33, multipliers 1/2/3, kernels 1x1/3x3/5x5, strides 1-3, 'same'/'valid'/numeric pad, dilation 2, batch 1-2. */
const EDGE_CASES: DwCase[] = [
  dwCase([1, 5, 5, 1], [1, 1], 1, [1, 1], 'valid'),
  dwCase([2, 6, 7, 3], [1, 1], 2, [2, 2], 'same'),
  dwCase([1, 7, 7, 3], [3, 3], 1, [1, 1], 'same'),
  dwCase([2, 8, 8, 7], [3, 3], 2, [2, 2], 'same'),
  dwCase([1, 9, 9, 7], [3, 3], 3, [3, 3], 'valid'),
  dwCase([1, 6, 6, 33], [3, 3], 1, [1, 1], 'same'),
  dwCase([2, 5, 6, 33], [3, 3], 3, [2, 1], 'valid'),
  dwCase([1, 9, 9, 3], [5, 5], 1, [1, 1], 'same'),
  dwCase([2, 9, 8, 7], [5, 5], 2, [3, 2], 'same'),
  dwCase([1, 11, 11, 1], [5, 5], 3, [2, 2], 'valid'),
  dwCase([1, 7, 7, 3], [3, 3], 2, [1, 1], 1),
  dwCase([2, 8, 7, 7], [5, 5], 1, [2, 2], 2),
  dwCase([1, 6, 6, 33], [3, 3], 2, [3, 3], 0),
  dwCase([1, 3, 3, 3], [5, 5], 2, [1, 1], 'same'),
  dwCase([1, 1, 1, 7], [3, 3], 3, [2, 2], 'same'),
  // Dilation 2 (stride 1: tfjs requires one of them to be 1).
  dwCase([1, 9, 9, 3], [3, 3], 1, [1, 1], 'same', [2, 2]),
  dwCase([2, 9, 10, 7], [3, 3], 2, [1, 1], 'valid', [2, 2]),
  dwCase([1, 8, 8, 33], [3, 3], 3, [1, 1], 'same', [2, 1]),
  dwCase([1, 11, 11, 1], [5, 5], 2, [1, 1], 2, [2, 2]),
  // Large enough to split across threads.
  dwCase([2, 12, 12, 33], [3, 3], 2, [1, 1], 'same'),
];

const CHANNELS = [1, 3, 7, 33];
const KERNELS = [1, 3, 5];

function randomCase(rng: Rng, allowDilation: boolean): DwCase {
  for (;;) {
    const k = pick(rng, KERNELS);
    const dilated = allowDilation && k > 1 && rng() < 0.3;
    const dilations: Pair = dilated ? [2, 2] : [1, 1];
    const strides: Pair = dilated ? [1, 1] : [randInt(rng, 1, 3), randInt(rng, 1, 3)];
    const padKind = pick(rng, ['same', 'valid', 'number'] as const);
    const pad: Pad = padKind === 'number' ? randInt(rng, 0, 2) : padKind;
    const c = dwCase([randInt(rng, 1, 2), randInt(rng, 1, 11), randInt(rng, 1, 11), pick(rng, CHANNELS)], [k, k], randInt(rng, 1, 3), strides, pad, dilations);
    try {
      if (outShape(c).some((d) => d <= 0)) continue;
    } catch {
      continue;
    }
    if (sizeOf(outShape(c)) * k * k <= 100_000) return c;
  }
}

const rng = makeRng(20240715);
const RANDOM_CASES = Array.from({ length: 8 }, () => randomCase(rng, true));

describe('DepthwiseConv2dNative (native vs cpu)', () => {
  for (const [i, c] of [...EDGE_CASES, ...RANDOM_CASES].entries()) {
    it(`depthwiseConv2d ${describeCase(c)}`, async () => {
      await check(`depthwiseConv2d ${describeCase(c)}`, 600 + i, [{ shape: c.x }, { shape: c.f }], dw(c), { scale: 'abs', native: ['depthwiseConv2d'] });
    });
  }
});

const ACTIVATIONS: { activation: tf.fused.Activation; leakyreluAlpha?: number }[] = [
  { activation: 'linear' },
  { activation: 'relu' },
  { activation: 'relu6' },
  { activation: 'elu' },
  { activation: 'leakyrelu', leakyreluAlpha: 0.1 },
  { activation: 'sigmoid' },
];

describe('FusedDepthwiseConv2D (bias + activation)', () => {
  const cases: DwCase[] = [
    dwCase([2, 7, 7, 3], [3, 3], 2, [1, 1], 'same'),
    dwCase([1, 9, 8, 33], [5, 5], 1, [2, 2], 'valid'),
    dwCase([1, 9, 9, 7], [3, 3], 3, [1, 1], 'same', [2, 2]),
  ];
  for (const [i, c] of cases.entries()) {
    const bias = [c.f[2] * c.f[3]];
    for (const act of ACTIVATIONS) {
      const name = `${act.activation}${act.leakyreluAlpha !== undefined ? ` alpha ${act.leakyreluAlpha}` : ''} ${describeCase(c)}`;
      it(`fused depthwiseConv2d + bias + ${name}`, async () => {
        // Inputs scaled up so relu6's upper clip is reached.
        await check(`fused depthwiseConv2d ${name}`, 700 + i, [{ shape: c.x, min: -3, max: 3 }, { shape: c.f, min: -2, max: 2 }, { shape: bias }], (x, f, b) =>
          tf.fused.depthwiseConv2d({
            x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: c.strides, pad: c.pad, dilations: c.dilations,
            activation: act.activation, ...(act.leakyreluAlpha !== undefined && { leakyreluAlpha: act.leakyreluAlpha }),
          }), { native: ['depthwiseConv2d'] });
      });
    }
  }

  it('fused depthwiseConv2d with relu and no bias', async () => {
    const c = cases[0]!;
    await check('fused depthwiseConv2d relu, no bias', 710, [{ shape: c.x }, { shape: c.f }], (x, f) =>
      tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', activation: 'relu' }), { native: ['depthwiseConv2d'] });
  });

  it('fused depthwiseConv2d with a [1, 1, 1, c*m] bias', async () => {
    await check('fused depthwiseConv2d bias [1,1,1,6]', 711, [{ shape: [1, 6, 6, 3] }, { shape: [3, 3, 3, 2] }, { shape: [1, 1, 1, 6] }], (x, f, b) =>
      tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: 1, pad: 'same', activation: 'relu' }),
    { native: ['depthwiseConv2d'] });
  });

  it('fused depthwiseConv2d with a bias broadcast along the width (falls back to cpu)', async () => {
    // Output [1, 4, 4, 4]: a [4, 1] bias varies along the output width, not the channels.
    await check('fused depthwiseConv2d bias [4,1]', 712, [{ shape: [1, 6, 6, 2] }, { shape: [3, 3, 2, 2] }, { shape: [4, 1] }], (x, f, b) =>
      tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: 1, pad: 'valid', activation: 'relu' }));
  });

  it('fused depthwiseConv2d with prelu (falls back to cpu)', async () => {
    await check('fused depthwiseConv2d prelu', 713, [{ shape: [1, 6, 6, 3] }, { shape: [3, 3, 3, 1] }, { shape: [3] }, { shape: [3] }], (x, f, b, a) =>
      tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: 1, pad: 'same', activation: 'prelu', preluActivationWeights: a }),
    { fallback: true });
  });
});

describe('DepthwiseConv2dNative gradients (tf.grads of sum(depthwiseConv2d(x, w) * r))', () => {
  // tfjs's gradient refuses dilation > 1 (gradients.test.ts checks the native override against finite differences).
  const GRAD_CASES: DwCase[] = [
    ...EDGE_CASES.filter((c) => c.dilations[0] === 1 && c.dilations[1] === 1 && sizeOf(c.x) <= 2000),
    ...Array.from({ length: 4 }, () => randomCase(rng, false)),
  ];
  for (const [i, c] of GRAD_CASES.entries()) {
    it(`d/dx, d/dw ${describeCase(c)}`, async () => {
      await check(`depthwise grads ${describeCase(c)}`, 800 + i, [{ shape: c.x }, { shape: c.f }, { shape: outShape(c) }], (x, f, r) => {
        const op = dw(c);
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a, b), r)))([x, f]);
      }, { scale: 'abs', native: ['depthwiseConv2d', 'depthwiseConv2dBackpropInput', 'depthwiseConv2dBackpropFilter'] });
    });
  }

  it('gradients of fused depthwiseConv2d + bias (linear: tfjs keeps it fused under the tape)', async () => {
    const c = dwCase([2, 7, 7, 3], [3, 3], 2, [2, 2], 'same');
    await check('fused depthwise grads', 850, [{ shape: c.x }, { shape: c.f }, { shape: [6] }, { shape: outShape(c) }], (x, f, b, r) =>
      tf.grads((a: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
        tf.sum(tf.mul(tf.fused.depthwiseConv2d({ x: a as tf.Tensor4D, filter: w as tf.Tensor4D, bias, strides: 2, pad: 'same' }), r)))([x, f, b]),
    { scale: 'abs', native: ['depthwiseConv2d', 'depthwiseConv2dBackpropInput', 'depthwiseConv2dBackpropFilter'] });
  });

  it('gradients of fused depthwiseConv2d + bias + relu', async () => {
    const c = dwCase([1, 8, 8, 7], [3, 3], 1, [1, 1], 'valid');
    await check('fused depthwise relu grads', 851, [{ shape: c.x }, { shape: c.f }, { shape: [7] }, { shape: outShape(c) }], (x, f, b, r) =>
      tf.grads((a: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
        tf.sum(tf.mul(tf.fused.depthwiseConv2d({ x: a as tf.Tensor4D, filter: w as tf.Tensor4D, bias, strides: 1, pad: 'valid', activation: 'relu' }), r)))([x, f, b]),
    { scale: 'abs', native: ['depthwiseConv2dBackpropInput', 'depthwiseConv2dBackpropFilter'] });
  });
});

describe('DepthwiseConv2dNativeBackpropInput / BackpropFilter called directly', () => {
  // Dilation 1 only: tfjs's cpu backprop kernels ignore the dilations attribute.
  const direct: DwCase[] = [
    dwCase([1, 7, 7, 3], [3, 3], 1, [2, 2], 'same'),
    dwCase([2, 11, 10, 7], [3, 3], 2, [3, 3], 'same'),
    dwCase([1, 9, 11, 3], [5, 5], 3, [3, 2], 'valid'),
    dwCase([2, 8, 7, 33], [1, 1], 2, [2, 2], 'valid'),
    dwCase([1, 7, 7, 1], [5, 5], 3, [1, 1], 'same'),
    dwCase([1, 9, 9, 7], [3, 3], 1, [2, 2], 1),
    dwCase([2, 6, 6, 33], [3, 3], 1, [1, 1], 2),
    ...Array.from({ length: 4 }, () => randomCase(rng, false)),
  ];
  for (const [i, c] of direct.entries()) {
    const dyShape = outShape(c);
    const attrs = { strides: c.strides, pad: c.pad, dilations: [1, 1], dimRoundingMode: undefined };
    it(`DepthwiseConv2dNativeBackpropInput ${describeCase(c)}`, async () => {
      await check(`DepthwiseConv2dNativeBackpropInput ${describeCase(c)}`, 900 + i, [{ shape: dyShape }, { shape: c.f }], (dy, filter) =>
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor,
      { scale: 'abs', native: ['depthwiseConv2dBackpropInput'] });
    });
    it(`DepthwiseConv2dNativeBackpropFilter ${describeCase(c)}`, async () => {
      await check(`DepthwiseConv2dNativeBackpropFilter ${describeCase(c)}`, 950 + i, [{ shape: c.x }, { shape: dyShape }], (x, dy) =>
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: c.f } as unknown as tf.NamedAttrMap) as tf.Tensor,
      { scale: 'abs', native: ['depthwiseConv2dBackpropFilter'] });
    });
  }
});
