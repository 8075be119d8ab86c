import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tfc from '@tensorflow/tfjs-core';
import { initBackend } from '../../backend/backend.js';
import { syntheticImages } from '../../test-support/fixtures.js';
import { compileClassifier } from '../compile.js';
import { fitModel, type EpochMetrics } from '../fit.js';
import { createOptimizer, type OptimizerName } from '../optimizers/create-optimizer.js';
import { TrainingOptimizer } from '../optimizers/training-optimizer.js';
import { ConstantRate } from '../schedules/constant.js';
import { CosineDecay } from '../schedules/cosine-decay.js';
import { ExponentialDecay } from '../schedules/exponential-decay.js';
import { OneCycle } from '../schedules/one-cycle.js';
import type { LearningRateSchedule } from '../schedules/schedule.js';
import { StepDecay } from '../schedules/step-decay.js';
import type { Callback, CallbackState, TrainingContext } from './callback.js';
import { LearningRateController, type PlateauOptions } from './learning-rate.js';

function tinyModel(optimizer: tf.Optimizer): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }) }));
  compileClassifier(model, optimizer);
  return model;
}

interface StepRecord {
  step: number;
  lr: number;
  /** SGD's cached −lr tensor: what the step really multiplied the gradient by. */
  c: number | undefined;
}

/** Records the optimizer's rate after every step (it runs after the controller). */
function spy(): Callback & { steps: StepRecord[] } {
  const steps: StepRecord[] = [];
  return {
    name: 'spy',
    steps,
    onBatchEnd(ctx: TrainingContext) {
      const c = (ctx.optimizer!.inner as unknown as { c?: tf.Scalar }).c;
      steps.push({ step: ctx.step - 1, lr: ctx.optimizer!.learningRate, c: c?.dataSync()[0] });
    },
  };
}

/** Counts the controller's writes to the optimizer's learning rate. */
function countSets(opt: TrainingOptimizer): { count: number } {
  const counter = { count: 0 };
  const accessor = Object.getOwnPropertyDescriptor(TrainingOptimizer.prototype, 'learningRate')!;
  Object.defineProperty(opt, 'learningRate', {
    configurable: true,
    get() {
      return accessor.get!.call(this) as number;
    },
    set(lr: number) {
      counter.count++;
      accessor.set!.call(this, lr);
    },
  });
  return counter;
}

const STEPS_PER_EPOCH = 3; // 20 images in batches of 8
const EPOCHS = 3;
const train = syntheticImages(20, 1, 8);

async function run(
  schedule: LearningRateSchedule,
  options: { optimizer?: OptimizerName; initialEpoch?: number; plateau?: PlateauOptions; extra?: Callback[] } = {},
) {
  const opt = createOptimizer({ name: options.optimizer ?? 'sgd', learningRate: 0.5 });
  const sets = countSets(opt);
  const model = tinyModel(opt);
  const recorder = spy();
  const controller = new LearningRateController(schedule, options.plateau);
  const history = await fitModel(model, { train }, {
    epochs: EPOCHS, batchSize: 8, numClasses: 10, seed: 1,
    ...(options.initialEpoch !== undefined && { initialEpoch: options.initialEpoch }),
    callbacks: [...(options.extra ?? []), controller, recorder],
  });
  model.dispose();
  return { steps: recorder.steps, history, sets: sets.count, controller };
}

function expectedRates(schedule: LearningRateSchedule, from = 0): number[] {
  const rates: number[] = [];
  for (let step = from; step < STEPS_PER_EPOCH * EPOCHS; step++) {
    rates.push(schedule.rate({ step, epoch: Math.floor(step / STEPS_PER_EPOCH), stepsPerEpoch: STEPS_PER_EPOCH, epochs: EPOCHS }));
  }
  return rates;
}

describe('LearningRateController in fitModel', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('sets the per-step schedule before every step, into the optimizer (SGD\'s cached −lr too)', async () => {
    const schedule = new CosineDecay(0.1, 1, 0.001);
    const { steps, history, controller } = await run(schedule);
    const expected = expectedRates(schedule);
    assert.deepEqual(steps.map((s) => s.step), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(steps.map((s) => s.lr), expected);
    assert.deepEqual(steps.map((s) => s.c), expected.map((r) => Math.fround(-r)));
    assert.equal(new Set(expected).size, expected.length, 'a different rate every step');
    // Warm-up reaches base on the last step of epoch 1.
    assert.ok(Math.abs(steps[2]!.lr - 0.1) < 1e-15);
    // Each epoch reports the rate of its last step.
    assert.deepEqual(history.map((m) => m.lr), [expected[2], expected[5], expected[8]]);
    assert.equal(controller.rate, expected[8]);
  });

  it('one-cycle runs its whole cycle over the run: maxLr/25 on the first step, maxLr/(25·1e4) on the last', async () => {
    const { steps } = await run(new OneCycle(0.2, 0.5), { optimizer: 'momentum' });
    assert.ok(Math.abs(steps[0]!.lr - 0.2 / 25) < 1e-15);
    assert.ok(Math.abs(steps[4]!.lr - 0.2) < 1e-15, 'peak in the middle');
    assert.ok(Math.abs(steps[8]!.lr - 0.2 / 25 / 1e4) < 1e-15);
  });

  it('per-epoch schedules change the rate only at epoch starts', async () => {
    const { steps, history, sets } = await run(new StepDecay(0.1, 1, 0.5));
    assert.deepEqual(steps.map((s) => s.lr), [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025]);
    assert.equal(sets, 3, 'one write per epoch');
    assert.deepEqual(history.map((m) => m.lr), [0.1, 0.05, 0.025]);
    const exp = await run(new ExponentialDecay(0.1, 0.5), { optimizer: 'adam' });
    assert.deepEqual(exp.history.map((m) => m.lr), [0.1, 0.05, 0.025]);
    assert.equal(exp.sets, 3);
    // The same decay per step moves every step.
    const perStep = await run(new ExponentialDecay(0.1, 0.5, 'step'), { optimizer: 'rmsprop' });
    assert.equal(perStep.sets, 9);
    assert.ok(Math.abs(perStep.steps[1]!.lr - 0.1 * 0.5 ** (1 / 3)) < 1e-15);
  });

  it('a constant rate is written once and replaces the optimizer\'s own', async () => {
    const { steps, sets, history } = await run(new ConstantRate(0.02));
    assert.ok(steps.every((s) => s.lr === 0.02));
    assert.equal(sets, 1);
    assert.deepEqual(history.map((m) => m.lr), [0.02, 0.02, 0.02]);
  });

  it('a resumed run gets the rates of the uninterrupted one', async () => {
    const schedule = new CosineDecay(0.1, 1, 0.001);
    const { steps } = await run(schedule, { initialEpoch: 1 });
    assert.deepEqual(steps.map((s) => s.step), [3, 4, 5, 6, 7, 8]);
    assert.deepEqual(steps.map((s) => s.lr), expectedRates(schedule, 3));
  });

  it('reduce-on-plateau lowers the rate the epochs report', async () => {
    // The monitored metric never improves: forced to 1 before the controller sees it.
    const flat: Callback = { name: 'flat', onEpochEnd: (m: EpochMetrics) => void (m.val_loss = 1) };
    const { history, steps } = await run(new ConstantRate(0.01), { plateau: { patience: 1, factor: 0.5 }, extra: [flat] });
    assert.deepEqual(history.map((m) => m.lr), [0.01, 0.01, 0.005]);
    assert.deepEqual(steps.map((s) => s.lr), [0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.005, 0.005, 0.005]);
  });

  it('does nothing without a dlopt optimizer; epochs still report a plain tfjs rate', async () => {
    const model = tinyModel(tfc.train.sgd(0.03));
    const history = await fitModel(model, { train }, {
      epochs: 1, batchSize: 8, numClasses: 10, seed: 1, callbacks: [new LearningRateController(new ConstantRate(0.5))],
    });
    assert.equal(history[0]!.lr, 0.03);
    model.dispose();
  });
});

/** Drives the controller epoch by epoch without training; returns the rate in effect during each epoch. */
function plateauRun(controller: LearningRateController, values: (number | null)[], monitor = 'val_loss', first = 1): number[] {
  const opt = createOptimizer({ name: 'sgd', learningRate: 1 });
  const ctx: TrainingContext = {
    model: undefined as unknown as tfl.LayersModel, optimizer: opt, epochs: first + values.length - 1, stepsPerEpoch: 2,
    epoch: first - 1, step: (first - 1) * 2, stopTraining: false,
  };
  const rates: number[] = [];
  values.forEach((value, i) => {
    const epoch = first + i;
    ctx.epoch = epoch - 1;
    for (let b = 0; b < ctx.stepsPerEpoch; b++) {
      controller.onBatchBegin(ctx);
      if (b === 0) rates.push(opt.learningRate);
      else assert.equal(opt.learningRate, rates.at(-1), 'constant within the epoch');
      ctx.step++;
    }
    ctx.epoch = epoch;
    const m: EpochMetrics = { epoch, loss: 1, accuracy: 0, val_loss: null, val_accuracy: null, seconds: 1, images_per_s: 1, lr: opt.learningRate };
    (m as unknown as Record<string, number | null>)[monitor] = value;
    controller.onEpochEnd(m);
  });
  opt.dispose();
  return rates;
}

function assertRates(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length, `${actual} vs ${expected}`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) < 1e-12, `epoch ${i + 1}: ${a} should be ${expected[i]} (${actual})`));
}

describe('LearningRateController: reduce on plateau', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('multiplies the rate by factor after `patience` epochs without improvement, and not below minLr', () => {
    const c = new LearningRateController(new ConstantRate(0.1), { patience: 2, factor: 0.5, minDelta: 0, minLr: 0.02 });
    const rates = plateauRun(c, [1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]);
    // Bad epochs 2, 3 → reduced from epoch 4; improvement at 4; bad 5, 6 → from 7; bad 7, 8 → 0.0125, held at minLr 0.02.
    assertRates(rates, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02]);
  });

  it('patience 0 reduces after every epoch without improvement', () => {
    const c = new LearningRateController(new ConstantRate(1), { patience: 0, factor: 0.1, minDelta: 0 });
    assertRates(plateauRun(c, [1.0, 0.5, 0.6, 0.7, 0.4]), [1, 1, 1, 0.1, 0.01]);
  });

  it('improvements smaller than minDelta do not count (default 1e-4)', () => {
    const c = new LearningRateController(new ConstantRate(1), { patience: 1, factor: 0.5 });
    assertRates(plateauRun(c, [1.0, 0.99995, 0.99985, 0.5]), [1, 1, 0.5, 0.5]);
    const big = new LearningRateController(new ConstantRate(1), { patience: 1, factor: 0.5, minDelta: 0.1 });
    assertRates(plateauRun(big, [1.0, 0.95, 0.85, 0.8]), [1, 1, 0.5, 0.5]);
  });

  it('val_accuracy plateaus when it stops rising', () => {
    const c = new LearningRateController(new ConstantRate(1), { monitor: 'val_accuracy', patience: 1, factor: 0.5, minDelta: 0 });
    assertRates(plateauRun(c, [0.5, 0.6, 0.7, 0.65, 0.8], 'val_accuracy'), [1, 1, 1, 1, 0.5]);
  });

  it('a missing metric changes nothing', () => {
    const c = new LearningRateController(new ConstantRate(1), { patience: 0 });
    assertRates(plateauRun(c, [null, null, null, null]), [1, 1, 1, 1]);
  });

  it('scales a decaying schedule', () => {
    const c = new LearningRateController(new StepDecay(1, 1, 0.5), { patience: 0, factor: 0.1, minDelta: 0 });
    assertRates(plateauRun(c, [1.0, 2.0, 0.5]), [1, 0.5, 0.025]);
  });

  it('state() and restore() continue a run exactly', () => {
    const options = { patience: 2, factor: 0.5, minDelta: 0 };
    const values = [1.0, 1.0, 1.0, 0.9, 0.95, 1.0, 1.0, 0.8];
    const whole = plateauRun(new LearningRateController(new ConstantRate(0.1), options), values);
    assertRates(whole, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]);

    const first = new LearningRateController(new ConstantRate(0.1), options);
    plateauRun(first, values.slice(0, 5));
    const saved: CallbackState = { json: JSON.parse(JSON.stringify(first.state().json)) as unknown };
    assert.deepEqual(saved.json, { scale: 0.5, best: 0.9, wait: 1 });
    const resumed = new LearningRateController(new ConstantRate(0.1), options);
    resumed.restore(saved);
    assertRates(plateauRun(resumed, values.slice(5), 'val_loss', 6), whole.slice(5));
  });

  it('rejects a factor outside (0, 1) and a bad patience', () => {
    const s = new ConstantRate(0.1);
    assert.throws(() => new LearningRateController(s, { factor: 1 }), /factor must be in \(0, 1\)/);
    assert.throws(() => new LearningRateController(s, { factor: 0 }), RangeError);
    assert.throws(() => new LearningRateController(s, { patience: -1 }), /patience must be an integer >= 0/);
    assert.throws(() => new LearningRateController(s, { patience: 0.5 }), RangeError);
  });
});
