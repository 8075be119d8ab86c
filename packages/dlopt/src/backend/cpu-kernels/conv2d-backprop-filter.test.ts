import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradients; tfjs-layers registers them all
// on import (as it does when dlopt trains), which tf.grad below needs.
import '@tensorflow/tfjs-layers';
import { Random } from '../../util/random.js';
import { conv2dBackpropFilterNhwc, makeConv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';
import { patchCpuKernels, stockCpuKernel } from './register.js';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

interface Case {
  batch: number;
  inH: number;
  inW: number;
  cin: number;
  cout: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  pad: Pad;
  rounding?: Rounding;
}

before(async () => {
  assert.ok(await tf.setBackend('cpu'));
  // Skip tfjs's advice to install tfjs-node (as backend.ts does).
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  patchCpuKernels();
});

function describeCase(c: Case): string {
  return JSON.stringify(c);
}

function infoOf(c: Case, dataFormat: 'channelsLast' | 'channelsFirst' = 'channelsLast'): tf.backend_util.Conv2DInfo {
  const xShape: [number, number, number, number] =
    dataFormat === 'channelsLast' ? [c.batch, c.inH, c.inW, c.cin] : [c.batch, c.cin, c.inH, c.inW];
  return tf.backend_util.computeConv2DInfo(xShape, [c.fh, c.fw, c.cin, c.cout], [c.sh, c.sw], 1, c.pad, c.rounding, false, dataFormat);
}

function randomValues(rng: Random, n: number, zeroFraction = 0): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.next() < zeroFraction ? 0 : rng.next() * 2 - 1;
  return v;
}

/** Padding and output size, computed here (independently of tfjs) from TensorFlow's documented rules. */
function geometry(c: Case): { outH: number; outW: number; top: number; left: number } {
  const dim = (size: number, f: number, s: number, before: number, after: number, kind: 'same' | 'valid' | 'num') => {
    if (kind === 'same') {
      const out = Math.ceil(size / s);
      const total = Math.max(0, (out - 1) * s + f - size);
      return { out, before: Math.floor(total / 2) };
    }
    if (kind === 'valid') return { out: Math.ceil((size - f + 1) / s), before: 0 };
    const exact = (size - f + before + after) / s + 1;
    const out =
      c.rounding === 'ceil' ? Math.ceil(exact) : c.rounding === 'round' ? Math.round(exact) : c.rounding === 'floor' ? Math.floor(exact) : Math.trunc(exact);
    return { out, before };
  };
  if (c.pad === 'same' || c.pad === 'valid') {
    const h = dim(c.inH, c.fh, c.sh, 0, 0, c.pad);
    const w = dim(c.inW, c.fw, c.sw, 0, 0, c.pad);
    return { outH: h.out, outW: w.out, top: h.before, left: w.before };
  }
  if (typeof c.pad === 'number') {
    // tfjs 4.22 quirk (conv_util getPadAndOutInfo → computeOutputShape2D): with a
    // numeric pad the output width is computed from the filter HEIGHT and stride
    // HEIGHT. Kernels loop with the real filter width and stride, so forward and
    // backward passes stay consistent; mirror tfjs so the reference uses the same shapes.
    const h = dim(c.inH, c.fh, c.sh, c.pad, c.pad, 'num');
    const w = dim(c.inW, c.fh, c.sh, c.pad, c.pad, 'num');
    return { outH: h.out, outW: w.out, top: h.before, left: w.before };
  }
  const [, [t, b], [l, r]] = c.pad;
  const h = dim(c.inH, c.fh, c.sh, t, b, 'num');
  const w = dim(c.inW, c.fw, c.sw, l, r, 'num');
  return { outH: h.out, outW: w.out, top: h.before, left: w.before };
}

/** Plain float64 forward convolution (NHWC input, HWIO filter). */
function refConv(c: Case, x: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const { outH, outW, top, left } = geometry(c);
  const y = new Float64Array(c.batch * outH * outW * c.cout);
  for (let b = 0; b < c.batch; b++)
    for (let i = 0; i < outH; i++)
      for (let j = 0; j < outW; j++)
        for (let o = 0; o < c.cout; o++) {
          let s = 0;
          for (let p = 0; p < c.fh; p++)
            for (let q = 0; q < c.fw; q++) {
              const r = i * c.sh + p - top;
              const col = j * c.sw + q - left;
              if (r < 0 || r >= c.inH || col < 0 || col >= c.inW) continue;
              for (let k = 0; k < c.cin; k++) s += x[((b * c.inH + r) * c.inW + col) * c.cin + k]! * w[((p * c.fw + q) * c.cin + k) * c.cout + o]!;
            }
          y[((b * outH + i) * outW + j) * c.cout + o] = s;
        }
  return y;
}

/** Plain float64 weight gradient: dW[p,q,k,o] = Σ x[b, i·s+p−top, j·s+q−left, k] · dy[b,i,j,o]. */
function refFilterGrad(c: Case, x: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  const { outH, outW, top, left } = geometry(c);
  const dw = new Float64Array(c.fh * c.fw * c.cin * c.cout);
  for (let p = 0; p < c.fh; p++)
    for (let q = 0; q < c.fw; q++)
      for (let k = 0; k < c.cin; k++)
        for (let o = 0; o < c.cout; o++) {
          let s = 0;
          for (let b = 0; b < c.batch; b++)
            for (let i = 0; i < outH; i++)
              for (let j = 0; j < outW; j++) {
                const r = i * c.sh + p - top;
                const col = j * c.sw + q - left;
                if (r < 0 || r >= c.inH || col < 0 || col >= c.inW) continue;
                s += x[((b * c.inH + r) * c.inW + col) * c.cin + k]! * dy[((b * outH + i) * outW + j) * c.cout + o]!;
              }
          dw[((p * c.fw + q) * c.cin + k) * c.cout + o] = s;
        }
  return dw;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const tol = rel * Math.max(Math.abs(e), scale, 1e-6);
    if (!(Math.abs(a - e) <= tol)) assert.fail(`${label}: element ${i} is ${a}, expected ${e} (±${tol})`);
  }
}

function attrsOf(c: Case, dataFormat: 'NHWC' | 'NCHW' = 'NHWC'): tf.NamedAttrMap {
  return {
    strides: [c.sh, c.sw],
    pad: c.pad,
    dataFormat,
    dimRoundingMode: c.rounding,
    filterShape: [c.fh, c.fw, c.cin, c.cout],
  } as unknown as tf.NamedAttrMap;
}

/** Runs a kernel function directly and returns the values it produced (disposing its output). */
function runKernelFunc(func: tf.KernelFunc, x: tf.Tensor, dy: tf.Tensor, attrs: tf.NamedAttrMap): { shape: number[]; values: Float32Array } {
  const out = func({ inputs: { x, dy }, backend: tf.backend(), attrs });
  assert.ok(!Array.isArray(out), 'kernel returns one tensor');
  const t = tf.engine().makeTensorFromTensorInfo(out);
  const result = { shape: t.shape, values: t.dataSync() as Float32Array };
  t.dispose();
  return result;
}

function stockFunc(): tf.KernelFunc {
  const stock = stockCpuKernel(tf.Conv2DBackpropFilter);
  assert.ok(stock, 'patchCpuKernels kept the stock kernel');
  return stock.kernelFunc;
}

/** Random cases covering the requested ranges; rejects geometries with an empty output. */
function randomCases(count: number, seed: number): Case[] {
  const rng = new Random(seed);
  const between = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
  const cases: Case[] = [];
  while (cases.length < count) {
    const kind = cases.length % 4;
    const c: Case = {
      batch: between(1, 3),
      inH: between(1, 9),
      inW: between(1, 9),
      cin: between(1, 5),
      cout: between(1, 6),
      fh: between(1, 4),
      fw: between(1, 4),
      sh: between(1, 3),
      sw: between(1, 3),
      pad: kind === 0 ? 'same' : kind === 1 ? 'valid' : kind === 2 ? between(0, 2) : [[0, 0], [between(0, 2), between(0, 2)], [between(0, 2), between(0, 2)], [0, 0]],
    };
    if (kind === 2 && rng.next() < 0.5) c.rounding = (['floor', 'round', 'ceil'] as const)[rng.int(3)];
    const g = geometry(c);
    if (g.outH < 1 || g.outW < 1) continue;
    cases.push(c);
  }
  return cases;
}

function checkCase(c: Case, rng: Random): void {
  const info = infoOf(c);
  const g = geometry(c);
  // The independent geometry must agree with tfjs's, or the reference would test the wrong thing.
  assert.deepEqual(
    [info.outHeight, info.outWidth, info.padInfo.top, info.padInfo.left],
    [g.outH, g.outW, g.top, g.left],
    `geometry of ${describeCase(c)}`,
  );
  const xv = randomValues(rng, c.batch * c.inH * c.inW * c.cin, 0.2);
  const dyv = randomValues(rng, c.batch * g.outH * g.outW * c.cout);
  const expected = refFilterGrad(c, xv, dyv);
  const label = describeCase(c);

  const direct = conv2dBackpropFilterNhwc(xv, dyv, info);
  assert.ok(direct instanceof Float32Array);
  assertClose(direct, expected, 1e-5, `conv2dBackpropFilterNhwc ${label}`);

  const x = tf.tensor4d(xv, [c.batch, c.inH, c.inW, c.cin]);
  const dy = tf.tensor4d(dyv, [c.batch, g.outH, g.outW, c.cout]);
  try {
    const stock = runKernelFunc(stockFunc(), x, dy, attrsOf(c));
    assert.deepEqual(stock.shape, [c.fh, c.fw, c.cin, c.cout]);
    assertClose(stock.values, expected, 1e-5, `stock kernel ${label}`);
    assertClose(direct, stock.values, 1e-4, `direct vs stock ${label}`);

    // Through the engine: the kernel registered for the cpu backend.
    const viaEngine = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrsOf(c)) as tf.Tensor;
    assert.deepEqual(viaEngine.shape, [c.fh, c.fw, c.cin, c.cout]);
    assert.equal(viaEngine.dtype, 'float32');
    assertClose(viaEngine.dataSync(), stock.values, 1e-4, `registered vs stock ${label}`);
    viaEngine.dispose();
  } finally {
    x.dispose();
    dy.dispose();
  }
}

describe('patchCpuKernels', () => {
  it('replaces the cpu Conv2DBackpropFilter kernel and keeps the stock one', () => {
    const stock = stockCpuKernel(tf.Conv2DBackpropFilter);
    assert.ok(stock);
    assert.equal(stock.kernelName, tf.Conv2DBackpropFilter);
    assert.equal(stock.backendName, 'cpu');
    const current = tf.getKernel(tf.Conv2DBackpropFilter, 'cpu');
    assert.ok(current);
    assert.notEqual(current.kernelFunc, stock.kernelFunc);
    assert.equal(current.backendName, 'cpu');
  });

  it('is idempotent: a second call keeps the original as the stock kernel', () => {
    const stock = stockCpuKernel(tf.Conv2DBackpropFilter);
    const current = tf.getKernel(tf.Conv2DBackpropFilter, 'cpu');
    patchCpuKernels();
    assert.equal(stockCpuKernel(tf.Conv2DBackpropFilter), stock);
    assert.equal(tf.getKernel(tf.Conv2DBackpropFilter, 'cpu'), current);
  });

  it('has no stock kernel for names it did not replace', () => {
    assert.equal(stockCpuKernel(tf.Conv2D), undefined);
    assert.equal(stockCpuKernel('NoSuchKernel'), undefined);
  });
});

describe('conv2dBackpropFilterNhwc against the stock kernel', () => {
  it('agrees on 60 random geometries (same / valid / numeric / explicit pad, unequal strides, non-square kernels)', () => {
    const cases = randomCases(60, 2024);
    // The sample must actually cover the interesting geometries.
    assert.ok(cases.some((c) => c.pad === 'same' && (c.fh % 2 === 0 || c.fw % 2 === 0)), 'asymmetric same padding');
    assert.ok(cases.some((c) => c.sh !== c.sw));
    assert.ok(cases.some((c) => c.fh !== c.fw));
    assert.ok(cases.some((c) => c.rounding !== undefined));
    const rng = new Random(7);
    for (const c of cases) checkCase(c, rng);
  });

  it("'same' padding with an even kernel pads more at the bottom/right", () => {
    const c: Case = { batch: 2, inH: 5, inW: 6, cin: 2, cout: 3, fh: 2, fw: 4, sh: 1, sw: 1, pad: 'same' };
    const info = infoOf(c);
    assert.deepEqual(info.padInfo, { top: 0, bottom: 1, left: 1, right: 2, type: 'SAME' });
    checkCase(c, new Random(11));
  });

  const edgeCases: [string, Case][] = [
    ['filter as large as the input (valid → 1×1 output)', { batch: 2, inH: 4, inW: 3, cin: 3, cout: 2, fh: 4, fw: 3, sh: 1, sw: 1, pad: 'valid' }],
    ['filter as large as the input, same padding', { batch: 1, inH: 4, inW: 4, cin: 2, cout: 2, fh: 4, fw: 4, sh: 1, sw: 1, pad: 'same' }],
    ['1×1 kernel', { batch: 3, inH: 5, inW: 4, cin: 5, cout: 6, fh: 1, fw: 1, sh: 1, sw: 1, pad: 'valid' }],
    ['1×1 kernel with stride 2 (skips pixels)', { batch: 1, inH: 5, inW: 5, cin: 2, cout: 3, fh: 1, fw: 1, sh: 2, sw: 2, pad: 'same' }],
    ['stride larger than the kernel', { batch: 2, inH: 9, inW: 8, cin: 2, cout: 2, fh: 2, fw: 1, sh: 3, sw: 3, pad: 'valid' }],
    ['stride larger than the kernel, same padding', { batch: 1, inH: 7, inW: 9, cin: 3, cout: 2, fh: 2, fw: 2, sh: 3, sw: 3, pad: 'same' }],
    ['output of size 1 from a stride', { batch: 2, inH: 3, inW: 3, cin: 1, cout: 4, fh: 2, fw: 2, sh: 3, sw: 3, pad: 'valid' }],
    ['1×1 input', { batch: 3, inH: 1, inW: 1, cin: 4, cout: 5, fh: 3, fw: 3, sh: 1, sw: 1, pad: 'same' }],
    ['padding wider than the kernel reach', { batch: 1, inH: 2, inW: 3, cin: 2, cout: 2, fh: 2, fw: 2, sh: 1, sw: 2, pad: 2 }],
    ['ceil rounding (windows hanging off the bottom/right)', { batch: 2, inH: 6, inW: 7, cin: 2, cout: 3, fh: 3, fw: 2, sh: 2, sw: 3, pad: 1, rounding: 'ceil' }],
  ];
  for (const [name, c] of edgeCases) {
    it(name, () => {
      checkCase(c, new Random(name.length));
    });
  }

  it('is exact for small integers (every product and sum representable)', () => {
    const c: Case = { batch: 1, inH: 3, inW: 3, cin: 1, cout: 1, fh: 2, fw: 2, sh: 1, sw: 1, pad: 'valid' };
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const dy = Float32Array.from([1, 0, 0, -1]);
    // dW[p,q] = x[p,q] − x[p+1,q+1]
    assert.deepEqual([...conv2dBackpropFilterNhwc(x, dy, infoOf(c))], [1 - 5, 2 - 6, 4 - 8, 5 - 9]);
  });

  it('accumulates in float64 before rounding to float32', () => {
    // 1 + 2^-24 × 4 is representable in float32 only after summing the small terms first;
    // a float32 accumulator starting at 1 would drop each 2^-24 term.
    const c: Case = { batch: 5, inH: 1, inW: 1, cin: 1, cout: 1, fh: 1, fw: 1, sh: 1, sw: 1, pad: 'valid' };
    const tiny = 2 ** -24;
    const x = Float32Array.from([1, 1, 1, 1, 1]);
    const dy = Float32Array.from([1, tiny, tiny, tiny, tiny]);
    assert.equal(conv2dBackpropFilterNhwc(x, dy, infoOf(c))[0], Math.fround(1 + 4 * tiny));
  });
});

describe('gradient of conv2d through tf.grad (patched kernel active)', () => {
  const cases: [string, Case][] = [
    ["stride 2, 'same', even non-square kernel", { batch: 2, inH: 5, inW: 6, cin: 2, cout: 3, fh: 2, fw: 3, sh: 2, sw: 2, pad: 'same' }],
    ["stride 1, 'valid', 3×3", { batch: 1, inH: 5, inW: 5, cin: 3, cout: 2, fh: 3, fw: 3, sh: 1, sw: 1, pad: 'valid' }],
    ['unequal strides, numeric pad', { batch: 1, inH: 6, inW: 5, cin: 2, cout: 2, fh: 3, fw: 2, sh: 1, sw: 2, pad: 1 }],
  ];
  for (const [name, c] of cases) {
    it(`matches float64 central finite differences: ${name}`, () => {
      const rng = new Random(99);
      const g = geometry(c);
      const xv = randomValues(rng, c.batch * c.inH * c.inW * c.cin);
      const wv = randomValues(rng, c.fh * c.fw * c.cin * c.cout);
      const rv = randomValues(rng, c.batch * g.outH * g.outW * c.cout);
      const x = tf.tensor4d(xv, [c.batch, c.inH, c.inW, c.cin]);
      const w = tf.tensor4d(wv, [c.fh, c.fw, c.cin, c.cout]);
      const r = tf.tensor4d(rv, [c.batch, g.outH, g.outW, c.cout]);
      try {
        // The reference forward conv must agree with tfjs's, or the finite differences prove nothing.
        const y = tf.conv2d(x, w, [c.sh, c.sw], c.pad as 'same' | 'valid' | number);
        assert.deepEqual(y.shape, [c.batch, g.outH, g.outW, c.cout]);
        assertClose(y.dataSync(), refConv(c, xv, wv), 1e-5, 'forward conv');
        y.dispose();

        const loss = (wt: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, wt as tf.Tensor4D, [c.sh, c.sw], c.pad as 'same' | 'valid' | number), r));
        const grad = tf.grad(loss)(w);
        assert.deepEqual(grad.shape, w.shape);
        const analytic = grad.dataSync();
        grad.dispose();

        const L = (wf: Float64Array) => {
          const out = refConv(c, xv, wf);
          let s = 0;
          for (let i = 0; i < out.length; i++) s += out[i]! * rv[i]!;
          return s;
        };
        const eps = 1e-3;
        const base = Float64Array.from(wv);
        const numeric = new Float64Array(base.length);
        for (let i = 0; i < base.length; i++) {
          const plus = Float64Array.from(base);
          const minus = Float64Array.from(base);
          plus[i] = base[i]! + eps;
          minus[i] = base[i]! - eps;
          numeric[i] = (L(plus) - L(minus)) / (2 * eps);
        }
        assertClose(analytic, numeric, 1e-2, `tf.grad vs finite differences (${name})`);
        // And against the stock kernel through the same tf.grad path, much tighter.
        assertClose(analytic, refFilterGrad(c, xv, rv), 1e-5, `tf.grad vs exact gradient (${name})`);
      } finally {
        x.dispose();
        w.dispose();
        r.dispose();
      }
    });
  }

  it('matches the stock kernel inside a relu network (exact zeros in x and in dy)', () => {
    const c: Case = { batch: 2, inH: 6, inW: 6, cin: 3, cout: 4, fh: 3, fw: 3, sh: 1, sw: 1, pad: 'same' };
    const rng = new Random(5);
    const wv = randomValues(rng, c.fh * c.fw * c.cin * c.cout);
    // x is a relu output, as the second conv of the seed CNN sees: about half
    // exact zeros, which the NHWC loops skip.
    const x = tf.relu(tf.tensor4d(randomValues(rng, c.batch * c.inH * c.inW * c.cin), [c.batch, c.inH, c.inW, c.cin]));
    const zeros = (x.dataSync() as Float32Array).filter((v) => v === 0).length;
    assert.ok(zeros > 20 && zeros < x.size - 20, `${zeros} zeros in x`);
    const w = tf.tensor4d(wv, [c.fh, c.fw, c.cin, c.cout]);
    const grad = tf.grad((wt: tf.Tensor) => tf.sum(tf.square(tf.relu(tf.conv2d(x, wt as tf.Tensor4D, 1, 'same')))))(w);
    const y = tf.relu(tf.conv2d(x, w, 1, 'same'));
    const dy = tf.mul(y, 2);
    const stock = runKernelFunc(stockFunc(), x, dy, attrsOf(c));
    assertClose(grad.dataSync(), stock.values, 1e-4, 'relu-squared loss gradient');
    tf.dispose([x, w, grad, y, dy]);
  });
});

describe('makeConv2dBackpropFilterKernel fallback', () => {
  const c: Case = { batch: 2, inH: 5, inW: 4, cin: 3, cout: 2, fh: 3, fw: 2, sh: 2, sw: 1, pad: 'same' };

  function spy(): { calls: number; func: tf.KernelFunc } {
    const s = {
      calls: 0,
      func: ((args: Parameters<tf.KernelFunc>[0]) => {
        s.calls++;
        return stockFunc()(args);
      }) as tf.KernelFunc,
    };
    return s;
  }

  it('uses its own loops for NHWC float32 (never calls the fallback)', () => {
    const fallback = spy();
    const kernel = makeConv2dBackpropFilterKernel(fallback.func);
    const rng = new Random(3);
    const g = geometry(c);
    const xv = randomValues(rng, c.batch * c.inH * c.inW * c.cin);
    const dyv = randomValues(rng, c.batch * g.outH * g.outW * c.cout);
    const x = tf.tensor4d(xv, [c.batch, c.inH, c.inW, c.cin]);
    const dy = tf.tensor4d(dyv, [c.batch, g.outH, g.outW, c.cout]);
    const out = runKernelFunc(kernel, x, dy, attrsOf(c));
    assert.equal(fallback.calls, 0);
    assert.deepEqual(out.shape, [c.fh, c.fw, c.cin, c.cout]);
    assertClose(out.values, refFilterGrad(c, xv, dyv), 1e-5, 'NHWC');
    tf.dispose([x, dy]);
  });

  it('hands an NCHW request to the stock kernel, giving the stock result', () => {
    const fallback = spy();
    const kernel = makeConv2dBackpropFilterKernel(fallback.func);
    const rng = new Random(4);
    const g = geometry(c);
    const xv = randomValues(rng, c.batch * c.inH * c.inW * c.cin);
    const dyv = randomValues(rng, c.batch * g.outH * g.outW * c.cout);
    const xNhwc = tf.tensor4d(xv, [c.batch, c.inH, c.inW, c.cin]);
    const dyNhwc = tf.tensor4d(dyv, [c.batch, g.outH, g.outW, c.cout]);
    const x = tf.transpose(xNhwc, [0, 3, 1, 2]);
    const dy = tf.transpose(dyNhwc, [0, 3, 1, 2]);
    const attrs = attrsOf(c, 'NCHW');

    const out = runKernelFunc(kernel, x, dy, attrs);
    assert.equal(fallback.calls, 1);
    const stock = runKernelFunc(stockFunc(), x, dy, attrs);
    assert.deepEqual(out.shape, [c.fh, c.fw, c.cin, c.cout]);
    assert.deepEqual(out.values, stock.values);
    // And the stock NCHW result is the true gradient (the NHWC loops on NCHW data would not be).
    assertClose(out.values, refFilterGrad(c, xv, dyv), 1e-5, 'NCHW');

    // The registered kernel takes the same path.
    const registered = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor;
    assert.deepEqual(registered.dataSync(), stock.values);
    tf.dispose([xNhwc, dyNhwc, x, dy, registered]);
  });

  it('hands non-float32 inputs to the fallback', () => {
    const fallback = spy();
    const kernel = makeConv2dBackpropFilterKernel(fallback.func);
    const small: Case = { batch: 1, inH: 3, inW: 3, cin: 1, cout: 1, fh: 2, fw: 2, sh: 1, sw: 1, pad: 'valid' };
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1], 'int32');
    const dy = tf.tensor4d([1, 0, 0, -1], [1, 2, 2, 1], 'float32');
    const out = runKernelFunc(kernel, x, dy, attrsOf(small));
    assert.equal(fallback.calls, 1);
    assert.deepEqual([...out.values], [-4, -4, -4, -4]);
    tf.dispose([x, dy]);
  });

  it('reads tensors that share their data with another (a reshape)', () => {
    // The NHWC path reads the backend's storage by dataId, which a reshape shares.
    const flat = tf.range(1, 10, 1, 'float32');
    const x = tf.reshape(flat, [1, 3, 3, 1]);
    assert.equal(x.dataId, flat.dataId);
    const dy = tf.tensor4d([1, 0, 0, -1], [1, 2, 2, 1]);
    const out = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrsOf({ batch: 1, inH: 3, inW: 3, cin: 1, cout: 1, fh: 2, fw: 2, sh: 1, sw: 1, pad: 'valid' })) as tf.Tensor;
    assert.deepEqual([...out.dataSync()], [-4, -4, -4, -4]);
    tf.dispose([flat, x, dy, out]);
  });
});
