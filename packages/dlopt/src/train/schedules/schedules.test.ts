import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConstantRate } from './constant.js';
import { CosineDecay } from './cosine-decay.js';
import { ExponentialDecay } from './exponential-decay.js';
import { OneCycle } from './one-cycle.js';
import type { LearningRateSchedule, SchedulePosition } from './schedule.js';
import { progress } from './schedule.js';
import { StepDecay } from './step-decay.js';

/** Equal up to floating-point rounding of the formula (relative 1e-12). */
function close(actual: number, expected: number, what = ''): void {
  const tolerance = 1e-12 * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} ${actual} should be ${expected}`);
}

/** The position of global step `step` in a run of `epochs` × `stepsPerEpoch`. */
function at(step: number, stepsPerEpoch: number, epochs: number): SchedulePosition {
  return { step, epoch: Math.floor(step / stepsPerEpoch), stepsPerEpoch, epochs };
}

function rates(schedule: LearningRateSchedule, stepsPerEpoch: number, epochs: number): number[] {
  return Array.from({ length: stepsPerEpoch * epochs }, (_, s) => schedule.rate(at(s, stepsPerEpoch, epochs)));
}

describe('progress', () => {
  it('is fractional epochs per step and whole epochs per epoch', () => {
    const p = { step: 7, epoch: 1, stepsPerEpoch: 4, epochs: 3 };
    assert.equal(progress('step', p), 1.75);
    assert.equal(progress('epoch', p), 1);
  });
});

describe('ConstantRate', () => {
  it('is the base rate everywhere', () => {
    const s = new ConstantRate(0.03);
    assert.equal(s.per, 'epoch');
    for (const r of rates(s, 5, 4)) assert.equal(r, 0.03);
  });
});

describe('StepDecay', () => {
  it('per epoch: drops by gamma exactly at multiples of stepSize', () => {
    const s = new StepDecay(0.1, 3, 0.5);
    assert.equal(s.per, 'epoch');
    const byEpoch = [0, 1, 2, 3, 4, 5, 6, 8, 9].map((epoch) => s.rate({ step: epoch * 10 + 7, epoch, stepsPerEpoch: 10, epochs: 10 }));
    const expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.0125];
    byEpoch.forEach((r, i) => close(r, expected[i]!, `epoch ${i}`));
  });

  it('per epoch: ignores the step within the epoch', () => {
    const s = new StepDecay(0.1, 1, 0.1);
    close(s.rate({ step: 0, epoch: 1, stepsPerEpoch: 10, epochs: 3 }), 0.01);
    close(s.rate({ step: 19, epoch: 1, stepsPerEpoch: 10, epochs: 3 }), 0.01);
  });

  it('per step: drops on the boundary step, counted in fractional epochs', () => {
    const s = new StepDecay(0.2, 2, 0.1, 'step');
    close(s.rate(at(19, 10, 6)), 0.2, 'step 19 (epoch 1.9)');
    close(s.rate(at(20, 10, 6)), 0.02, 'step 20 (epoch 2.0)');
    close(s.rate(at(39, 10, 6)), 0.02, 'step 39');
    close(s.rate(at(40, 10, 6)), 0.002, 'step 40');
    // Fractional step sizes work per step: every half epoch.
    const half = new StepDecay(1, 0.5, 0.5, 'step');
    assert.deepEqual(rates(half, 4, 1), [1, 1, 0.5, 0.5]);
  });

  it('defaults gamma to 0.1', () => {
    const s = new StepDecay(1, 1);
    close(s.rate({ step: 0, epoch: 2, stepsPerEpoch: 1, epochs: 3 }), 0.01);
  });

  it('rejects a stepSize or gamma that is not positive', () => {
    assert.throws(() => new StepDecay(0.1, 0), RangeError);
    assert.throws(() => new StepDecay(0.1, -1), RangeError);
    assert.throws(() => new StepDecay(0.1, Number.NaN), RangeError);
    assert.throws(() => new StepDecay(0.1, 1, 0), /gamma must be > 0/);
    assert.throws(() => new StepDecay(0.1, 1, -0.5), RangeError);
  });
});

describe('ExponentialDecay', () => {
  it('per epoch: base·gamma^epoch, constant within an epoch', () => {
    const s = new ExponentialDecay(0.1, 0.9);
    assert.equal(s.per, 'epoch');
    close(s.rate({ step: 0, epoch: 0, stepsPerEpoch: 4, epochs: 5 }), 0.1);
    close(s.rate({ step: 3, epoch: 0, stepsPerEpoch: 4, epochs: 5 }), 0.1);
    close(s.rate({ step: 4, epoch: 1, stepsPerEpoch: 4, epochs: 5 }), 0.09);
    close(s.rate({ step: 7, epoch: 1, stepsPerEpoch: 4, epochs: 5 }), 0.09);
    close(s.rate({ step: 8, epoch: 2, stepsPerEpoch: 4, epochs: 5 }), 0.081);
    close(s.rate({ step: 16, epoch: 4, stepsPerEpoch: 4, epochs: 5 }), 0.1 * 0.9 ** 4);
  });

  it('per step: continuous in fractional epochs', () => {
    const s = new ExponentialDecay(0.1, 0.81, 'step');
    close(s.rate(at(0, 4, 3)), 0.1);
    close(s.rate(at(2, 4, 3)), 0.09, 'half an epoch: 0.1·0.81^0.5');
    close(s.rate(at(1, 4, 3)), 0.1 * 0.81 ** 0.25);
    close(s.rate(at(4, 4, 3)), 0.081);
    close(s.rate(at(6, 4, 3)), 0.0729);
    const r = rates(s, 4, 3);
    for (let i = 1; i < r.length; i++) assert.ok(r[i]! < r[i - 1]!, 'strictly decreasing step by step');
  });

  it('gamma 1 is constant', () => {
    assert.deepEqual(rates(new ExponentialDecay(0.5, 1, 'step'), 3, 2), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  });

  it('rejects gamma outside (0, 1]', () => {
    for (const gamma of [0, -0.5, 1.01, Number.NaN]) {
      assert.throws(() => new ExponentialDecay(0.1, gamma), /gamma must be in \(0, 1\]/, `gamma ${gamma}`);
    }
  });
});

describe('CosineDecay', () => {
  const base = 0.1;
  const minLr = 0.001;

  it('per step: warm-up ramps linearly from the first step and reaches base at its end', () => {
    // 10 steps per epoch, 2 warm-up epochs = 20 warm-up steps, 12 epochs.
    const s = new CosineDecay(base, 2, minLr);
    assert.equal(s.per, 'step');
    close(s.rate(at(0, 10, 12)), base / 20, 'step 0 already trains');
    close(s.rate(at(1, 10, 12)), (2 * base) / 20);
    close(s.rate(at(9, 10, 12)), base / 2, 'halfway through warm-up');
    close(s.rate(at(19, 10, 12)), base, 'last warm-up step reaches base');
    close(s.rate(at(20, 10, 12)), base, 'cosine starts at base');
    const r = rates(s, 10, 12);
    for (let i = 1; i < 20; i++) assert.ok(r[i]! > r[i - 1]!, `warm-up increases at step ${i}`);
    for (let i = 21; i < r.length; i++) assert.ok(r[i]! < r[i - 1]!, `cosine decreases at step ${i}`);
  });

  it('per step: cosine midpoint is (base + minLr)/2 and the end of training is minLr', () => {
    const s = new CosineDecay(base, 2, minLr);
    // Cosine spans epochs 2..12; its midpoint is epoch 7 = step 70.
    close(s.rate(at(70, 10, 12)), (base + minLr) / 2, 'midpoint');
    // A quarter of the way: minLr + (base − minLr)(1 + cos(π/4))/2.
    close(s.rate(at(45, 10, 12)), minLr + ((base - minLr) * (1 + Math.SQRT1_2)) / 2, 'quarter');
    close(s.rate(at(120, 10, 12)), minLr, 'end');
    close(s.rate(at(150, 10, 12)), minLr, 'past the end stays at minLr');
    const last = s.rate(at(119, 10, 12));
    assert.ok(last > minLr && last < minLr + 0.001 * base, `last step ${last} is just above minLr`);
  });

  it('without warm-up starts at base; minLr defaults to 0', () => {
    const s = new CosineDecay(0.2);
    close(s.rate(at(0, 5, 4)), 0.2);
    close(s.rate(at(10, 5, 4)), 0.1, 'midpoint (base + 0)/2');
    close(s.rate(at(20, 5, 4)), 0);
  });

  it('per epoch: warm-up and decay move only at epoch boundaries', () => {
    const s = new CosineDecay(base, 2, minLr, 'epoch');
    const pos = (epoch: number, step = epoch * 10) => ({ step, epoch, stepsPerEpoch: 10, epochs: 12 });
    close(s.rate(pos(0)), base / 2, 'first warm-up epoch');
    close(s.rate(pos(0, 9)), base / 2, 'same within the epoch');
    close(s.rate(pos(1)), base, 'warm-up reaches base in its last epoch');
    close(s.rate(pos(2)), base);
    close(s.rate(pos(7)), (base + minLr) / 2, 'midpoint');
    close(s.rate(pos(7, 79)), (base + minLr) / 2, 'same within the epoch');
    close(s.rate(pos(12)), minLr);
  });

  it('rejects a negative warm-up and a minLr outside [0, base]', () => {
    assert.throws(() => new CosineDecay(0.1, -1), /warmupEpochs must be >= 0/);
    assert.throws(() => new CosineDecay(0.1, Number.NaN), RangeError);
    assert.throws(() => new CosineDecay(0.1, 0, 0.2), /minLr must be in \[0, 0.1\]/);
    assert.throws(() => new CosineDecay(0.1, 0, -0.01), RangeError);
    assert.doesNotThrow(() => new CosineDecay(0.1, 0, 0.1));
  });
});

describe('OneCycle', () => {
  // 5 epochs × 9 steps = 45 steps, indices 0..44; pctStart 0.25 peaks at step 0.25·44 = 11.
  const spe = 9;
  const epochs = 5;

  it('starts at maxLr/divFactor, peaks at maxLr at pctStart, ends at maxLr/(divFactor·finalDivFactor)', () => {
    const s = new OneCycle(1, 0.25, 25, 1e4);
    assert.equal(s.per, 'step');
    close(s.rate(at(0, spe, epochs)), 1 / 25, 'start');
    close(s.rate(at(11, spe, epochs)), 1, 'peak');
    close(s.rate(at(44, spe, epochs)), 1 / (25 * 1e4), 'last step');
  });

  it('anneals by cosine: halfway up is the mean of start and peak, halfway down the mean of peak and end', () => {
    const s = new OneCycle(2, 0.5, 10, 100);
    // 3 epochs × 7 steps = 21 steps, indices 0..20; pctStart 0.5 peaks at step 10.
    const initial = 2 / 10;
    const final = initial / 100;
    close(s.rate(at(0, 7, 3)), initial);
    close(s.rate(at(5, 7, 3)), (initial + 2) / 2, 'halfway up');
    close(s.rate(at(10, 7, 3)), 2, 'peak');
    close(s.rate(at(15, 7, 3)), (2 + final) / 2, 'halfway down');
    close(s.rate(at(20, 7, 3)), final, 'end');
    const r = rates(s, 7, 3);
    for (let i = 1; i <= 10; i++) assert.ok(r[i]! > r[i - 1]!, `rises at step ${i}`);
    for (let i = 11; i < r.length; i++) assert.ok(r[i]! < r[i - 1]!, `falls at step ${i}`);
  });

  it('uses the defaults pctStart 0.3, divFactor 25, finalDivFactor 1e4', () => {
    const s = new OneCycle(0.5);
    // 11 steps: total 10, up 3.
    close(s.rate(at(0, 11, 1)), 0.02);
    close(s.rate(at(3, 11, 1)), 0.5);
    close(s.rate(at(10, 11, 1)), 0.02 / 1e4);
  });

  it('rejects pctStart outside (0, 1) and non-positive div factors', () => {
    for (const pct of [0, 1, -0.1, 1.5, Number.NaN]) assert.throws(() => new OneCycle(1, pct), /pctStart must be in \(0, 1\)/, `pctStart ${pct}`);
    assert.throws(() => new OneCycle(1, 0.3, 0), /divFactor and finalDivFactor must be > 0/);
    assert.throws(() => new OneCycle(1, 0.3, 25, 0), RangeError);
    assert.throws(() => new OneCycle(1, 0.3, -1, 1), RangeError);
  });
});
