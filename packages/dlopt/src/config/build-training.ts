import type { Callback } from '../train/callbacks/callback.js';
import { WeightAverage } from '../train/callbacks/ema.js';
import { EarlyStopping } from '../train/callbacks/early-stopping.js';
import { LearningRateController } from '../train/callbacks/learning-rate.js';
import type { OptimizerSettings } from '../train/optimizers/create-optimizer.js';
import { ConstantRate } from '../train/schedules/constant.js';
import { CosineDecay } from '../train/schedules/cosine-decay.js';
import { ExponentialDecay } from '../train/schedules/exponential-decay.js';
import { OneCycle } from '../train/schedules/one-cycle.js';
import type { LearningRateSchedule } from '../train/schedules/schedule.js';
import { StepDecay } from '../train/schedules/step-decay.js';
import type { ScheduleConfig, TrainConfig } from './train-config.js';

/** The optimizer settings of a config (learning rate: the config's, else the preset's default). */
export function optimizerSettings(config: TrainConfig, defaultLearningRate: number): OptimizerSettings {
  const o = config.optimizer;
  return {
    name: o.name,
    learningRate: o.lr ?? defaultLearningRate,
    ...(o.momentum !== undefined && { momentum: o.momentum }),
    ...(o.nesterov !== undefined && { nesterov: o.nesterov }),
    ...(o.beta1 !== undefined && { beta1: o.beta1 }),
    ...(o.beta2 !== undefined && { beta2: o.beta2 }),
    ...(o.epsilon !== undefined && { epsilon: o.epsilon }),
    ...(o.weightDecay !== undefined && { weightDecay: o.weightDecay }),
    ...(o.clipNorm !== undefined && { clipNorm: o.clipNorm }),
    ...(o.clipValue !== undefined && { clipValue: o.clipValue }),
  };
}

export function buildSchedule(schedule: ScheduleConfig | undefined, lr: number): LearningRateSchedule {
  switch (schedule?.name) {
    case undefined:
    case 'constant':
    case 'plateau':
      return new ConstantRate(lr);
    case 'step':
      return new StepDecay(lr, schedule.stepSize, schedule.gamma, schedule.per);
    case 'exponential':
      return new ExponentialDecay(lr, schedule.gamma, schedule.per);
    case 'cosine':
      return new CosineDecay(lr, schedule.warmupEpochs, schedule.minLr, schedule.per);
    case 'onecycle':
      return new OneCycle(schedule.maxLr ?? lr, schedule.pctStart, schedule.divFactor, schedule.finalDivFactor);
  }
}

/**
 * The callbacks a config asks for, in the order they must run: the learning
 * rate first (it acts before each step), weight averaging before early
 * stopping (which keeps the averaged weights when both are on).
 */
export function buildCallbacks(config: TrainConfig, lr: number): Callback[] {
  const callbacks: Callback[] = [];
  const s = config.schedule;
  callbacks.push(
    new LearningRateController(
      buildSchedule(s, lr),
      s?.name === 'plateau' ? { monitor: s.monitor, factor: s.factor, patience: s.patience, minDelta: s.minDelta, minLr: s.minLr } : undefined,
    ),
  );
  if (config.ema !== undefined) callbacks.push(new WeightAverage(config.ema));
  if (config.earlyStopping) callbacks.push(new EarlyStopping(config.earlyStopping));
  return callbacks;
}
