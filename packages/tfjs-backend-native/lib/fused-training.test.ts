import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import './index.js';
import { FUSED_CONV_KERNEL } from './fusion.js';
import { CONV_BACKPROP_FILTER_ACT_KERNEL, CONV_BACKPROP_INPUT_ACT_KERNEL } from './kernels/conv2d.js';
import { check, forEachIsa, makeInputs, toTensor, worstMismatch, type InputData } from './test-support/oracle.js';

type Pair = [number, number];
type Shape4 = [number, number, number, number];
type Padding = 'same' | 'valid';

const FUSED_KERNELS = [FUSED_CONV_KERNEL, CONV_BACKPROP_FILTER_ACT_KERNEL, CONV_BACKPROP_INPUT_ACT_KERNEL];
/** tfjs's own convolution kernels: none of them may run when the fused training path is taken. */
const TFJS_CONV_KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'];

/**
 * The same filter with (d - 1) zeros inserted between taps: convolving with it
 * without dilation equals convolving with `w` dilated by `d`. It is built from
 * differentiable ops, so the cpu backend (whose conv2d gradient refuses
 * dilation > 1) can give the reference gradient of a dilated convolution.
 */
function dilateFilter(w: tf.Tensor, d: Pair): tf.Tensor4D {
  const [kh, kw, c, k] = w.shape as Shape4;
  const spread = tf.pad(tf.reshape(w, [kh, 1, kw, 1, c, k]), [[0, 0], [0, d[0] - 1], [0, 0], [0, d[1] - 1], [0, 0], [0, 0]]);
  return tf.slice(tf.reshape(spread, [kh * d[0], kw * d[1], c, k]) as tf.Tensor4D, [0, 0, 0, 0], [(kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1, c, k]);
}

function isDilated(d: Pair): boolean {
  return d[0] !== 1 || d[1] !== 1;
}

/** Runs `fn` on the native backend under tf.profile; returns the names of the kernels it ran. */
async function nativeKernels(fn: (...t: tf.Tensor[]) => tf.TensorContainer, inputs: readonly InputData[]): Promise<string[]> {
  await tf.setBackend('native');
  const tensors = inputs.map(toTensor);
  const info = await tf.profile(() => fn(...tensors));
  tf.dispose([...tensors, info.result as tf.Tensor[]]);
  return info.kernelNames;
}

function assertFusedPath(kernels: string[], what: string): void {
  for (const k of FUSED_KERNELS) assert.ok(kernels.includes(k), `${what}: ${k} did not run (ran ${[...new Set(kernels)]})`);
  for (const k of TFJS_CONV_KERNELS) assert.ok(!kernels.includes(k), `${what}: tfjs's ${k} ran (the fused path was not taken)`);
}

// ---------------------------------------------------------------------------
// tf.fused.conv2d under tf.grads: native's fused kernel and gradient vs tfjs's path on cpu.

interface FusedCase {
  x: Shape4;
  f: Shape4;
  strides: Pair;
  pad: Padding;
  dilations: Pair;
}

const GEOMETRIES: FusedCase[] = [
  { x: [2, 7, 7, 3], f: [3, 3, 3, 5], strides: [1, 1], pad: 'same', dilations: [1, 1] },
  { x: [2, 8, 7, 3], f: [3, 3, 3, 4], strides: [2, 2], pad: 'valid', dilations: [1, 1] },
  { x: [1, 9, 8, 4], f: [3, 3, 4, 6], strides: [2, 2], pad: 'same', dilations: [1, 1] },
  { x: [1, 7, 9, 5], f: [3, 3, 5, 3], strides: [1, 1], pad: 'valid', dilations: [1, 1] },
  { x: [1, 9, 9, 2], f: [3, 3, 2, 4], strides: [1, 1], pad: 'same', dilations: [2, 2] },
  { x: [2, 9, 8, 3], f: [3, 2, 3, 5], strides: [1, 1], pad: 'valid', dilations: [2, 2] },
];

const ACTIVATIONS: { activation: tf.fused.Activation; leakyreluAlpha?: number }[] = [
  { activation: 'linear' },
  { activation: 'relu' },
  { activation: 'relu6' },
  { activation: 'elu' },
  { activation: 'sigmoid' },
  { activation: 'leakyrelu', leakyreluAlpha: 0.1 },
];

function outShape(c: FusedCase): number[] {
  return tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, c.dilations, c.pad).outShape;
}

function describeCase(c: FusedCase): string {
  return `x [${c.x}] f [${c.f}] strides [${c.strides}] ${c.pad} dilations [${c.dilations}]`;
}

/**
 * tf.grads of sum(fused.conv2d(x, w, b) * r) with respect to x, w (and b).
 * With `expand`, a dilated case is computed as an undilated conv with the zero-spread filter.
 */
function fusedGrads(c: FusedCase, act: (typeof ACTIVATIONS)[number], withBias: boolean, expand: boolean) {
  return (...inputs: tf.Tensor[]): tf.Tensor[] => {
    const [x, w, ...rest] = inputs;
    const b = withBias ? rest[0]! : undefined;
    const r = rest.at(-1)!;
    const spread = expand && isDilated(c.dilations);
    const loss = (a: tf.Tensor, filter: tf.Tensor, bias?: tf.Tensor) =>
      tf.sum(tf.mul(tf.fused.conv2d({
        x: a as tf.Tensor4D, filter: spread ? dilateFilter(filter, c.dilations) : filter as tf.Tensor4D, bias, strides: c.strides, pad: c.pad,
        dilations: spread ? 1 : c.dilations, activation: act.activation,
        ...(act.leakyreluAlpha !== undefined && { leakyreluAlpha: act.leakyreluAlpha }),
      }), r));
    return withBias
      ? tf.grads((a: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor) => loss(a, filter, bias))([x!, w!, b!])
      : tf.grads((a: tf.Tensor, filter: tf.Tensor) => loss(a, filter))([x!, w!]);
  };
}

describe('fused conv2d training path: gradients of tf.fused.conv2d (x, filter, bias) match cpu', () => {
  let seed = 1500;
  for (const act of ACTIVATIONS) {
    for (const [g, c] of GEOMETRIES.entries()) {
      for (const withBias of [true, false]) {
        const label = `${act.activation}${withBias ? ' + bias' : ', no bias'} ${describeCase(c)}`;
        const caseSeed = seed++;
        // Every combination with a bias; without a bias, every other geometry.
        if (!withBias && g % 2 === 1) continue;
        it(label, async () => {
          const specs = [{ shape: c.x, min: -2, max: 2 }, { shape: c.f }, ...(withBias ? [{ shape: [c.f[3]] }] : []), { shape: outShape(c) }];
          const inputs = makeInputs(caseSeed, specs);
          await check(label, caseSeed, specs, fusedGrads(c, act, withBias, true), {
            scale: 'abs', nativeFn: fusedGrads(c, act, withBias, false), native: ['conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter'],
          });
          assertFusedPath(await nativeKernels(fusedGrads(c, act, withBias, false), inputs), label);
        });
      }
    }
  }

  it('a bias that is not per channel ([ow, 1]) takes tfjs\'s path and still matches', async () => {
    // Output [1, 4, 4, 4]: the [4, 1] bias varies along the output width.
    const c: FusedCase = { x: [1, 6, 6, 3], f: [3, 3, 3, 4], strides: [1, 1], pad: 'valid', dilations: [1, 1] };
    for (const act of [{ activation: 'linear' as const }, { activation: 'relu' as const }]) {
      const specs = [{ shape: c.x }, { shape: c.f }, { shape: [4, 1] }, { shape: outShape(c) }];
      const fn = fusedGrads(c, act, true, false);
      await check(`bias [4,1] ${act.activation}`, 1600, specs, fn, { scale: 'abs' });
      const kernels = await nativeKernels(fn, makeInputs(1600, specs));
      for (const k of FUSED_KERNELS) assert.ok(!kernels.includes(k), `${act.activation}: ${k} ran for a bias that is not per channel`);
    }
  });

  it('a scalar bias takes tfjs\'s path and still matches', async () => {
    const c: FusedCase = { x: [1, 6, 6, 3], f: [3, 3, 3, 4], strides: [1, 1], pad: 'same', dilations: [1, 1] };
    const specs = [{ shape: c.x }, { shape: c.f }, { shape: [] }, { shape: outShape(c) }];
    const fn = fusedGrads(c, { activation: 'relu' }, true, false);
    await check('scalar bias relu', 1601, specs, fn, { scale: 'abs' });
    const kernels = await nativeKernels(fn, makeInputs(1601, specs));
    assert.ok(!kernels.includes(FUSED_CONV_KERNEL), 'DloptFusedConv2D ran for a scalar bias');
  });

  it('a [1, 1, 1, k] bias is per channel: fused, and matches', async () => {
    const c: FusedCase = { x: [1, 6, 6, 3], f: [3, 3, 3, 4], strides: [1, 1], pad: 'same', dilations: [1, 1] };
    const specs = [{ shape: c.x }, { shape: c.f }, { shape: [1, 1, 1, 4] }, { shape: outShape(c) }];
    const fn = fusedGrads(c, { activation: 'elu' }, true, false);
    await check('bias [1,1,1,4] elu', 1602, specs, fn, { scale: 'abs' });
    assertFusedPath(await nativeKernels(fn, makeInputs(1602, specs)), 'bias [1,1,1,4]');
  });

  it('on cpu, tf.fused.conv2d is tfjs\'s own (no Dlopt kernel runs)', async () => {
    const c = GEOMETRIES[0]!;
    const inputs = makeInputs(1603, [{ shape: c.x }, { shape: c.f }, { shape: [c.f[3]] }, { shape: outShape(c) }]);
    try {
      await tf.setBackend('cpu');
      const tensors = inputs.map(toTensor);
      const info = await tf.profile(() => fusedGrads(c, { activation: 'relu' }, true, false)(...tensors));
      tf.dispose([...tensors, info.result as tf.Tensor[]]);
      for (const k of FUSED_KERNELS) assert.ok(!info.kernelNames.includes(k), `${k} ran on cpu`);
      assert.ok(info.kernelNames.includes('Conv2D'), `cpu ran ${info.kernelNames}`);
    } finally {
      await tf.setBackend('native');
    }
  });
});

// ---------------------------------------------------------------------------
// tfjs-layers' Conv2D (which calls tf.fused.conv2d): gradients of the layer's loss.

interface LayerCase {
  activation: 'relu' | 'relu6' | 'elu' | 'sigmoid' | 'linear';
  useBias: boolean;
  padding: Padding;
  strides: number;
  dilationRate: number;
}

const LAYER_CASES: LayerCase[] = [
  { activation: 'relu', useBias: true, padding: 'same', strides: 1, dilationRate: 1 },
  { activation: 'relu', useBias: false, padding: 'valid', strides: 2, dilationRate: 1 },
  { activation: 'relu', useBias: true, padding: 'same', strides: 1, dilationRate: 2 },
  { activation: 'relu6', useBias: true, padding: 'valid', strides: 1, dilationRate: 1 },
  { activation: 'relu6', useBias: false, padding: 'same', strides: 2, dilationRate: 1 },
  { activation: 'elu', useBias: true, padding: 'same', strides: 2, dilationRate: 1 },
  { activation: 'elu', useBias: false, padding: 'valid', strides: 1, dilationRate: 2 },
  { activation: 'sigmoid', useBias: true, padding: 'same', strides: 1, dilationRate: 2 },
  { activation: 'sigmoid', useBias: false, padding: 'valid', strides: 2, dilationRate: 1 },
  { activation: 'linear', useBias: true, padding: 'valid', strides: 2, dilationRate: 1 },
  { activation: 'linear', useBias: false, padding: 'same', strides: 1, dilationRate: 1 },
];

const LAYER_X: Shape4 = [2, 9, 9, 3];
const LAYER_FILTERS = 4;

interface Grads {
  kernel: Float32Array;
  bias?: Float32Array;
  input: Float32Array;
  kernels: string[];
}

/** Gradients of sum(layer(x) * r) w.r.t. the layer's kernel and bias and its input, on `backend`. */
async function layerGrads(backend: string, c: LayerCase, data: { x: InputData; w: InputData; b: InputData }): Promise<Grads> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const layer = tfl.layers.conv2d({
    filters: LAYER_FILTERS, kernelSize: 3, strides: c.strides, padding: c.padding, dilationRate: c.dilationRate, activation: c.activation, useBias: c.useBias,
  });
  // The first call builds the layer (and makes it disposable); then the weights are set explicitly.
  tf.tidy(() => {
    layer.apply(tf.zeros(LAYER_X));
  });
  const weights = c.useBias ? [toTensor(data.w), toTensor(data.b)] : [toTensor(data.w)];
  layer.setWeights(weights);
  tf.dispose(weights);
  const x0 = toTensor(data.x);
  const x = tf.variable(x0);
  x0.dispose();
  const outShape = layer.computeOutputShape(LAYER_X) as number[];
  const r = tf.tensor(makeInputs(1700, [{ shape: outShape }])[0]!.values, outShape);
  const vars = [...layer.trainableWeights.map((w) => w.read() as tf.Variable), x];
  const info = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, r)), vars);
    return [value, ...vars.map((v) => grads[v.name]!)];
  });
  const [value, ...grads] = info.result as tf.Tensor[];
  const values = grads.map((g) => Float32Array.from(g.dataSync()));
  tf.dispose([value!, ...grads, x, r]);
  layer.dispose();
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return { kernel: values[0]!, ...(c.useBias && { bias: values[1]! }), input: values.at(-1)!, kernels: info.kernelNames };
}

/**
 * The cpu reference for a dilated layer (tfjs refuses that gradient): the same
 * computation with tf.fused.conv2d and the zero-spread filter.
 */
function referenceDilated(c: LayerCase, data: { x: InputData; w: InputData; b: InputData }): Omit<Grads, 'kernels'> {
  const outShape = tf.backend_util.computeConv2DInfo(LAYER_X, data.w.shape as Shape4, c.strides, c.dilationRate, c.padding).outShape;
  const r = tf.tensor(makeInputs(1700, [{ shape: outShape }])[0]!.values, outShape);
  const d: Pair = [c.dilationRate, c.dilationRate];
  const grads = tf.tidy(() => {
    const f = (x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor) => tf.sum(tf.mul(tf.fused.conv2d({
      x: x as tf.Tensor4D, filter: dilateFilter(w, d), bias: b, strides: c.strides, pad: c.padding, activation: c.activation,
    }), r));
    const inputs = [toTensor(data.x), toTensor(data.w), ...(c.useBias ? [toTensor(data.b)] : [])];
    return c.useBias ? tf.grads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => f(x, w, b))(inputs) : tf.grads((x: tf.Tensor, w: tf.Tensor) => f(x, w))(inputs);
  });
  const [dx, dw, db] = grads.map((g) => Float32Array.from(g.dataSync()));
  tf.dispose([...grads, r]);
  return { kernel: dw!, ...(c.useBias && { bias: db! }), input: dx! };
}

function assertGradsClose(got: Grads, expected: Omit<Grads, 'kernels'>, what: string): void {
  for (const key of ['kernel', 'bias', 'input'] as const) {
    const a = got[key], b = expected[key];
    assert.equal(a === undefined, b === undefined, `${what}: ${key} gradient presence`);
    if (!a || !b) continue;
    assert.equal(a.length, b.length, `${what}: ${key} gradient length`);
    const w = worstMismatch(a, b, 1e-4);
    assert.ok(w.ok, `${what}: d/d${key}[${w.index}]: native ${w.got}, cpu ${w.expected} (|diff| ${w.error.toExponential(3)} > ${w.allowed.toExponential(3)})`);
  }
}

describe('tfjs-layers Conv2D trains through the fused native path, with the same gradients as cpu', () => {
  for (const [i, c] of LAYER_CASES.entries()) {
    const label = `conv2d layer ${c.activation}${c.useBias ? ' + bias' : ', no bias'} ${c.padding} strides ${c.strides} dilation ${c.dilationRate}`;
    it(label, async () => {
      const [x, w, b] = makeInputs(1710 + i, [{ shape: LAYER_X, min: -2, max: 2 }, { shape: [3, 3, LAYER_X[3], LAYER_FILTERS] }, { shape: [LAYER_FILTERS], min: -0.5, max: 0.5 }]);
      const data = { x: x!, w: w!, b: b! };
      try {
        let expected: Omit<Grads, 'kernels'>;
        if (c.dilationRate === 1) {
          expected = await layerGrads('cpu', c, data);
        } else {
          await tf.setBackend('cpu');
          expected = referenceDilated(c, data);
        }
        await forEachIsa(async (isa) => {
          const got = await layerGrads('native', c, data);
          assertGradsClose(got, expected, `${label} [${isa}]`);
          assertFusedPath(got.kernels, `${label} [${isa}]`);
        });
      } finally {
        await tf.setBackend('native');
      }
    });
  }
});

// ---------------------------------------------------------------------------
// DLOPT_NATIVE_FUSION=0 turns the fused path off (read once, at import).

const INDEX_URL = new URL('./index.ts', import.meta.url).href;
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** In a fresh process: which function tf.fused.conv2d is, and which kernels a fused conv2d (forward and gradient) runs. */
function probeChild(fusion: string | undefined): { backend: string; name: string; kernels: string[] } {
  const code = `
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-layers');
    const original = tf.fused.conv2d.name;
    await import(${JSON.stringify(INDEX_URL)});
    tf.env().set('IS_TEST', true);
    await tf.ready();
    const x = tf.ones([1, 5, 5, 2]), w = tf.ones([3, 3, 2, 3]), b = tf.zeros([3]);
    const info = await tf.profile(() => tf.grads((a, f, c) => tf.sum(tf.fused.conv2d({ x: a, filter: f, bias: c, strides: 1, pad: 'same', activation: 'relu' })))([x, w, b]));
    console.log('RESULT ' + JSON.stringify({ backend: tf.getBackend(), name: tf.fused.conv2d.name, original, kernels: info.kernelNames }));
  `;
  const env = { ...process.env };
  delete env.DLOPT_NATIVE_FUSION;
  if (fusion !== undefined) env.DLOPT_NATIVE_FUSION = fusion;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: PACKAGE_DIR, encoding: 'utf8', env, timeout: 60_000 });
  assert.equal(r.status, 0, `child failed (status ${r.status}): ${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no result from the child: ${r.stdout}\n${r.stderr}`);
  const result = JSON.parse(line.slice('RESULT '.length)) as { backend: string; name: string; original: string; kernels: string[] };
  assert.ok(result.original.length > 0, 'tfjs\'s fused.conv2d has a name');
  return { backend: result.backend, name: result.name === result.original ? 'original' : 'replaced', kernels: result.kernels };
}

describe('DLOPT_NATIVE_FUSION', () => {
  it('=0 leaves tf.fused.conv2d as tfjs\'s own (child process); by default it is replaced', () => {
    const off = probeChild('0');
    assert.equal(off.backend, 'native');
    assert.equal(off.name, 'original', 'tf.fused.conv2d was replaced although DLOPT_NATIVE_FUSION=0');
    for (const k of FUSED_KERNELS) assert.ok(!off.kernels.includes(k), `${k} ran with DLOPT_NATIVE_FUSION=0`);
    assert.ok(off.kernels.includes('Conv2D'), `with fusion off, tfjs's path runs Conv2D (ran ${off.kernels})`);

    const on = probeChild(undefined);
    assert.equal(on.backend, 'native');
    assert.equal(on.name, 'replaced');
    assertFusedPath(on.kernels, 'default (fusion on)');
  });
});

describe('relu → max pool: the pool gradient applies the relu derivative', () => {
  const x = { shape: [2, 8, 8, 3] };
  const w = { shape: [3, 3, 3, 5] };
  const b = { shape: [5] };
  const conv = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
    tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, bias: bb, strides: 1, pad: 'same', activation: 'relu' });

  it('conv(relu) → maxPool: gradients match cpu, through DloptMaxPoolGradRelu', async () => {
    const fn = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(conv(a, c, d) as tf.Tensor4D, 2, 2, 'valid'), 1.5)))([xx, ww, bb]);
    await check('conv relu maxpool grads', 1701, [x, w, b], fn, { scale: 'abs' });
    const kernels = await nativeKernels(fn, makeInputs(1701, [x, w, b]));
    assert.ok(kernels.includes('DloptMaxPoolGradRelu'), kernels.join(', '));
    assert.ok(!kernels.includes('MaxPoolGrad'), kernels.join(', '));
  });

  it('when the relu output also feeds another op, the summed gradient still matches cpu', async () => {
    const fn = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => {
        const y = conv(a, c, d);
        return tf.add(tf.sum(tf.maxPool(y as tf.Tensor4D, 2, 2, 'same')), tf.sum(tf.mul(y, 0.25)));
      })([xx, ww, bb]);
    await check('relu output with two consumers', 1702, [x, w, b], fn, { scale: 'abs' });
  });

  it('max pool of a tensor that is not a fused relu output uses the plain gradient', async () => {
    const fn = (xx: tf.Tensor) => tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(tf.sub(a, 0.5) as tf.Tensor4D, 2, 2, 'valid')))(xx);
    await check('plain max pool grad', 1703, [x], fn);
    const kernels = await nativeKernels(fn, makeInputs(1703, [x]));
    assert.ok(kernels.includes('MaxPoolGrad') && !kernels.includes('DloptMaxPoolGradRelu'), kernels.join(', '));
  });
});
