import { basename, extname } from 'node:path';
import { z } from 'zod';
import { formatIssues } from '../config/load-config.js';
import { TrainConfigSchema, type TrainConfig } from '../config/train-config.js';
import { UsageError } from '../errors.js';
import { PRESETS } from '../models/presets.js';
import { checkSearchPath } from './search-path.js';

/**
 * The configuration of `dlopt tune` (YAML or JSON): the study (name, storage,
 * metric, how many trials), the sampler and pruner with their options, a base
 * training configuration (what `dlopt train --config` reads) and the search
 * space: dotted paths into that training configuration, each with a
 * distribution. Every object is strict, so a typo is an error naming its path.
 */

export const METRICS = ['val_accuracy', 'val_loss'] as const;
export type TuneMetric = (typeof METRICS)[number];

export const SAMPLER_NAMES = ['random', 'grid', 'tpe', 'gp', 'evolution'] as const;
export const PRUNER_NAMES = ['none', 'median', 'percentile', 'successive-halving', 'hyperband', 'threshold', 'patient'] as const;

const int = (min: number) => z.number().int().min(min);
const seed = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional();

const FloatSchema = z
  .object({
    type: z.literal('float'),
    low: z.number(),
    high: z.number(),
    log: z.boolean().default(false),
    step: z.number().positive().optional(),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.low > d.high) ctx.addIssue({ code: 'custom', path: ['low'], message: `must be <= high (${d.high}), got ${d.low}` });
    if (d.log && d.low <= 0) ctx.addIssue({ code: 'custom', path: ['low'], message: `must be > 0 with log: true, got ${d.low}` });
    if (d.log && d.step !== undefined) ctx.addIssue({ code: 'custom', path: ['step'], message: 'cannot be combined with log: true' });
  });

const IntSchema = z
  .object({
    type: z.literal('int'),
    low: z.number().int(),
    high: z.number().int(),
    log: z.boolean().default(false),
    step: int(1).default(1),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.low > d.high) ctx.addIssue({ code: 'custom', path: ['low'], message: `must be <= high (${d.high}), got ${d.low}` });
    if (d.log && d.low <= 0) ctx.addIssue({ code: 'custom', path: ['low'], message: `must be > 0 with log: true, got ${d.low}` });
    if (d.log && d.step !== 1) ctx.addIssue({ code: 'custom', path: ['step'], message: 'must be 1 with log: true' });
  });

const choice = z.union([z.number(), z.string(), z.boolean(), z.null()]);
const CategoricalSchema = z
  .object({
    type: z.literal('categorical'),
    choices: z.array(choice).min(1, 'must not be empty'),
  })
  .strict()
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.choices.forEach((c, i) => {
      const key = `${typeof c}:${String(c)}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['choices', i], message: `${JSON.stringify(c)} appears twice` });
      seen.add(key);
    });
  });

/** A distribution; a plain list is shorthand for `{ type: categorical, choices: [...] }`. */
export const SearchDistributionSchema = z.preprocess(
  (v) => (Array.isArray(v) ? { type: 'categorical', choices: v } : v),
  z.discriminatedUnion('type', [FloatSchema, IntSchema, CategoricalSchema], {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `must be float, int or categorical${typeOf(issue.input)}`
        : undefined,
  }),
);

const samplerSchemas = [
  z.object({ name: z.literal('random'), seed }).strict(),
  z.object({ name: z.literal('grid'), seed }).strict(),
  z
    .object({
      name: z.literal('tpe'),
      seed,
      nStartupTrials: int(0).optional(),
      nEiCandidates: int(1).optional(),
      priorWeight: z.number().min(0).optional(),
      considerMagicClip: z.boolean().optional(),
      considerEndpoints: z.boolean().optional(),
      multivariate: z.boolean().optional(),
    })
    .strict(),
  z.object({ name: z.literal('gp'), seed, nStartupTrials: int(0).optional(), deterministicObjective: z.boolean().optional() }).strict(),
  z
    .object({
      name: z.literal('evolution'),
      seed,
      populationSize: int(1).optional(),
      sampleSize: int(1).optional(),
      mutationProbability: z.number().min(0).max(1).optional(),
    })
    .strict(),
] as const;

/** `sampler: tpe` is shorthand for `sampler: { name: tpe }`. */
export const SamplerSchema = z.preprocess(
  nameShorthand,
  z.discriminatedUnion('name', samplerSchemas, {
    error: (issue) => (issue.code === 'invalid_union' ? unknownName('sampler', issue.input, SAMPLER_NAMES) : undefined),
  }),
);

const step = int(0).optional();
const percentileOptions = { nStartupTrials: int(0).optional(), nWarmupSteps: step, intervalSteps: int(1).optional(), nMinTrials: int(1).optional() };
const autoOrInt = z.union([z.literal('auto'), int(1)]);
const basePrunerSchemas = [
  z.object({ name: z.literal('none') }).strict(),
  z.object({ name: z.literal('median'), ...percentileOptions }).strict(),
  z.object({ name: z.literal('percentile'), percentile: z.number().min(0).max(100), ...percentileOptions }).strict(),
  z
    .object({
      name: z.literal('successive-halving'),
      minResource: autoOrInt.optional(),
      reductionFactor: int(2).optional(),
      minEarlyStoppingRate: int(0).optional(),
      bootstrapCount: int(0).optional(),
    })
    .strict(),
  z
    .object({
      name: z.literal('hyperband'),
      minResource: int(1).optional(),
      maxResource: autoOrInt.optional(),
      reductionFactor: int(2).optional(),
      bootstrapCount: int(0).optional(),
    })
    .strict(),
  z
    .object({ name: z.literal('threshold'), lower: z.number().optional(), upper: z.number().optional(), nWarmupSteps: step, intervalSteps: int(1).optional() })
    .strict()
    .superRefine((d, ctx) => {
      if (d.lower === undefined && d.upper === undefined) ctx.addIssue({ code: 'custom', path: [], message: 'give lower, upper or both' });
      if (d.lower !== undefined && d.upper !== undefined && d.lower > d.upper) ctx.addIssue({ code: 'custom', path: ['lower'], message: 'must be <= upper' });
    }),
] as const;

const BasePrunerSchema = z.preprocess(
  nameShorthand,
  z.discriminatedUnion('name', basePrunerSchemas, {
    error: (issue) =>
      issue.code === 'invalid_union' ? unknownName('pruner', issue.input, PRUNER_NAMES.filter((n) => n !== 'patient')) : undefined,
  }),
);

/** `pruner: median` is shorthand for `pruner: { name: median }`; `patient` wraps another (`wrapped`, default none: prune on patience alone). */
export const PrunerSchema = z.preprocess(
  nameShorthand,
  z.discriminatedUnion(
    'name',
    [...basePrunerSchemas, z.object({ name: z.literal('patient'), patience: int(0), minDelta: z.number().min(0).optional(), wrapped: BasePrunerSchema.optional() }).strict()],
    { error: (issue) => (issue.code === 'invalid_union' ? unknownName('pruner', issue.input, PRUNER_NAMES) : undefined) },
  ),
);

export const TuneConfigSchema = z
  .object({
    /** Default: the config file's name without its extension. */
    study: z.string().min(1).optional(),
    /** A storage URL (memory, sqlite:PATH, postgresql://…). */
    storage: z.string().min(1).default('memory'),
    metric: z.enum(METRICS).default('val_accuracy'),
    /** Default: maximize for val_accuracy, minimize for val_loss. */
    direction: z.enum(['minimize', 'maximize']).optional(),
    /** Trials in the study in total (all workers; finished, running and failed ones count). */
    trials: int(1).optional(),
    /** Seconds after which no new trial starts. */
    timeout: z.number().positive().optional(),
    sampler: SamplerSchema.default({ name: 'tpe' }),
    pruner: PrunerSchema.default({ name: 'median' }),
    /**
     * Shared storages: a RUNNING trial whose worker has given no sign of life
     * (a heartbeat, sent at least once an epoch) for this many seconds is
     * failed as the trial of a dead worker. Must exceed the longest epoch.
     */
    staleAfter: z.number().positive().default(3600),
    /** Write one run directory per trial, DIR/trial-<number> (default: none, nothing written). */
    runs: z.string().min(1).optional(),
    /** The base training configuration every trial starts from. */
    train: TrainConfigSchema.default(TrainConfigSchema.parse({})),
    /** Checked for paths by searchPathIssues (the schema's refinements would not run while a value is invalid). */
    search: z.record(z.string(), SearchDistributionSchema).refine((search) => Object.keys(search).length > 0, 'name at least one setting to search'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const metricDirection = defaultDirection(c.metric);
    if (c.direction !== undefined && c.direction !== metricDirection) {
      ctx.addIssue({ code: 'custom', path: ['direction'], message: `${c.metric} is to be ${metricDirection}d, not ${c.direction}d` });
    }
    if (c.train.valSize === 0) ctx.addIssue({ code: 'custom', path: ['train', 'valSize'], message: `must be > 0: trials are measured by ${c.metric} on the validation split` });
    if (!PRESETS.some((p) => p.name === c.train.model)) {
      ctx.addIssue({ code: 'custom', path: ['train', 'model'], message: `unknown model "${c.train.model}"; choose from ${PRESETS.map((p) => p.name).join(', ')}` });
    }
    if (c.sampler.name === 'grid') {
      for (const [path, d] of Object.entries(c.search)) {
        if (d.type === 'float' && d.step === undefined) {
          ctx.addIssue({ code: 'custom', path: ['search', path], message: 'the grid sampler needs a step (or categorical choices) to enumerate a float' });
        }
      }
    }
  });

export type SearchDistribution = z.output<typeof SearchDistributionSchema>;
export type SamplerConfig = z.output<typeof SamplerSchema>;
export type PrunerConfig = z.output<typeof PrunerSchema>;

/** A validated tune configuration. */
export interface TuneConfig {
  study: string;
  storage: string;
  metric: TuneMetric;
  direction: 'minimize' | 'maximize';
  trials: number | undefined;
  timeout: number | undefined;
  sampler: SamplerConfig;
  pruner: PrunerConfig;
  staleAfter: number;
  runs: string | undefined;
  /** The base training configuration, resolved (for display and checks). */
  train: TrainConfig;
  /** The base training configuration as written: each trial sets its parameters into a copy and validates that. */
  trainSettings: Record<string, unknown>;
  search: Record<string, SearchDistribution>;
}

export function defaultDirection(metric: TuneMetric): 'minimize' | 'maximize' {
  return metric === 'val_loss' ? 'minimize' : 'maximize';
}

/**
 * Validates tune settings (a config file's content with flags merged in);
 * errors are UsageErrors naming the exact path of each bad value.
 * `source` names the file in messages and gives the default study name.
 */
export function parseTuneConfig(settings: Record<string, unknown>, source = 'tune config'): TuneConfig {
  const result = TuneConfigSchema.safeParse(settings);
  const pathIssues = searchPathIssues(settings.search);
  if (!result.success || pathIssues.length > 0) throw new UsageError(formatIssues(source, [...pathIssues, ...(result.error?.issues ?? [])]));
  const c = result.data;
  const trainSettings = settings.train;
  return {
    study: c.study ?? (basename(source, extname(source)) || 'tune'),
    storage: c.storage,
    metric: c.metric,
    direction: c.direction ?? defaultDirection(c.metric),
    trials: c.trials,
    timeout: c.timeout,
    sampler: c.sampler,
    pruner: c.pruner,
    staleAfter: c.staleAfter,
    runs: c.runs,
    train: c.train,
    trainSettings: isPlainObject(trainSettings) ? structuredClone(trainSettings) : {},
    search: c.search,
  };
}

/** Search keys that are not single settings of the training config, as issues at `search.<key>`. */
function searchPathIssues(search: unknown): z.core.$ZodIssue[] {
  if (!isPlainObject(search)) return [];
  return Object.keys(search).flatMap((path) => {
    const message = checkSearchPath(path);
    return message === undefined ? [] : [{ code: 'custom' as const, path: ['search', path], message, input: path }];
  });
}

function nameShorthand(v: unknown): unknown {
  return typeof v === 'string' ? { name: v } : v;
}

function unknownName(what: string, input: unknown, names: readonly string[]): string {
  const name = isPlainObject(input) ? input.name : undefined;
  const given = name === undefined ? `a ${what} needs a name` : `unknown ${what} ${JSON.stringify(name)}`;
  return `${given}; choose from ${names.join(', ')}`;
}

function typeOf(input: unknown): string {
  const type = isPlainObject(input) ? input.type : undefined;
  return type === undefined ? '' : `, got ${JSON.stringify(type)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
