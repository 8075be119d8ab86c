import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { DloptError } from '../errors.js';
import { syntheticImages } from '../test-support/fixtures.js';
import type { Callback, CallbackState, TrainingContext } from '../train/callbacks/callback.js';
import { compileClassifier } from '../train/compile.js';
import { fitModel } from '../train/fit.js';
import { createOptimizer } from '../train/optimizers/create-optimizer.js';
import { MagnitudePruning, applyMagnitudePruning } from './magnitude-pruning-callback.js';
import { prunableKernels } from './prunable-kernels.js';
import { ConstantSparsity, PolynomialDecaySparsity } from './sparsity-schedule.js';
import { weightSparsity } from './sparsity-report.js';

/** conv 3×3×3×4 (108 weights) → dense 144×10 (1440), trained with Adam. */
function tinyModel(seed: number, filters = 4): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [8, 8, 3], filters, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed }) }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }));
  compileClassifier(model, createOptimizer({ name: 'adam', learningRate: 0.01 }));
  return model;
}

function context(model: tfl.LayersModel, step = 0): TrainingContext {
  return { model, optimizer: undefined, epochs: 1, stepsPerEpoch: 10, epoch: 0, step, stopTraining: false };
}

/** Kernel values at the positions a mask prunes. */
function prunedValues(pruning: MagnitudePruning): number[] {
  if (pruning.masks.length === 0) return [];
  return pruning.kernels.flatMap((k, i) => {
    const values = k.weight.read().dataSync();
    const mask = pruning.masks[i]!;
    return Array.from(values).filter((_, j) => mask[j] === 0);
  });
}

const train = syntheticImages(40, 1, 8);

describe('MagnitudePruning in fitModel', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('reaches the final sparsity exactly per layer; pruned weights stay +0 under Adam; no tensor leaks', async () => {
    // Same run without pruning: the tensors fitModel and Adam keep (optimizer state) are the baseline.
    const baseline = tinyModel(3);
    const before0 = tf.memory().numTensors;
    await fitModel(baseline, { train }, { epochs: 4, batchSize: 8, numClasses: 10, seed: 1 });
    const baselineGrowth = tf.memory().numTensors - before0;
    baseline.dispose();

    const model = tinyModel(3);
    const pruning = new MagnitudePruning({ schedule: new PolynomialDecaySparsity({ initial: 0, final: 0.8, beginStep: 0, endStep: 10, frequency: 2 }) });
    let movedByAdam = 0;
    const sparsities: number[] = [];
    // Runs before the pruning callback's onBatchEnd: sees what the optimizer did to pruned weights.
    const probe: Callback = { name: 'probe', onBatchEnd: () => void (movedByAdam += prunedValues(pruning).filter((v) => v !== 0).length) };
    const after: Callback = {
      name: 'after',
      onBatchEnd: (ctx) => {
        for (const v of prunedValues(pruning)) assert.ok(Object.is(v, 0), `step ${ctx.step}: a pruned weight is ${v}`);
        sparsities.push(pruning.currentSparsity());
      },
    };
    const start = tf.memory().numTensors;
    const history = await fitModel(model, { train }, { epochs: 4, batchSize: 8, numClasses: 10, seed: 1, callbacks: [probe, pruning, after] });
    assert.equal(tf.memory().numTensors - start, baselineGrowth, 'no tensor left behind beyond the optimizer state');

    for (const m of history) assert.ok(Number.isFinite(m.loss));
    assert.ok(movedByAdam > 0, "Adam's momentum moves pruned weights: re-applying the masks is what keeps them 0");
    assert.equal(sparsities.length, 20);
    // Masks are recomputed at steps 0, 2, …, 10; the sparsity after step t is that of the last update.
    const expected = (t: number): number => {
      const s = pruning.schedule.sparsityAt(t - (t % 2));
      return (Math.round(s * 108) + Math.round(s * 1440)) / 1548;
    };
    sparsities.forEach((s, t) => assert.ok(Math.abs(s - expected(Math.min(t, 10))) < 1e-12, `step ${t}: ${s}`));
    assert.ok(sparsities.every((s, t) => t === 0 || s >= sparsities[t - 1]!), 'sparsity never decreases');

    const report = weightSparsity(model);
    assert.deepEqual(report.layers.map((l) => [l.size, l.zeros]), [[108, 86], [1440, 1152]]);
    assert.equal(report.totalParams, 108 + 4 + 1440 + 10);
    assert.equal(report.nonzeroParams, 1562 - 86 - 1152, 'biases are not pruned');
    assert.ok(Math.abs(pruning.currentSparsity() - 1238 / 1548) < 1e-12);
    model.dispose();
  });
});

describe('MagnitudePruning', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('prunes nothing before the begin step, then at sparsityAt(step)', () => {
    const model = tinyModel(5);
    const pruning = new MagnitudePruning({ schedule: new ConstantSparsity({ target: 0.5, beginStep: 3, frequency: 10 }), scope: 'global' });
    const ctx = context(model);
    pruning.onTrainBegin(ctx);
    assert.deepEqual(pruning.masks, []);
    for (ctx.step = 0; ctx.step < 3; ctx.step++) pruning.onBatchBegin(ctx);
    assert.equal(weightSparsity(model).prunableZeros, 0);
    pruning.onBatchBegin(ctx);
    assert.equal(weightSparsity(model).prunableZeros, 774);
    pruning.onTrainEnd();
    model.dispose();
  });

  it('state() and restore() bring the masks back into a fresh model; a model of other shapes is refused', () => {
    const model = tinyModel(7);
    const schedule = new ConstantSparsity({ target: 0.6, frequency: 5 });
    const first = new MagnitudePruning({ schedule });
    first.onTrainBegin(context(model, 0));
    const saved = first.state();
    assert.deepEqual((saved.json as { lastUpdate: number }).lastUpdate, 0);
    assert.equal(saved.tensors!.length, 1);
    assert.equal(saved.tensors![0]!.dtype, 'int32');

    const restored = (json: unknown): MagnitudePruning => {
      const p = new MagnitudePruning({ schedule });
      p.restore({ json: JSON.parse(JSON.stringify(json)) as unknown, tensors: saved.tensors!.map((t) => t.clone()) } satisfies CallbackState);
      return p;
    };
    // A fresh model whose own weights would give other masks.
    const fresh = tinyModel(99);
    const second = restored(saved.json);
    second.onTrainBegin(context(fresh, 3));
    assert.deepEqual(second.masks, first.masks);
    prunableKernels(fresh).forEach((k, i) => {
      const values = k.weight.read().dataSync();
      first.masks[i]!.forEach((keep, j) => assert.equal(values[j] === 0, keep === 0, `${k.name}[${j}]`));
    });
    // Step 3 is no update step: the restored masks stay; step 5 recomputes from the fresh model's weights.
    const ctx = context(fresh, 3);
    second.onBatchBegin(ctx);
    assert.deepEqual(second.masks, first.masks);

    const other = tinyModel(7, 6);
    const third = restored(saved.json);
    assert.throws(() => third.onTrainBegin(context(other)), (e: unknown) => e instanceof DloptError && /pruning mask for layer '.*' has shape \[3, 3, 3, 4\]/.test(e.message));

    // state()'s tensor is owned by the callback: one at a time, freed by dispose().
    const count = tf.memory().numTensors;
    first.state();
    first.state();
    assert.equal(tf.memory().numTensors, count);
    first.dispose();
    second.dispose();
    assert.ok(tf.memory().numTensors < count);
    for (const m of [model, fresh, other]) m.dispose();
  });

  it('with an N:M pattern prunes 2 of every 4 inputs of the kernels that fit and reports the others', () => {
    const model = tinyModel(11);
    const pruning = new MagnitudePruning({ schedule: new ConstantSparsity({ target: 0.5 }), pattern: { n: 2, m: 4 } });
    pruning.onTrainBegin(context(model));
    assert.deepEqual(pruning.skipped.map((s) => s.layer), [model.layers[0]!.name]);
    assert.deepEqual(weightSparsity(model).layers.map((l) => l.zeros), [0, 720]);
    pruning.onTrainEnd();
    model.dispose();
  });

  it('refuses a model with nothing to prune', () => {
    const model = tfl.sequential({ layers: [tfl.layers.batchNormalization({ inputShape: [4] })] });
    const pruning = new MagnitudePruning({ schedule: new ConstantSparsity({ target: 0.5 }) });
    assert.throws(() => pruning.onTrainBegin(context(model)), /model has no layers to prune/);
    model.dispose();
  });
});

describe('applyMagnitudePruning', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('zeroes exactly the smallest weights of each layer, as +0, and returns what it did', () => {
    const model = tinyModel(13);
    const kernels = prunableKernels(model);
    const original = kernels.map((k) => Float32Array.from(k.weight.read().dataSync()));
    const bias = Float32Array.from(model.getWeights()[1]!.dataSync());
    const stats = applyMagnitudePruning(model, { sparsity: 0.5, scope: 'layer' });
    assert.deepEqual(stats, [
      { layer: kernels[0]!.layer, weight: kernels[0]!.name, size: 108, zeros: 54 },
      { layer: kernels[1]!.layer, weight: kernels[1]!.name, size: 1440, zeros: 720 },
    ]);
    kernels.forEach((k, i) => {
      const now = k.weight.read().dataSync();
      const prunedMax = Math.max(...original[i]!.filter((_, j) => now[j] === 0).map(Math.abs));
      const keptMin = Math.min(...original[i]!.filter((_, j) => now[j] !== 0).map(Math.abs));
      assert.ok(prunedMax <= keptMin, `${k.name}: the smallest went`);
      now.forEach((v, j) => assert.ok(v === 0 ? Object.is(v, 0) : v === original[i]![j], `${k.name}[${j}]: +0 or unchanged`));
    });
    assert.deepEqual(Float32Array.from(model.getWeights()[1]!.dataSync()), bias);

    model.dispose();

    const fresh = tinyModel(14);
    const nm = applyMagnitudePruning(fresh, { pattern: { n: 1, m: 4 } });
    assert.match(nm[0]!.skipped!, /3 entries, not a multiple of 4/);
    assert.equal(nm[0]!.zeros, 0);
    assert.equal(nm[1]!.zeros, 1080);
    fresh.dispose();
  });
});
