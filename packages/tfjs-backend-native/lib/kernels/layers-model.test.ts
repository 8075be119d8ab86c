import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import '../index.js';
import { countAddonCalls, forEachIsa, makeInputs, makeRng, type InputData } from '../test-support/oracle.js';

const STEPS = 5;
const CLASSES = 3;

/** conv 3x3 relu → maxpool → flatten → dense softmax, with seeded initializers (the same weights every time). */
function buildModel(optimizer: 'sgd' | 'adam'): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({
    inputShape: [9, 9, 3], filters: 5, kernelSize: 3, padding: 'same', activation: 'relu',
    kernelInitializer: tfl.initializers.glorotUniform({ seed: 11 }), biasInitializer: tfl.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: 12 }),
  }));
  model.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({
    units: CLASSES, activation: 'softmax',
    kernelInitializer: tfl.initializers.glorotUniform({ seed: 13 }), biasInitializer: 'zeros',
  }));
  model.compile({ optimizer: optimizer === 'sgd' ? tf.train.sgd(0.1) : tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  return model;
}

/** Trains a fresh model for STEPS steps on one batch under `backend`; returns the loss of each step and the final weights. */
async function train(backend: string, optimizer: 'sgd' | 'adam', batch: { x: InputData; labels: number[] }): Promise<{ losses: number[]; weights: Float32Array[] }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const model = buildModel(optimizer);
  const x = tf.tensor(batch.x.values, batch.x.shape);
  const y = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), CLASSES);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = await model.trainOnBatch(x, y);
    losses.push(Array.isArray(loss) ? loss[0]! : loss);
  }
  const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
  tf.dispose([x, y]);
  model.dispose();
  model.optimizer.dispose();
  assert.ok(tf.memory().numTensors <= before + 1, `${backend}: ${tf.memory().numTensors - before} tensors left after training`);
  return { losses, weights };
}

describe('a small tfjs-layers model trains the same on native as on cpu', () => {
  const [x] = makeInputs(77, [{ shape: [6, 9, 9, 3] }]);
  const rng = makeRng(78);
  const batch = { x: x!, labels: Array.from({ length: 6 }, () => Math.floor(rng() * CLASSES)) };

  for (const optimizer of ['sgd', 'adam'] as const) {
    it(`${optimizer}: ${STEPS} steps, losses within 1e-4 relative at every step`, async () => {
      const cpu = await train('cpu', optimizer, batch);
      assert.ok(cpu.losses.every(Number.isFinite));
      assert.ok(cpu.losses.at(-1)! < cpu.losses[0]!, `cpu loss did not fall: ${cpu.losses}`);
      try {
        await forEachIsa(async (isa) => {
          const { result: native, calls } = await countAddonCalls(() => train('native', optimizer, batch));
          for (const kernel of ['conv2d', 'conv2dBackpropFilter', 'maxPool', 'maxPoolGrad', 'gemm']) {
            assert.ok(calls.has(kernel), `[${isa}] training did not run addon.${kernel} (ran ${[...calls.keys()]})`);
          }
          for (let step = 0; step < STEPS; step++) {
            const a = native.losses[step]!, b = cpu.losses[step]!;
            assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `[${isa}] step ${step}: native loss ${a}, cpu ${b} (all: native ${native.losses}, cpu ${cpu.losses})`);
          }
          // The weights after training agree too (looser: differences compound over the steps).
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
  }
});
