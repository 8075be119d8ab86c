import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients; tfjs-layers registers them all.
import '@tensorflow/tfjs-layers';
import './index.js';
import { check, countAddonCalls, forEachIsa, makeInputs, worstMismatch, type InputData } from './test-support/oracle.js';

type Pad = 'valid' | 'same' | number;
type Pair = [number, number];
type Shape4 = [number, number, number, number];

// ---------------------------------------------------------------------------
// A float64 reference convolution (NHWC, any stride/dilation/padding), and
// central finite differences of loss = sum(conv(x, w)^2) computed with it.

interface RefConv {
  x: Shape4;
  f: Shape4;
  pad: Pad;
  dilations: Pair;
  depthwise: boolean;
}

function describeRef(c: RefConv): string {
  return `x [${c.x}] f [${c.f}] pad ${c.pad} dilations [${c.dilations}]`;
}

function convInfo(c: RefConv): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(c.x, c.f, [1, 1], c.dilations, c.pad, undefined, c.depthwise, 'channelsLast');
}

/** conv2d (f [kh, kw, c, k]) or depthwise conv2d (f [kh, kw, c, m]) in float64, with tfjs's padding. */
function referenceConv(c: RefConv, x: Float64Array, w: Float64Array): Float64Array {
  const info = convInfo(c);
  const [n, h, wd, ch] = c.x;
  const [kh, kw, , k] = c.f;
  const { outHeight: oh, outWidth: ow, outChannels: oc, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const y = new Float64Array(n * oh * ow * oc);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      for (let q = 0; q < ow; q++) {
        const out = ((b * oh + r) * ow + q) * oc;
        for (let i = 0; i < kh; i++) {
          const xr = r * sh - top + i * dh;
          if (xr < 0 || xr >= h) continue;
          for (let j = 0; j < kw; j++) {
            const xc = q * sw - left + j * dw;
            if (xc < 0 || xc >= wd) continue;
            const xi = ((b * h + xr) * wd + xc) * ch;
            for (let cin = 0; cin < ch; cin++) {
              const xv = x[xi + cin]!;
              const wi = ((i * kw + j) * ch + cin) * k;
              if (c.depthwise) {
                for (let m = 0; m < k; m++) y[out + cin * k + m]! += xv * w[wi + m]!;
              } else {
                for (let o = 0; o < k; o++) y[out + o]! += xv * w[wi + o]!;
              }
            }
          }
        }
      }
    }
  }
  return y;
}

function referenceLoss(c: RefConv, x: Float64Array, w: Float64Array): number {
  let sum = 0;
  for (const v of referenceConv(c, x, w)) sum += v * v;
  return sum;
}

/** d loss / d x and d loss / d w by central differences (the loss is quadratic in each value, so they are exact up to rounding). */
function finiteDifferences(c: RefConv, xIn: InputData, wIn: InputData, eps = 1e-3): { dx: Float64Array; dw: Float64Array } {
  const x = Float64Array.from(xIn.values);
  const w = Float64Array.from(wIn.values);
  const diff = (v: Float64Array): Float64Array => {
    const g = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const saved = v[i]!;
      v[i] = saved + eps;
      const plus = referenceLoss(c, x, w);
      v[i] = saved - eps;
      const minus = referenceLoss(c, x, w);
      v[i] = saved;
      g[i] = (plus - minus) / (2 * eps);
    }
    return g;
  };
  return { dx: diff(x), dw: diff(w) };
}

function op(c: RefConv) {
  return (x: tf.Tensor, w: tf.Tensor): tf.Tensor =>
    c.depthwise
      ? tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, c.pad, 'NHWC', c.dilations)
      : tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, c.pad, 'NHWC', c.dilations);
}

/** tf.grads of sum(conv(x, w)^2) on the current backend, as float64 arrays. */
function tfGrads(c: RefConv, xIn: InputData, wIn: InputData): { dx: Float64Array; dw: Float64Array } {
  const [dx, dw] = tf.tidy(() => {
    const f = op(c);
    return tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.square(f(x, w))))([tf.tensor(xIn.values, xIn.shape), tf.tensor(wIn.values, wIn.shape)]);
  });
  try {
    return { dx: Float64Array.from(dx!.dataSync()), dw: Float64Array.from(dw!.dataSync()) };
  } finally {
    tf.dispose([dx!, dw!]);
  }
}

function assertNear(got: Float64Array, expected: Float64Array, what: string, tolerance: number): void {
  assert.equal(got.length, expected.length, `${what}: length`);
  const w = worstMismatch(got, expected, tolerance);
  assert.ok(w.ok, `${what}: element ${w.index}: got ${w.got}, finite differences ${w.expected} (|diff| ${w.error.toExponential(3)} > ${w.allowed.toExponential(3)})`);
}

/** On cpu tfjs refuses the gradient; on native (every ISA) it matches finite differences of the float64 reference. */
async function checkDilatedGradient(c: RefConv, seed: number): Promise<void> {
  const [xIn, wIn] = makeInputs(seed, [{ shape: c.x }, { shape: c.f }]);
  const fd = finiteDifferences(c, xIn!, wIn!);
  // The finite differences are not trivially zero.
  assert.ok(fd.dx.some((v) => Math.abs(v) > 0.1) && fd.dw.some((v) => Math.abs(v) > 0.1), 'degenerate reference gradients');
  try {
    await tf.setBackend('cpu');
    // (tfjs itself leaks the tensors its tape saved when a gradient throws: not checked here.)
    assert.throws(() => tfGrads(c, xIn!, wIn!), (error: Error) => /dilation/i.test(error.message), 'tfjs on cpu was expected to refuse the gradient');
    await tf.setBackend('native');
    const kernels = c.depthwise ? ['depthwiseConv2dBackpropInput', 'depthwiseConv2dBackpropFilter'] : ['conv2dBackpropInput', 'conv2dBackpropFilter'];
    await forEachIsa(async (isa) => {
      const { result, calls } = await countAddonCalls(() => tfGrads(c, xIn!, wIn!));
      for (const k of kernels) assert.ok(calls.has(k), `[${isa}] addon.${k} did not run (ran ${[...calls.keys()]})`);
      assertNear(result.dx, fd.dx, `[${isa}] d/dx ${describeRef(c)}`, 1e-3);
      assertNear(result.dw, fd.dw, `[${isa}] d/dw ${describeRef(c)}`, 1e-3);
    });
  } finally {
    await tf.setBackend('native');
  }
}

describe('dilated convolution gradients', () => {
  it('tfjs-core refuses conv2d gradients with dilation > 1; native computes them (finite differences)', async () => {
    // The case from the bug: sum(conv2d(x, w, 1, 'same', 'NHWC', 2)^2).
    await checkDilatedGradient({ x: [1, 7, 7, 3], f: [3, 3, 3, 4], pad: 'same', dilations: [2, 2], depthwise: false }, 1300);
  });

  it('conv2d, valid padding, dilations [2, 3], batch 2', async () => {
    await checkDilatedGradient({ x: [2, 8, 9, 2], f: [3, 2, 2, 3], pad: 'valid', dilations: [2, 3], depthwise: false }, 1301);
  });

  it('conv2d, numeric padding 1, dilations [1, 2], 5x5 kernel', async () => {
    await checkDilatedGradient({ x: [1, 9, 10, 3], f: [5, 5, 3, 2], pad: 1, dilations: [1, 2], depthwise: false }, 1302);
  });

  it('tfjs-core refuses depthwiseConv2d gradients with dilation > 1; native computes them (finite differences)', async () => {
    await checkDilatedGradient({ x: [1, 7, 7, 3], f: [3, 3, 3, 2], pad: 'same', dilations: [2, 2], depthwise: true }, 1310);
  });

  it('depthwiseConv2d, valid padding, dilation 2, multiplier 1, batch 2', async () => {
    await checkDilatedGradient({ x: [2, 9, 8, 4], f: [3, 3, 4, 1], pad: 'valid', dilations: [2, 2], depthwise: true }, 1311);
  });

  it('depthwiseConv2d, same padding, dilations [2, 1], multiplier 3', async () => {
    await checkDilatedGradient({ x: [1, 8, 6, 2], f: [3, 3, 2, 3], pad: 'same', dilations: [2, 1], depthwise: true }, 1312);
  });

  it('the float64 reference agrees with tfjs where tfjs can differentiate (dilation 1)', async () => {
    // Guards the reference itself: without dilation, cpu's own gradient must match it.
    const c: RefConv = { x: [1, 6, 6, 2], f: [3, 3, 2, 3], pad: 'same', dilations: [1, 1], depthwise: false };
    const d: RefConv = { ...c, f: [3, 3, 2, 2], depthwise: true };
    try {
      await tf.setBackend('cpu');
      for (const [i, ref] of [c, d].entries()) {
        const [xIn, wIn] = makeInputs(1320 + i, [{ shape: ref.x }, { shape: ref.f }]);
        const fd = finiteDifferences(ref, xIn!, wIn!);
        const got = tfGrads(ref, xIn!, wIn!);
        assertNear(got.dx, fd.dx, `cpu d/dx ${describeRef(ref)}`, 1e-3);
        assertNear(got.dw, fd.dw, `cpu d/dw ${describeRef(ref)}`, 1e-3);
      }
    } finally {
      await tf.setBackend('native');
    }
  });
});

// ---------------------------------------------------------------------------
// Relu's gradient: one native kernel (DloptReluGrad) on native, tfjs's own elsewhere.

/** x with zeros of both signs, NaN and infinities, in the vector body and in the tail. */
function reluInputs(): { x: Float32Array; r: Float32Array } {
  const [rand, r] = makeInputs(1400, [{ shape: [45] }, { shape: [45], min: -2, max: 2 }]);
  const x = Float32Array.from(rand!.values);
  // Normal numbers only: denormals are flushed to zero inside native kernels (see the test below).
  const specials = [0, -0, NaN, Infinity, -Infinity, 1e-30, -1e-30, 1.2e-38];
  for (const [i, v] of specials.entries()) x[i * 5] = v;
  x[44] = NaN;
  x[43] = 0;
  return { x, r: Float32Array.from(r!.values) };
}

async function reluGrad(backend: string, x: Float32Array, r: Float32Array, shape: number[] = [x.length]): Promise<{ values: Float32Array; kernels: string[] }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const xt = tf.tensor(x, shape);
  const rt = tf.tensor(r, shape);
  const info = await tf.profile(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), rt)))(xt));
  const result = info.result as tf.Tensor;
  const values = Float32Array.from(result.dataSync());
  tf.dispose([xt, rt, result]);
  assert.equal(tf.memory().numTensors, before, `${backend}: leaked tensors`);
  return { values, kernels: info.kernelNames };
}

function sameValue(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

describe('relu gradient override', () => {
  it('native: d/dx sum(relu(x) * r) is exactly r * (x > 0), NaN where x is NaN (every ISA)', async () => {
    const { x, r } = reluInputs();
    try {
      await forEachIsa(async (isa) => {
        const { values, kernels } = await reluGrad('native', x, r);
        assert.ok(kernels.includes('DloptReluGrad'), `[${isa}] DloptReluGrad did not run (ran ${kernels})`);
        assert.ok(!kernels.includes('Step'), `[${isa}] tfjs's Step-based gradient ran on native`);
        for (let i = 0; i < x.length; i++) {
          const expected = Number.isNaN(x[i]!) ? NaN : x[i]! > 0 ? r[i]! : 0;
          assert.ok(sameValue(values[i]!, expected), `[${isa}] element ${i}: x ${x[i]}, r ${r[i]}: gradient ${values[i]}, expected ${expected}`);
        }
      });
    } finally {
      await tf.setBackend('native');
    }
  });

  it("cpu still runs tfjs's own gradient (Step), and gives the same values as native", async () => {
    const { x, r } = reluInputs();
    try {
      const cpu = await reluGrad('cpu', x, r);
      assert.ok(cpu.kernels.includes('Step'), `cpu did not run tfjs's Step-based gradient (ran ${cpu.kernels})`);
      assert.ok(!cpu.kernels.includes('DloptReluGrad'), 'the native gradient ran on cpu');
      const native = await reluGrad('native', x, r);
      for (let i = 0; i < x.length; i++) {
        assert.ok(sameValue(native.values[i]!, cpu.values[i]!), `element ${i}: x ${x[i]}: native ${native.values[i]}, cpu ${cpu.values[i]}`);
      }
    } finally {
      await tf.setBackend('native');
    }
  });

  it('relu gradient with broadcasting r and a rank-4 x matches cpu', async () => {
    await check('relu grad rank 4', 1410, [{ shape: [2, 5, 4, 3] }, { shape: [3] }], (x, r) =>
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), r)))(x), { native: ['binary'] });
  });

  // Deliberate: native kernels run with denormals flushed to zero (FTZ/DAZ), as oneDNN and XNNPACK
  // do, because denormal arithmetic is 10-100x slower; tfjs's JavaScript keeps them.
  it('native flushes denormals to zero (FTZ/DAZ); tfjs cpu keeps them: relu gradient at denormal x', async () => {
    const x = Float32Array.from([1.4e-45, 1e-40, -1e-40, 5e-39, 1, -1, 1e-41, 2e-39, 0, 3e-42, 1e-39, -5e-39, 7e-45, 1e-38, 4e-40, 9e-39, 2e-44]);
    const r = Float32Array.from(x, (_, i) => 1 + i);
    const denormal = (v: number) => v !== 0 && Math.abs(v) < 1.1754943508222875e-38;
    try {
      const cpu = await reluGrad('cpu', x, r);
      const native = await reluGrad('native', x, r);
      for (let i = 0; i < x.length; i++) {
        const expectedNative = denormal(x[i]!) ? 0 : cpu.values[i]!;
        assert.ok(sameValue(native.values[i]!, expectedNative), `element ${i}: x ${x[i]}: native ${native.values[i]}, expected ${expectedNative}`);
        if (denormal(x[i]!) && x[i]! > 0) assert.equal(cpu.values[i], r[i]);
      }
    } finally {
      await tf.setBackend('native');
    }
  });

  it('relu gradient of a rank-7 tensor matches cpu', async () => {
    await check('relu grad rank 7', 1411, [{ shape: [1, 2, 1, 3, 1, 2, 2] }], (x) => tf.grad((a: tf.Tensor) => tf.sum(tf.relu(a)))(x));
  });

  it('relu gradient with respect to an int32 input matches cpu', async () => {
    await check('relu grad int32', 1412, [{ shape: [7], dtype: 'int32', min: -3, max: 3 }], (x) => tf.grad((a: tf.Tensor) => tf.sum(tf.relu(a)))(x));
  });
});
