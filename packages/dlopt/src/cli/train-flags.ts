import { UsageError } from '../errors.js';

/** Flags of `dlopt train` (all optional: unset flags leave the config file's value or the default). */
export interface TrainFlags {
  config?: string;
  resume?: string;
  model?: string;
  data?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  valSize?: number;
  limit?: number;
  seed?: number;
  out?: string;
  imageSize?: number;
  backend?: string;
  optimizer?: string;
  momentum?: number;
  weightDecay?: number;
  clipNorm?: number;
  clipValue?: number;
  schedule?: string;
  warmupEpochs?: number;
  stepSize?: number;
  gamma?: number;
  minLr?: number;
  labelSmoothing?: number;
  augment?: string;
  mixup?: number;
  cutmix?: number;
  earlyStopping?: number;
  monitor?: string;
  ema?: number;
  l1?: number;
  l2?: number;
  maxNorm?: number;
  dropout?: number;
  spatialDropout?: number;
  checkpoint?: boolean;
}

/** What each name in --augment turns on (the config file can tune every option). */
export const AUGMENT_PRESETS: Record<string, [string, unknown]> = {
  flip: ['flip', true],
  crop: ['crop', true],
  'resized-crop': ['resizedCrop', true],
  translate: ['translate', 0.1],
  rotate: ['rotate', 15],
  color: ['color', { brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05 }],
  cutout: ['cutout', true],
  erasing: ['erasing', true],
  randaugment: ['randAugment', true],
  noise: ['noise', 0.03],
};

/** The settings the flags give, shaped like a config file (undefined where a flag is absent). */
export function settingsFromFlags(f: TrainFlags): Record<string, unknown> {
  const augment: Record<string, unknown> = {};
  if (f.augment !== undefined) {
    for (const name of f.augment.split(',').map((s) => s.trim()).filter(Boolean)) {
      const preset = AUGMENT_PRESETS[name.toLowerCase()];
      if (!preset) throw new UsageError(`--augment: unknown augmentation "${name}"; choose from ${Object.keys(AUGMENT_PRESETS).join(', ')}`);
      augment[preset[0]] = preset[1];
    }
  }
  if (f.mixup !== undefined) augment.mixup = f.mixup;
  if (f.cutmix !== undefined) augment.cutmix = f.cutmix;
  const schedule =
    f.schedule === undefined
      ? undefined
      : {
          name: f.schedule,
          ...(f.warmupEpochs !== undefined && { warmupEpochs: f.warmupEpochs }),
          ...(f.stepSize !== undefined && { stepSize: f.stepSize }),
          ...(f.gamma !== undefined && { gamma: f.gamma }),
          ...(f.minLr !== undefined && { minLr: f.minLr }),
        };
  if (f.schedule === undefined && (f.warmupEpochs ?? f.stepSize ?? f.gamma ?? f.minLr) !== undefined) {
    throw new UsageError('--warmup-epochs, --step-size, --gamma and --min-lr need --schedule');
  }
  const optimizer = {
    name: f.optimizer,
    lr: f.lr,
    momentum: f.momentum,
    weightDecay: f.weightDecay,
    clipNorm: f.clipNorm,
    clipValue: f.clipValue,
  };
  return {
    model: f.model,
    data: f.data,
    epochs: f.epochs,
    batchSize: f.batchSize,
    valSize: f.valSize,
    limit: f.limit,
    seed: f.seed,
    imageSize: f.imageSize,
    backend: f.backend,
    optimizer: defined(optimizer),
    schedule,
    regularization: defined({ l1: f.l1, l2: f.l2, maxNorm: f.maxNorm, dropout: f.dropout, spatialDropout: f.spatialDropout }),
    augment: Object.keys(augment).length > 0 ? augment : undefined,
    labelSmoothing: f.labelSmoothing,
    earlyStopping:
      f.earlyStopping === undefined && f.monitor === undefined
        ? undefined
        : defined({ patience: f.earlyStopping, monitor: f.monitor }) ?? {},
    ema: f.ema,
    checkpoint: f.checkpoint === false ? false : undefined,
  };
}

/** The object without its undefined entries, or undefined when nothing is left. */
function defined(o: Record<string, unknown>): Record<string, unknown> | undefined {
  const entries = Object.entries(o).filter(([, v]) => v !== undefined);
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}
