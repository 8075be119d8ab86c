import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients; tfjs-layers registers them all.
import '@tensorflow/tfjs-layers';
import '../index.js';
import { check, makeRng, pick, randInt, sizeOf, type Rng } from '../test-support/oracle.js';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Pair = [number, number];
type Shape4 = [number, number, number, number];

interface ConvCase {
  x: Shape4;
  f: Shape4;
  strides: Pair;
  pad: Pad;
  dilations: Pair;
  rounding?: 'floor' | 'round' | 'ceil';
}

function describeCase(c: ConvCase): string {
  const pad = typeof c.pad === 'object' ? JSON.stringify(c.pad) : c.pad;
  return `x [${c.x}] f [${c.f}] strides [${c.strides}] pad ${pad} dilations [${c.dilations}]${c.rounding ? ` ${c.rounding}` : ''}`;
}

function outShape(c: ConvCase): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, c.dilations, c.pad, c.rounding, false, 'channelsLast').outShape;
}

function macs(c: ConvCase): number {
  return sizeOf(outShape(c)) * c.f[0] * c.f[1] * c.f[2];
}

const CHANNELS = [1, 2, 3, 4, 7, 8, 16, 33];
const FILTERS = [1, 3, 7, 8, 16, 17, 33];
const KERNELS = [1, 2, 3, 4, 5, 7];

/** A random convolution small enough for the JavaScript oracle; dilation only with stride 1 (tfjs's rule). */
function randomCase(rng: Rng, allowDilation: boolean): ConvCase {
  for (;;) {
    const kh = pick(rng, KERNELS);
    const kw = rng() < 0.7 ? kh : pick(rng, KERNELS);
    const dilated = allowDilation && rng() < 0.3;
    const dilations: Pair = dilated ? [pick(rng, [1, 2]), 2] : [1, 1];
    if (rng() < 0.5 && dilated) dilations.reverse();
    const strides: Pair = dilated ? [1, 1] : [randInt(rng, 1, 3), randInt(rng, 1, 3)];
    const padKind = pick(rng, ['same', 'valid', 'number'] as const);
    const pad: Pad = padKind === 'number' ? randInt(rng, 0, 2) : padKind;
    const extra = padKind === 'valid' ? 0 : -Math.min(kh, kw);
    const h = randInt(rng, Math.max(1, (kh - 1) * dilations[0] + 1 + extra), 12);
    const w = randInt(rng, Math.max(1, (kw - 1) * dilations[1] + 1 + extra), 12);
    const c: ConvCase = {
      x: [randInt(rng, 1, 3), h, w, pick(rng, CHANNELS)],
      f: [kh, kw, 0, pick(rng, FILTERS)],
      strides,
      pad,
      dilations,
    };
    c.f[2] = c.x[3];
    try {
      if (outShape(c).some((d) => d <= 0)) continue;
    } catch {
      continue;
    }
    if (macs(c) <= 250_000) return c;
  }
}

/** Hand-picked edge cases: batch 1, 1x1/3x3/5x5/7x7, strides 2 and 3, dilation, odd 'same', channels 3/7/33. */
const EDGE_CASES: ConvCase[] = [
  { x: [1, 5, 5, 3], f: [1, 1, 3, 7], strides: [1, 1], pad: 'valid', dilations: [1, 1] },
  { x: [1, 7, 7, 3], f: [3, 3, 3, 33], strides: [1, 1], pad: 'same', dilations: [1, 1] },
  { x: [2, 9, 9, 7], f: [5, 5, 7, 8], strides: [2, 2], pad: 'same', dilations: [1, 1] },
  { x: [1, 12, 11, 3], f: [7, 7, 3, 5], strides: [3, 3], pad: 'valid', dilations: [1, 1] },
  { x: [1, 11, 11, 3], f: [7, 7, 3, 4], strides: [3, 3], pad: 'same', dilations: [1, 1] },
  { x: [2, 9, 10, 4], f: [3, 3, 4, 6], strides: [1, 1], pad: 'same', dilations: [2, 2] },
  { x: [1, 9, 9, 3], f: [3, 3, 3, 7], strides: [1, 1], pad: 'valid', dilations: [2, 2] },
  { x: [1, 8, 9, 5], f: [3, 3, 5, 4], strides: [1, 1], pad: 'same', dilations: [2, 1] },
  { x: [1, 8, 9, 5], f: [3, 3, 5, 4], strides: [1, 1], pad: 'same', dilations: [1, 2] },
  { x: [1, 7, 7, 2], f: [5, 5, 2, 3], strides: [1, 1], pad: 'same', dilations: [2, 2] },
  { x: [2, 7, 8, 3], f: [3, 3, 3, 8], strides: [2, 2], pad: 1, dilations: [1, 1] },
  { x: [1, 9, 9, 4], f: [5, 5, 4, 5], strides: [1, 1], pad: 2, dilations: [1, 1] },
  { x: [1, 6, 7, 3], f: [3, 2, 3, 4], strides: [1, 1], pad: [[0, 0], [1, 2], [0, 3], [0, 0]], dilations: [1, 1] },
  { x: [1, 7, 9, 3], f: [3, 5, 3, 7], strides: [2, 3], pad: 'same', dilations: [1, 1] },
  { x: [1, 7, 9, 3], f: [3, 5, 3, 7], strides: [3, 2], pad: 'valid', dilations: [1, 1] },
  { x: [1, 3, 3, 33], f: [1, 1, 33, 1], strides: [1, 1], pad: 'valid', dilations: [1, 1] },
  { x: [1, 5, 5, 33], f: [3, 3, 33, 17], strides: [1, 1], pad: 'same', dilations: [1, 1] },
  { x: [1, 3, 3, 2], f: [5, 5, 2, 3], strides: [1, 1], pad: 'same', dilations: [1, 1] },
  { x: [1, 1, 1, 3], f: [3, 3, 3, 4], strides: [2, 2], pad: 'same', dilations: [1, 1] },
  { x: [1, 1, 1, 1], f: [1, 1, 1, 1], strides: [1, 1], pad: 'valid', dilations: [1, 1] },
  { x: [1, 6, 6, 4], f: [4, 4, 4, 64], strides: [2, 2], pad: 'same', dilations: [1, 1] },
  { x: [2, 9, 9, 3], f: [3, 3, 3, 4], strides: [2, 2], pad: 1, dilations: [1, 1], rounding: 'ceil' },
  { x: [2, 10, 10, 3], f: [3, 3, 3, 4], strides: [3, 3], pad: 1, dilations: [1, 1], rounding: 'round' },
  // Strides larger than the kernel: input pixels skipped.
  { x: [1, 10, 10, 3], f: [1, 1, 3, 4], strides: [3, 3], pad: 'same', dilations: [1, 1] },
  { x: [2, 11, 11, 7], f: [2, 2, 7, 9], strides: [3, 3], pad: 'valid', dilations: [1, 1] },
  // Large enough that the work is split across threads.
  { x: [2, 12, 12, 16], f: [3, 3, 16, 32], strides: [1, 1], pad: 'same', dilations: [1, 1] },
];

const rng = makeRng(20240601);
const RANDOM_CASES = Array.from({ length: 14 }, () => randomCase(rng, true));
const GRAD_CASES = [...EDGE_CASES.filter((c) => c.dilations[0] === 1 && c.dilations[1] === 1), ...Array.from({ length: 8 }, () => randomCase(rng, false))];

function conv(c: ConvCase) {
  return (x: tf.Tensor, f: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilations, c.rounding);
}

describe('Conv2D (native vs cpu)', () => {
  for (const [i, c] of [...EDGE_CASES, ...RANDOM_CASES].entries()) {
    it(`conv2d ${describeCase(c)}`, async () => {
      await check(`conv2d ${describeCase(c)}`, 100 + i, [{ shape: c.x }, { shape: c.f }], conv(c), { scale: 'abs', native: ['conv2d'] });
    });
  }
});

const ACTIVATIONS: { activation: tf.fused.Activation; leakyreluAlpha?: number }[] = [
  { activation: 'linear' },
  { activation: 'relu' },
  { activation: 'relu6' },
  { activation: 'elu' },
  { activation: 'leakyrelu' },
  { activation: 'leakyrelu', leakyreluAlpha: 0.05 },
  { activation: 'sigmoid' },
];

describe('FusedConv2D (bias + activation)', () => {
  const cases: ConvCase[] = [
    { x: [2, 7, 7, 3], f: [3, 3, 3, 33], strides: [1, 1], pad: 'same', dilations: [1, 1] },
    { x: [1, 9, 8, 7], f: [5, 5, 7, 8], strides: [2, 2], pad: 'valid', dilations: [1, 1] },
    { x: [1, 9, 9, 4], f: [3, 3, 4, 17], strides: [1, 1], pad: 'same', dilations: [2, 2] },
  ];
  for (const [i, c] of cases.entries()) {
    for (const act of ACTIVATIONS) {
      const name = `${act.activation}${act.leakyreluAlpha !== undefined ? ` alpha ${act.leakyreluAlpha}` : ''} ${describeCase(c)}`;
      const fused = (alpha: number | undefined) => (x: tf.Tensor, f: tf.Tensor, b: tf.Tensor) =>
        tf.fused.conv2d({
          x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: c.strides, pad: c.pad, dilations: c.dilations,
          activation: act.activation, ...(alpha !== undefined && { leakyreluAlpha: alpha }),
        });
      const defaultAlpha = act.activation === 'leakyrelu' && act.leakyreluAlpha === undefined;
      it(`fused conv2d + bias + ${name}`, async () => {
        // Inputs scaled up so relu6's upper clip is reached. tfjs's cpu FusedConv2D gives NaN for leakyrelu
        // without leakyreluAlpha (it passes alpha undefined); native uses leakyRelu's default 0.2, so the oracle
        // is told 0.2 explicitly.
        await check(`fused conv2d ${name}`, 200 + i, [{ shape: c.x, min: -2, max: 2 }, { shape: c.f }, { shape: [c.f[3]] }],
          fused(defaultAlpha ? 0.2 : act.leakyreluAlpha), { native: ['conv2d'], ...(defaultAlpha && { nativeFn: fused(undefined) }) });
      });
    }
  }

  it('fused conv2d with relu and no bias', async () => {
    const c = cases[0]!;
    await check('fused conv2d relu, no bias', 210, [{ shape: c.x }, { shape: c.f }], (x, f) =>
      tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, strides: 1, pad: 'same', activation: 'relu' }), { native: ['conv2d'] });
  });

  it('fused conv2d with a [1, 1, 1, k] bias', async () => {
    await check('fused conv2d bias [1,1,1,5]', 211, [{ shape: [1, 6, 6, 3] }, { shape: [3, 3, 3, 5] }, { shape: [1, 1, 1, 5] }], (x, f, b) =>
      tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: 1, pad: 'same', activation: 'relu' }));
  });

  it('fused conv2d with a scalar bias (broadcast over channels)', async () => {
    await check('fused conv2d scalar bias', 212, [{ shape: [1, 6, 6, 3] }, { shape: [3, 3, 3, 5] }, { shape: [] }], (x, f, b) =>
      tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: 1, pad: 'same', activation: 'relu' }));
  });

  it('fused conv2d with a bias broadcast along the width, [ow, 1] with ow == outChannels', async () => {
    // Output [1, 4, 4, 4]; a [4, 1] bias varies along the output width, not the channels.
    await check('fused conv2d bias [4,1]', 213, [{ shape: [1, 6, 6, 3] }, { shape: [3, 3, 3, 4] }, { shape: [4, 1] }], (x, f, b) =>
      tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: 1, pad: 'valid' }));
  });

  it('fused conv2d with prelu (falls back to cpu)', async () => {
    await check('fused conv2d prelu', 214, [{ shape: [1, 6, 6, 3] }, { shape: [3, 3, 3, 5] }, { shape: [5] }, { shape: [5] }], (x, f, b, a) =>
      tf.fused.conv2d({ x: x as tf.Tensor4D, filter: f as tf.Tensor4D, bias: b, strides: 1, pad: 'same', activation: 'prelu', preluActivationWeights: a }));
  });
});

describe('Conv2D gradients (tf.grads of sum(conv2d(x, w) * r))', () => {
  for (const [i, c] of GRAD_CASES.entries()) {
    it(`d/dx, d/dw ${describeCase(c)}`, async () => {
      await check(`conv2d grads ${describeCase(c)}`, 300 + i, [{ shape: c.x }, { shape: c.f }, { shape: outShape(c) }], (x, f, r) => {
        const op = conv(c);
        return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a, b), r)))([x, f]);
      }, { scale: 'abs', native: ['conv2dBackpropInput', 'conv2dBackpropFilter'] });
    });
  }

  it('gradients of fused conv2d + bias + relu (x, w and bias)', async () => {
    const c: ConvCase = { x: [2, 7, 7, 3], f: [3, 3, 3, 8], strides: [2, 2], pad: 'same', dilations: [1, 1] };
    await check('fused conv2d grads', 350, [{ shape: c.x }, { shape: c.f }, { shape: [8] }, { shape: outShape(c) }], (x, f, b, r) =>
      tf.grads((a: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
        tf.sum(tf.mul(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: w as tf.Tensor4D, bias, strides: 2, pad: 'same', activation: 'relu' }), r)))([x, f, b]),
    { scale: 'abs', native: ['conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter'] });
  });
});

describe('Conv2DBackpropInput / Conv2DBackpropFilter called directly', () => {
  const direct: ConvCase[] = [
    { x: [1, 7, 7, 3], f: [3, 3, 3, 5], strides: [2, 2], pad: 'same', dilations: [1, 1] },
    { x: [2, 11, 10, 7], f: [3, 3, 7, 4], strides: [3, 3], pad: 'same', dilations: [1, 1] },
    { x: [1, 9, 11, 3], f: [5, 5, 3, 33], strides: [3, 2], pad: 'valid', dilations: [1, 1] },
    { x: [2, 8, 7, 33], f: [1, 1, 33, 7], strides: [2, 2], pad: 'valid', dilations: [1, 1] },
    { x: [1, 7, 7, 2], f: [7, 7, 2, 3], strides: [1, 1], pad: 'same', dilations: [1, 1] },
    { x: [1, 9, 9, 3], f: [4, 4, 3, 16], strides: [2, 2], pad: 1, dilations: [1, 1] },
    { x: [1, 8, 8, 3], f: [3, 3, 3, 4], strides: [2, 2], pad: [[0, 0], [0, 2], [1, 1], [0, 0]], dilations: [1, 1] },
    ...Array.from({ length: 6 }, () => randomCase(rng, false)),
  ];
  for (const [i, c] of direct.entries()) {
    const dyShape = outShape(c);
    it(`Conv2DBackpropInput ${describeCase(c)}`, async () => {
      await check(`Conv2DBackpropInput ${describeCase(c)}`, 400 + i, [{ shape: dyShape }, { shape: c.f }], (dy, filter) =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter },
          { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor,
      { scale: 'abs', native: ['conv2dBackpropInput'] });
    });
    it(`Conv2DBackpropFilter ${describeCase(c)}`, async () => {
      await check(`Conv2DBackpropFilter ${describeCase(c)}`, 450 + i, [{ shape: c.x }, { shape: dyShape }], (x, dy) =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
          { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: c.f } as unknown as tf.NamedAttrMap) as tf.Tensor,
      { scale: 'abs', native: ['conv2dBackpropFilter'] });
    });
  }

  it('Conv2DBackpropFilter split into more chunks than threads (partial sums added at the end)', async () => {
    // About 3.2 MFLOP: enough pixels for three or more chunks. (No 'abs' scaling: the cpu oracle is slow here.)
    const c: ConvCase = { x: [2, 10, 10, 32], f: [3, 3, 32, 56], strides: [1, 1], pad: 'same', dilations: [1, 1] };
    await check(`Conv2DBackpropFilter ${describeCase(c)}`, 499, [{ shape: c.x }, { shape: outShape(c) }], (x, dy) =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: c.f } as unknown as tf.NamedAttrMap) as tf.Tensor,
    { native: ['conv2dBackpropFilter'] });
  });
});
