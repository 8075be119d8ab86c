import { z } from 'zod';
import { OPTIMIZER_NAMES } from '../train/optimizers/create-optimizer.js';

/**
 * The training configuration: what `dlopt train --config FILE` reads (YAML or
 * JSON), what flags override, and what a run directory records (resume reads
 * it back). Unknown keys are errors; defaults are filled in here, so a
 * resolved config says everything the run did.
 */

const probability = z.number().min(0).max(1);
const range = (lo: number, hi: number) =>
  z.tuple([z.number().min(lo).max(hi), z.number().min(lo).max(hi)]).refine(([a, b]) => a <= b, 'low must be <= high');
/** An augmentation given as `true` (defaults), `false`/absent (off), or its options. */
const toggle = <T extends z.ZodRawShape>(shape: T) => z.union([z.boolean(), z.object(shape).strict()]).optional();

export const AugmentSchema = z
  .object({
    resizedCrop: toggle({ scale: range(0, 1).optional(), ratio: range(0.01, 100).optional() }),
    crop: toggle({ padding: z.number().int().min(0).optional(), mode: z.enum(['reflect', 'zero']).optional() }),
    translate: z.number().min(0).lt(1).optional(),
    rotate: z.number().min(0).max(180).optional(),
    flip: toggle({ p: probability.optional() }),
    randAugment: toggle({ n: z.number().int().min(1).optional(), m: z.number().min(0).max(30).optional() }),
    color: z
      .object({
        brightness: z.number().min(0).optional(),
        contrast: z.number().min(0).optional(),
        saturation: z.number().min(0).optional(),
        hue: z.number().min(0).max(0.5).optional(),
      })
      .strict()
      .optional(),
    cutout: toggle({ size: z.number().int().min(1).optional(), p: probability.optional() }),
    erasing: toggle({ p: probability.optional(), scale: range(0, 1).optional(), ratio: range(0.01, 100).optional() }),
    cutmix: z.union([z.number().positive(), z.object({ alpha: z.number().positive().optional(), p: probability.optional() }).strict()]).optional(),
    mixup: z.union([z.number().positive(), z.object({ alpha: z.number().positive() }).strict()]).optional(),
    noise: z.number().positive().optional(),
  })
  .strict();

export const OptimizerSchema = z
  .object({
    name: z.enum(OPTIMIZER_NAMES).default('adam'),
    /** Default: the preset's (0.001 for Adam). */
    lr: z.number().positive().optional(),
    momentum: z.number().min(0).lt(1).optional(),
    nesterov: z.boolean().optional(),
    beta1: z.number().min(0).lt(1).optional(),
    beta2: z.number().min(0).lt(1).optional(),
    epsilon: z.number().positive().optional(),
    weightDecay: z.number().min(0).optional(),
    clipNorm: z.number().positive().optional(),
    clipValue: z.number().positive().optional(),
  })
  .strict();

const per = z.enum(['step', 'epoch']);
export const ScheduleSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('constant') }).strict(),
  z.object({ name: z.literal('step'), stepSize: z.number().positive(), gamma: z.number().positive().default(0.1), per: per.default('epoch') }).strict(),
  z.object({ name: z.literal('exponential'), gamma: z.number().positive().max(1), per: per.default('epoch') }).strict(),
  z
    .object({ name: z.literal('cosine'), warmupEpochs: z.number().min(0).default(0), minLr: z.number().min(0).default(0), per: per.default('step') })
    .strict(),
  z
    .object({
      name: z.literal('onecycle'),
      maxLr: z.number().positive().optional(),
      pctStart: z.number().gt(0).lt(1).default(0.3),
      divFactor: z.number().positive().default(25),
      finalDivFactor: z.number().positive().default(1e4),
    })
    .strict(),
  z
    .object({
      name: z.literal('plateau'),
      monitor: z.string().default('val_loss'),
      factor: z.number().gt(0).lt(1).default(0.1),
      patience: z.number().int().min(0).default(3),
      minDelta: z.number().min(0).default(1e-4),
      minLr: z.number().min(0).default(0),
    })
    .strict(),
]);

export const RegularizationSchema = z
  .object({
    l1: z.number().min(0).default(0),
    l2: z.number().min(0).default(0),
    maxNorm: z.number().positive().optional(),
    /** Default: the preset's own (none in seed-cnn and the ResNets, 0.5 before vgg-bn's classifier). */
    dropout: z.number().min(0).lt(1).optional(),
    /** SpatialDropout2D after each pooling stage (seed-cnn, vgg-bn); 0: none. */
    spatialDropout: z.number().min(0).lt(1).default(0),
  })
  .strict();

export const EarlyStoppingSchema = z
  .object({
    monitor: z.string().default('val_loss'),
    patience: z.number().int().min(0).default(5),
    minDelta: z.number().min(0).default(0),
    restoreBestWeights: z.boolean().default(true),
  })
  .strict();

export const TrainConfigSchema = z
  .object({
    model: z.string().default('seed-cnn'),
    data: z.string().optional(),
    epochs: z.number().int().positive().default(10),
    batchSize: z.number().int().positive().default(64),
    valSize: z.number().int().min(0).default(5000),
    limit: z.number().int().positive().optional(),
    seed: z.number().int().min(0).default(1),
    imageSize: z.number().int().positive().default(32),
    backend: z.string().optional(),
    optimizer: OptimizerSchema.default({ name: 'adam' }),
    schedule: ScheduleSchema.optional(),
    regularization: RegularizationSchema.default({ l1: 0, l2: 0, spatialDropout: 0 }),
    augment: AugmentSchema.default({}),
    labelSmoothing: z.number().min(0).lt(1).default(0),
    earlyStopping: EarlyStoppingSchema.optional(),
    ema: z.number().gt(0).lt(1).optional(),
    checkpoint: z.boolean().default(true),
  })
  .strict();

/** A training configuration as written (anything optional may be missing). */
export type TrainConfigInput = z.input<typeof TrainConfigSchema>;
/** A resolved training configuration (defaults filled in). */
export type TrainConfig = z.output<typeof TrainConfigSchema>;
export type AugmentConfig = z.output<typeof AugmentSchema>;
export type ScheduleConfig = z.output<typeof ScheduleSchema>;
export type RegularizationConfig = z.output<typeof RegularizationSchema>;
