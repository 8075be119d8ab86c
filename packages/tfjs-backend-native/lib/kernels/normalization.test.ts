import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import '../index.js';
import { check, countAddonCalls, forEachIsa, makeInputs, makeRng, type InputData, type InputSpec } from '../test-support/oracle.js';

/** Batch-norm inputs: x, mean, variance (positive), then optional offset and scale, all drawn from `seed`. */
function bnSpecs(x: number[], param: number[], opts: { offset?: boolean; scale?: boolean } = {}): InputSpec[] {
  return [
    { shape: x, min: -3, max: 3 },
    { shape: param },
    { shape: param, min: 0.1, max: 2 },
    ...(opts.offset === false ? [] : [{ shape: param }]),
    ...(opts.scale === false ? [] : [{ shape: param, min: 0.5, max: 2 }]),
  ];
}

describe('FusedBatchNorm (tf.batchNorm, native vs cpu)', () => {
  const perChannel: { x: number[]; param: number[] }[] = [
    { x: [5, 3], param: [3] },
    { x: [4, 33], param: [33] },
    { x: [3, 5, 7], param: [7] },
    { x: [2, 4, 5, 3], param: [3] },
    { x: [2, 6, 6, 17], param: [17] },
    { x: [3, 4, 4, 1], param: [1] },
    // [1, c] and [1, 1, 1, c] are per channel too.
    { x: [2, 3, 3, 5], param: [1, 5] },
    { x: [2, 3, 3, 5], param: [1, 1, 1, 5] },
    // Large enough to split across threads.
    { x: [4, 16, 16, 32], param: [32] },
  ];
  for (const [i, c] of perChannel.entries()) {
    it(`x [${c.x}] with per-channel params [${c.param}]`, async () => {
      await check(`batchNorm x [${c.x}] params [${c.param}]`, 1000 + i, bnSpecs(c.x, c.param), (x, m, v, o, s) =>
        tf.batchNorm(x, m, v, o, s, 0.001), { native: ['batchNorm'] });
    });
  }

  for (const [i, x] of [[6, 4], [2, 5, 3], [2, 3, 4, 5]].entries()) {
    it(`x [${x}] with scalar params`, async () => {
      await check(`batchNorm x [${x}] scalar params`, 1020 + i, bnSpecs(x, []), (x, m, v, o, s) => tf.batchNorm(x, m, v, o, s, 0.01), { native: ['batchNorm'] });
    });
  }

  it('scalar mean and variance, per-channel offset and scale (mixed)', async () => {
    const specs: InputSpec[] = [{ shape: [2, 4, 4, 3] }, { shape: [1] }, { shape: [1], min: 0.1, max: 2 }, { shape: [3] }, { shape: [3], min: 0.5, max: 2 }];
    await check('batchNorm mixed', 1030, specs, (x, m, v, o, s) => tf.batchNorm(x, m, v, o, s), { native: ['batchNorm'] });
  });

  it('without offset and scale', async () => {
    await check('batchNorm no offset/scale', 1031, bnSpecs([3, 4, 4, 6], [6], { offset: false, scale: false }), (x, m, v) =>
      tf.batchNorm(x, m, v, undefined, undefined, 0.001), { native: ['batchNorm'] });
  });

  it('with scale only', async () => {
    await check('batchNorm scale only', 1032, bnSpecs([3, 7, 6], [6], { offset: false }), (x, m, v, s) =>
      tf.batchNorm(x, m, v, undefined, s, 0.001), { native: ['batchNorm'] });
  });

  it('with offset only', async () => {
    await check('batchNorm offset only', 1033, bnSpecs([5, 9], [9], { scale: false }), (x, m, v, o) =>
      tf.batchNorm(x, m, v, o, undefined, 0.001), { native: ['batchNorm'] });
  });

  it('params broadcast along the width, [w, c] (not per channel: falls back to cpu)', async () => {
    // [w, c] is a trailing suffix of x's shape, so the cpu kernel's cyclic reading of the parameters is a
    // true broadcast; also checked against the formula written with elementwise ops.
    const specs = bnSpecs([2, 3, 4, 5], [4, 5]);
    const [cpu] = await check('batchNorm params [4,5]', 1040, specs, (x, m, v, o, s) => tf.batchNorm(x, m, v, o, s, 0.001), { fallback: true });
    const inputs = makeInputs(1040, specs);
    const reference = tf.tidy(() => {
      const [x, m, v, o, s] = inputs.map((t) => tf.tensor(t.values, t.shape));
      return tf.add(tf.mul(tf.div(tf.sub(x!, m!), tf.sqrt(tf.add(v!, 0.001))), s!), o!).dataSync();
    });
    for (let i = 0; i < reference.length; i++) {
      assert.ok(Math.abs(cpu!.values[i]! - reference[i]!) <= 1e-4 * Math.max(1, Math.abs(reference[i]!)), `element ${i}: ${cpu!.values[i]} != ${reference[i]}`);
    }
  });

  it('params of shape [h, 1, c] (not per channel: falls back to cpu, same result as cpu)', async () => {
    await check('batchNorm params [3,1,5]', 1041, bnSpecs([2, 3, 4, 5], [3, 1, 5]), (x, m, v, o, s) =>
      tf.batchNorm(x, m, v, o, s, 0.001), { fallback: true });
  });

  it('params [2, 1] for x [4, 2, 1] (2 values but c = 1: falls back to cpu)', async () => {
    await check('batchNorm x [4,2,1] params [2,1]', 1042, bnSpecs([4, 2, 1], [2, 1]), (x, m, v, o, s) =>
      tf.batchNorm(x, m, v, o, s, 0.001), { fallback: true });
  });
});

describe('PadV2 (tf.pad with a constant, native vs cpu)', () => {
  const cases: { shape: number[]; paddings: [number, number][]; value: number }[] = [
    { shape: [5], paddings: [[2, 3]], value: 0 },
    { shape: [7], paddings: [[0, 0]], value: 1.5 },
    { shape: [3, 4], paddings: [[1, 2], [0, 3]], value: -2.5 },
    { shape: [3, 33], paddings: [[0, 0], [1, 1]], value: 0 },
    { shape: [2, 3, 4], paddings: [[1, 0], [0, 0], [2, 1]], value: 7 },
    { shape: [2, 5, 5, 3], paddings: [[0, 0], [1, 1], [2, 2], [0, 0]], value: 0 },
    { shape: [1, 4, 4, 7], paddings: [[0, 1], [3, 0], [0, 0], [1, 2]], value: -1 },
    { shape: [2, 2, 3, 2, 3], paddings: [[1, 0], [0, 2], [0, 0], [1, 1], [0, 1]], value: 0.25 },
    { shape: [2, 1, 2, 3, 2, 2], paddings: [[0, 1], [1, 1], [0, 0], [2, 0], [0, 0], [1, 3]], value: 3 },
    { shape: [1, 1, 1, 1, 1, 1], paddings: [[1, 1], [1, 1], [1, 1], [1, 1], [1, 1], [1, 1]], value: -4 },
    { shape: [2, 2, 2, 2, 2, 2], paddings: [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]], value: 9 },
    // Large enough to split across threads.
    { shape: [4, 32, 32, 8], paddings: [[0, 0], [2, 2], [2, 2], [0, 0]], value: 0 },
  ];
  for (const [i, c] of cases.entries()) {
    it(`rank ${c.shape.length}: [${c.shape}] padded ${JSON.stringify(c.paddings)} with ${c.value}`, async () => {
      await check(`pad [${c.shape}]`, 1100 + i, [{ shape: c.shape }], (x) => tf.pad(x, c.paddings, c.value), { native: ['pad'] });
    });
  }

  it('an empty tensor padded into a non-empty one: every element is the constant', async () => {
    const [out] = await check('pad [0, 3]', 1120, [{ shape: [0, 3] }], (x) => tf.pad(x, [[2, 1], [0, 1]], 5));
    assert.deepEqual(out!.shape, [3, 4]);
    assert.ok(out!.values.every((v) => v === 5), `values ${out!.values}`);
  });

  it('an empty tensor padded along other axes stays empty', async () => {
    const [out] = await check('pad [2, 0, 3] stays empty', 1121, [{ shape: [2, 0, 3] }], (x) => tf.pad(x, [[1, 1], [0, 0], [2, 2]], 5));
    assert.deepEqual(out!.shape, [4, 0, 7]);
  });

  it('rank 7 falls back to cpu', async () => {
    await check('pad rank 7', 1122, [{ shape: [1, 2, 1, 2, 1, 2, 2] }], (x) => tf.pad(x, [[0, 1], [0, 0], [1, 0], [0, 0], [0, 0], [1, 1], [0, 0]], 2), { fallback: true });
  });

  it('int32 falls back to cpu', async () => {
    await check('pad int32', 1123, [{ shape: [3, 4], dtype: 'int32', min: -5, max: 5 }], (x) => tf.pad(x, [[1, 1], [2, 0]], 3), { fallback: true });
  });

  it('gradient of pad (a slice) matches', async () => {
    await check('pad grad', 1124, [{ shape: [2, 4, 4, 3] }, { shape: [2, 6, 8, 3] }], (x, r) =>
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.pad(a, [[0, 0], [1, 1], [2, 2], [0, 0]], 1), r!)))(x!), { native: ['pad'] });
  });
});

// ---------------------------------------------------------------------------
// tfjs-layers' batchNormalization layer in training mode (batch moments → FusedBatchNorm).

const STEPS = 3;
const CLASSES = 3;

/** conv2d → batchNormalization → relu → flatten → dense softmax, with seeded initializers. */
function buildModel(): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({
    inputShape: [6, 6, 3], filters: 4, kernelSize: 3, padding: 'same', useBias: false,
    kernelInitializer: tfl.initializers.glorotUniform({ seed: 21 }),
  }));
  model.add(tfl.layers.batchNormalization({
    gammaInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 22 }),
    betaInitializer: tfl.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: 23 }),
  }));
  model.add(tfl.layers.reLU());
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({
    units: CLASSES, activation: 'softmax',
    kernelInitializer: tfl.initializers.glorotUniform({ seed: 24 }), biasInitializer: 'zeros',
  }));
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return model;
}

async function train(backend: string, batch: { x: InputData; labels: number[] }): Promise<{ losses: number[]; weights: Float32Array[] }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const model = buildModel();
  const x = tf.tensor(batch.x.values, batch.x.shape);
  const y = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), CLASSES);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = await model.trainOnBatch(x, y);
    losses.push(Array.isArray(loss) ? loss[0]! : loss);
  }
  // All weights, moving mean and variance included (updated in training mode).
  const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
  tf.dispose([x, y]);
  model.dispose();
  model.optimizer.dispose();
  assert.ok(tf.memory().numTensors <= before + 1, `${backend}: ${tf.memory().numTensors - before} tensors left after training`);
  return { losses, weights };
}

describe('tfjs-layers batchNormalization in training mode trains the same on native as on cpu', () => {
  it(`${STEPS} steps: losses within 1e-4, weights and moving statistics within 1e-3`, async () => {
    const [x] = makeInputs(1200, [{ shape: [8, 6, 6, 3] }]);
    const rng = makeRng(1201);
    const batch = { x: x!, labels: Array.from({ length: 8 }, () => Math.floor(rng() * CLASSES)) };
    const cpu = await train('cpu', batch);
    assert.ok(cpu.losses.every(Number.isFinite), `cpu losses ${cpu.losses}`);
    try {
      await forEachIsa(async (isa) => {
        const { result: native, calls } = await countAddonCalls(() => train('native', batch));
        assert.ok(calls.has('batchNorm'), `[${isa}] training did not run addon.batchNorm (ran ${[...calls.keys()]})`);
        for (let step = 0; step < STEPS; step++) {
          const a = native.losses[step]!, b = cpu.losses[step]!;
          assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `[${isa}] step ${step}: native loss ${a}, cpu ${b} (native ${native.losses}, cpu ${cpu.losses})`);
        }
        assert.equal(native.weights.length, cpu.weights.length);
        for (const [i, w] of native.weights.entries()) {
          const ref = cpu.weights[i]!;
          for (let j = 0; j < w.length; j++) {
            assert.ok(Math.abs(w[j]! - ref[j]!) <= 1e-3 * Math.max(1, Math.abs(ref[j]!)), `[${isa}] weight ${i}[${j}]: native ${w[j]}, cpu ${ref[j]}`);
          }
        }
      });
    } finally {
      await tf.setBackend('native');
    }
  });
});
