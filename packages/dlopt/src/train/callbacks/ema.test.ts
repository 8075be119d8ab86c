import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../backend/backend.js';
import { syntheticImages } from '../../test-support/fixtures.js';
import { compileClassifier } from '../compile.js';
import { evaluateModel } from '../evaluate.js';
import { fitModel, type EpochMetrics } from '../fit.js';
import { createOptimizer } from '../optimizers/create-optimizer.js';
import type { Callback, CallbackState, TrainingContext } from './callback.js';
import { EarlyStopping } from './early-stopping.js';
import { WeightAverage } from './ema.js';

const f32 = Math.fround;

function tinyModel(learningRate = 0.1): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 21 }) }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 22 }) }));
  compileClassifier(model, createOptimizer({ name: 'sgd', learningRate }));
  return model;
}

type Snapshot = Float32Array[];
const snapshot = (ws: tf.Tensor[]): Snapshot => ws.map((w) => Float32Array.from(w.dataSync()));

function assertSame(actual: Snapshot, expected: Snapshot, what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.deepEqual(a, expected[i], `${what}: weight ${i}`));
}

function maxDifference(a: Snapshot, b: Snapshot): number {
  let max = 0;
  a.forEach((x, i) => x.forEach((v, j) => (max = Math.max(max, Math.abs(v - b[i]![j]!)))));
  return max;
}

/** The EMA recursion, in float32 as tfjs computes it: s·d + w·(1 − d). */
function averaged(initial: Snapshot, raws: Snapshot[], decay: number, firstUpdate = 0): Snapshot {
  let s = initial.map((x) => Float32Array.from(x));
  raws.forEach((w, k) => {
    const t = firstUpdate + k;
    const d = Math.min(decay, (1 + t) / (10 + t));
    const dd = f32(d);
    const rest = f32(1 - d);
    s = s.map((x, i) => x.map((v, j) => f32(f32(v * dd) + f32(w[i]![j]! * rest))));
  });
  return s;
}

const train = syntheticImages(20, 1, 8);
const val = syntheticImages(20, 2, 8);

describe('WeightAverage in fitModel', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('keeps the closed-form average after every step, validates with it, and ends with it', async () => {
    const decay = 0.3;
    const model = tinyModel();
    const initial = snapshot(model.getWeights());
    const raws: Snapshot[] = [];
    const shadows: Snapshot[] = [];
    const checks: { metrics: EpochMetrics; raw: number; shadow: number; rawBack: boolean }[] = [];
    const recorder: Callback = {
      name: 'recorder',
      onTrainBegin(ctx) {
        assert.ok(ctx.evaluationWeights, 'EMA publishes its weights as the evaluation weights');
        assertSame(snapshot(ctx.evaluationWeights()), initial, 'the average starts at the initial weights');
      },
      onBatchEnd(ctx) {
        raws.push(snapshot(ctx.model.getWeights()));
        shadows.push(snapshot(ctx.evaluationWeights!()));
      },
      async onEpochEnd(metrics, ctx) {
        const current = snapshot(ctx.model.getWeights());
        const rawBack = maxDifference(current, raws.at(-1)!) === 0;
        const raw = await evaluateModel(ctx.model, val, { batchSize: 8, numClasses: 10 });
        const saved = ctx.model.getWeights().map((w) => w.clone());
        ctx.model.setWeights(ctx.evaluationWeights!());
        const shadow = await evaluateModel(ctx.model, val, { batchSize: 8, numClasses: 10 });
        ctx.model.setWeights(saved);
        tf.dispose(saved);
        checks.push({ metrics, raw: raw.loss, shadow: shadow.loss, rawBack });
      },
    };
    const ema = new WeightAverage(decay);
    await fitModel(model, { train, val }, { epochs: 3, batchSize: 8, numClasses: 10, seed: 1, callbacks: [ema, recorder] });

    assert.equal(raws.length, 9);
    // After each step t the average is the recursion with d_t = min(decay, (1 + t)/(10 + t)) over the recorded weights.
    for (let t = 0; t < raws.length; t++) {
      const expected = averaged(initial, raws.slice(0, t + 1), decay);
      const difference = maxDifference(shadows[t]!, expected);
      assert.ok(difference <= 1e-7, `step ${t}: average off by ${difference}`);
    }
    // A fixed decay of 0.3 from the start would be a different average (the warm-up matters).
    const fixed = averaged(initial, raws.slice(0, 1), 0.3, 100);
    assert.ok(maxDifference(shadows[0]!, fixed) > 1e-4, 'the first step uses d = 0.1, not 0.3');
    // The average really lags the raw weights.
    assert.ok(maxDifference(shadows.at(-1)!, raws.at(-1)!) > 1e-3);

    for (const [i, c] of checks.entries()) {
      assert.ok(c.rawBack, `epoch ${i + 1}: the raw weights are back after validation`);
      assert.equal(c.metrics.val_loss, c.shadow, `epoch ${i + 1}: validation measured the averaged weights`);
      assert.notEqual(c.metrics.val_loss, c.raw, `epoch ${i + 1}: not the raw weights`);
    }
    assertSame(snapshot(model.getWeights()), shadows.at(-1)!, 'the final model holds the averaged weights');
    model.dispose();
  });

  it('with early stopping after it, the final model is the averaged weights of the best epoch', async () => {
    const model = tinyModel();
    const script = [0.5, 0.9, 0.9];
    // Forces epoch 1 to be the best, whatever training does.
    const scripted: Callback = { name: 'scripted', onEpochEnd: (m) => void (m.val_loss = script[m.epoch - 1]!) };
    const perEpoch: Snapshot[] = [];
    const recorder: Callback = { name: 'recorder', onEpochEnd: (_m, ctx) => void perEpoch.push(snapshot(ctx.evaluationWeights!())) };
    const es = new EarlyStopping({ patience: 5 });
    // The order dlopt's config builds: weight averaging before early stopping.
    await fitModel(model, { train, val }, {
      epochs: 3, batchSize: 8, numClasses: 10, seed: 1, callbacks: [new WeightAverage(0.5), scripted, es, recorder],
    });
    assert.deepEqual(es.bestSoFar, { epoch: 1, value: 0.5 });
    assert.ok(maxDifference(perEpoch[0]!, perEpoch[2]!) > 1e-4, 'the average moved after epoch 1');
    assertSame(snapshot(model.getWeights()), perEpoch[0]!, "epoch 1's averaged weights");
    model.dispose();
  });
});

describe('WeightAverage', () => {
  before(async () => {
    await initBackend('cpu');
  });

  function context(model: tfl.LayersModel): TrainingContext {
    return { model, optimizer: undefined, epochs: 1, stepsPerEpoch: 10, epoch: 0, step: 0, stopTraining: false };
  }

  function smallModel(): tfl.LayersModel {
    const model = tfl.sequential();
    model.add(tfl.layers.dense({ units: 2, inputShape: [2], kernelInitializer: 'ones' }));
    return model;
  }

  /** Sets every weight to `value` and runs the EMA's step hook. */
  function stepTo(ema: WeightAverage, ctx: TrainingContext, value: number): void {
    const ws = ctx.model.getWeights().map((w) => tf.fill(w.shape, value));
    ctx.model.setWeights(ws);
    tf.dispose(ws);
    ema.onBatchEnd(ctx);
  }

  it('averages by hand: 1 → 11 with d = 0.1, then 21 with d = 2/11', () => {
    const model = smallModel();
    const ctx = context(model);
    const ws = model.getWeights().map((w) => tf.fill(w.shape, 1));
    model.setWeights(ws);
    tf.dispose(ws);
    const ema = new WeightAverage(0.99);
    ema.onTrainBegin(ctx);
    stepTo(ema, ctx, 11);
    const s1 = 0.1 * 1 + 0.9 * 11; // 10
    assert.ok(Math.abs(ctx.evaluationWeights!()[0]!.dataSync()[0]! - s1) < 1e-5);
    stepTo(ema, ctx, 21);
    const s2 = (2 / 11) * s1 + (9 / 11) * 21;
    for (const w of ctx.evaluationWeights!()) for (const v of w.dataSync()) assert.ok(Math.abs(v - s2) < 1e-5, `${v} vs ${s2}`);
    model.dispose();
  });

  it('state() and restore() bring back the average and the update count', () => {
    const model = smallModel();
    const first = new WeightAverage(0.9);
    const ctx = context(model);
    first.onTrainBegin(ctx);
    for (const v of [2, 3, 4]) stepTo(first, ctx, v);
    const saved = first.state();
    assert.deepEqual(saved.json, { updates: 3 });
    const average = snapshot(saved.tensors!);
    const restoreFrom = (json: unknown): WeightAverage => {
      const ema = new WeightAverage(0.9);
      ema.restore({ json: JSON.parse(JSON.stringify(json)) as unknown, tensors: saved.tensors!.map((t) => t.clone()) } satisfies CallbackState);
      return ema;
    };
    const resumed = restoreFrom(saved.json);
    const countless = restoreFrom({ updates: 0 });

    // The model's weights now differ from the average: onTrainBegin keeps the restored one.
    const ws = model.getWeights().map((w) => tf.fill(w.shape, 100));
    model.setWeights(ws);
    tf.dispose(ws);
    const ctx2 = context(model);
    resumed.onTrainBegin(ctx2);
    assertSame(snapshot(ctx2.evaluationWeights!()), average, 'restored average kept by onTrainBegin');
    const ctx3 = context(model);
    countless.onTrainBegin(ctx3);

    // From the same weights, the resumed average continues exactly as the uninterrupted one.
    stepTo(first, ctx, 5);
    stepTo(resumed, ctx2, 5);
    stepTo(countless, ctx3, 5);
    assertSame(snapshot(resumed.state().tensors!), snapshot(first.state().tensors!), 'resumed = uninterrupted');
    // d after 3 updates is min(0.9, 4/13); after none it would be 0.1.
    const expected = average[0]![0]! * (4 / 13) + 5 * (9 / 13);
    assert.ok(Math.abs(first.state().tensors![0]!.dataSync()[0]! - expected) < 1e-5);
    assert.ok(maxDifference(snapshot(countless.state().tensors!), snapshot(first.state().tensors!)) > 0.1, 'the update count matters');
    model.dispose();
  });

  it('rejects a decay outside (0, 1)', () => {
    for (const d of [0, 1, -0.5, 1.5, Number.NaN]) assert.throws(() => new WeightAverage(d), /decay must be in \(0, 1\)/);
  });
});
