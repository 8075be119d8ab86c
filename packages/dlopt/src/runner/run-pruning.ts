import type * as tfl from '@tensorflow/tfjs-layers';
import { buildAugmentation } from '../config/build-augment.js';
import { optimizerSettings } from '../config/build-training.js';
import type { TrainConfig } from '../config/train-config.js';
import { PIXEL_SCALE } from '../data/batches.js';
import type { Dataset } from '../data/dataset.js';
import { makeSplits, type Splits } from '../data/splits.js';
import { DloptError } from '../errors.js';
import { saveModel } from '../io/model-files.js';
import { saveSparseModel } from '../io/sparse-weights.js';
import { traceChannels } from '../prune/channel-graph.js';
import { applyMagnitudePruning, MagnitudePruning } from '../prune/magnitude-pruning-callback.js';
import { checkPattern, checkSparsity, type NmPattern, type PruningScope } from '../prune/magnitude-masks.js';
import { countModel, measureThroughput, modelFileSizes, type FileSizes, type ModelCounts } from '../prune/model-measurements.js';
import { cloneModel } from '../prune/shrink-model.js';
import { ConstantSparsity, PolynomialDecaySparsity } from '../prune/sparsity-schedule.js';
import { weightSparsity } from '../prune/sparsity-report.js';
import { pruneStructured, STRUCTURED_CRITERIA, type StructuredCriterion } from '../prune/structured-pruning.js';
import type { Callback } from '../train/callbacks/callback.js';
import { LearningRateController } from '../train/callbacks/learning-rate.js';
import { compileClassifier } from '../train/compile.js';
import { classAccuracyChanges, type ClassAccuracyChange } from '../train/class-metrics.js';
import { evaluateModel, type Evaluation } from '../train/evaluate.js';
import { fitModel, type EpochMetrics, type FitObserver } from '../train/fit.js';
import { createOptimizer } from '../train/optimizers/create-optimizer.js';
import type { RunDir } from '../train/run-dir.js';
import { CosineDecay } from '../train/schedules/cosine-decay.js';

export type PruneMethod = 'magnitude' | StructuredCriterion;
export const PRUNE_METHODS: readonly PruneMethod[] = ['magnitude', ...STRUCTURED_CRITERIA];

export interface PruningSettings {
  method: PruneMethod;
  /** Unstructured: fraction of kernel weights removed; structured: fraction of channels. */
  sparsity: number;
  scope: PruningScope;
  /** Prune → fine-tune rounds; the target grows linearly to `sparsity`. */
  steps: number;
  fineTuneEpochs: number;
  /** Magnitude pruning: all at once at each step's start, or gradually (AGP) over the step's first half. */
  schedule: 'oneshot' | 'agp';
  pattern?: NmPattern;
  minWidth: number;
  roundTo: number;
  layers?: string[];
  /** Fine-tuning learning rate (default: the training run's), decayed by a cosine over each step. */
  lr?: number;
  batchSize: number;
  /** Images the activation statistics are measured on (training split). */
  calibrationImages: number;
  /** Images each inference-speed pass runs. */
  speedImages: number;
  seed: number;
}

export interface PruningRunOptions {
  model: tfl.LayersModel;
  /** The training run's configuration (fine-tuning reuses its optimizer, augmentation and splits). */
  trainConfig: TrainConfig;
  dataset: Dataset;
  settings: PruningSettings;
  runDir?: RunDir;
  /** Recorded in the summary. */
  backend?: string;
  observer?: FitObserver;
  onStep?(record: StepRecord): void;
  onMeasured?(label: 'original' | 'pruned', m: Measurement): void;
  /** Layers left whole, and why (an N:M pattern that does not fit a layer), as soon as they are known. */
  onSkipped?(skipped: { layer: string; reason: string }[]): void;
}

export interface StepRecord {
  step: number;
  /** The sparsity this step prunes to. */
  target: number;
  /** Validation accuracy right after pruning, before fine-tuning (null when pruning is gradual). */
  pruned_accuracy: number | null;
  /** After fine-tuning. */
  val_accuracy: number;
  val_loss: number;
  params: number;
  nonzero_params: number;
  flops: number;
  /** Weight sparsity of the prunable kernels (unstructured) or share of channels removed (structured). */
  achieved: number;
}

export interface Measurement extends ModelCounts {
  files: FileSizes;
  images_per_s: number;
  val_accuracy: number;
  val_loss: number;
}

/** Validation accuracy and loss of a model, and its confusion matrix where one was measured. */
type Score = Pick<Evaluation, 'accuracy' | 'loss'> & Partial<Pick<Evaluation, 'confusion'>>;

export interface PruningRunResult {
  model: tfl.LayersModel;
  original: Measurement;
  pruned: Measurement;
  steps: StepRecord[];
  /** Validation accuracy per class, original against pruned; null when the pruned model's matrix was not measured. */
  classes: ClassAccuracyChange[] | null;
  summary: Record<string, unknown>;
}

/**
 * A pruning run end to end: measure the trained model, then `steps` rounds of
 * prune → fine-tune (structured methods shrink the model each round;
 * magnitude pruning keeps its masks through fine-tuning), then measure the
 * result beside the original in the same process (throughput alternates
 * between the two) and write the run directory.
 */
export async function runPruning(options: PruningRunOptions): Promise<PruningRunResult> {
  const { model: original, trainConfig, dataset, settings, runDir } = options;
  checkSettings(settings);
  const started = performance.now();
  const splits = makeSplits(dataset, { valSize: trainConfig.valSize, limit: trainConfig.limit });
  if (!splits.val) throw new DloptError('pruning measures validation accuracy: the run has no validation split (--val-size 0)');
  const numClasses = dataset.classNames.length;
  const evaluate = (m: tfl.LayersModel) => evaluateModel(m, splits.val!, { batchSize: 256, numClasses });

  const base = await evaluate(original);
  const structured = settings.method !== 'magnitude';
  const baseWidths = structured ? new Map(traceChannels(original).groups.filter((g) => g.prunable).map((g) => [g.name, g.size])) : undefined;
  let current = original;
  const steps: StepRecord[] = [];
  let frozen: { name: string; reasons: string[] }[] = [];
  let maxDifference: number | null = null;
  let epochOffset = 0;
  let skipped: { layer: string; reason: string }[] = [];
  let last: Score = base;

  try {
    for (let step = 1; step <= settings.steps; step++) {
      const target = settings.pattern ? 1 - settings.pattern.n / settings.pattern.m : (settings.sparsity * step) / settings.steps;
      const previous = settings.pattern ? 0 : (settings.sparsity * (step - 1)) / settings.steps;
      // The validation split measured right after pruning (null when pruning happens during fine-tuning).
      let pruned: Evaluation | null = null;
      const callbacks: Callback[] = [];
      if (structured) {
        const result = await pruneStructured(current, {
          criterion: settings.method as StructuredCriterion,
          sparsity: target,
          scope: settings.scope,
          minWidth: settings.minWidth,
          roundTo: settings.roundTo,
          ...(baseWidths && { baseWidths }),
          ...(settings.layers && { layers: settings.layers }),
          calibration: { images: splits.train, numClasses, limit: settings.calibrationImages },
        });
        if (current !== original) current.dispose();
        current = result.model;
        frozen = result.frozen;
        maxDifference = Math.max(maxDifference ?? 0, result.maxDifference);
        pruned = await evaluate(current);
      } else {
        if (current === original) current = await cloneModel(original);
        const stepsPerEpoch = Math.ceil(splits.train.count / settings.batchSize);
        const total = settings.fineTuneEpochs * stepsPerEpoch;
        if (settings.schedule === 'agp' && total > 1 && !settings.pattern) {
          const endStep = Math.max(1, Math.floor(total / 2));
          callbacks.push(
            new MagnitudePruning({
              schedule: new PolynomialDecaySparsity({ initial: previous, final: target, beginStep: 0, endStep, frequency: Math.max(1, Math.floor(endStep / 10)) }),
              scope: settings.scope,
            }),
          );
        } else {
          const stats = applyMagnitudePruning(current, settings.pattern ? { pattern: settings.pattern } : { sparsity: target, scope: settings.scope });
          skipped = stats.flatMap((l) => (l.skipped ? [{ layer: l.layer, reason: l.skipped }] : []));
          if (skipped.length > 0 && step === 1) options.onSkipped?.(skipped);
          pruned = await evaluate(current);
          // Holds the masks through fine-tuning (recomputed once, from weights already pruned).
          callbacks.push(
            new MagnitudePruning({
              schedule: new ConstantSparsity({ target, beginStep: 0, frequency: Number.MAX_SAFE_INTEGER }),
              scope: settings.scope,
              ...(settings.pattern && { pattern: settings.pattern }),
            }),
          );
        }
      }

      // Fine-tuning ends by measuring the validation split with the final weights; without it the model is as pruned.
      if (settings.fineTuneEpochs > 0) {
        const { fitted, validation } = await fineTune(current, splits, trainConfig, settings, numClasses, step, callbacks, options.observer);
        for (const m of fitted) await runDir?.appendMetrics({ ...m, epoch: m.epoch + epochOffset, step } as EpochMetrics);
        epochOffset += fitted.length;
        const end = fitted.at(-1)!;
        last = { accuracy: end.val_accuracy!, loss: end.val_loss!, ...(validation && { confusion: validation.confusion }) };
      } else {
        last = pruned!;
      }
      const counts = countModel(current);
      const sparsity = structured ? undefined : weightSparsity(current);
      const record: StepRecord = {
        step,
        target,
        pruned_accuracy: pruned?.accuracy ?? null,
        val_accuracy: last.accuracy,
        val_loss: last.loss,
        params: counts.params,
        nonzero_params: counts.nonzeroParams,
        flops: counts.flops,
        achieved: sparsity ? sparsity.prunableZeros / Math.max(1, sparsity.prunableSize) : channelShare(current, baseWidths!),
      };
      steps.push(record);
      options.onStep?.(record);
    }
  } catch (error) {
    if (current !== original) current.dispose();
    throw error;
  }

  const [originalRate, prunedRate] = await measureThroughput([original, current], splits.val, {
    images: settings.speedImages,
    batchSize: 256,
    rounds: 3,
  });
  const measure = async (m: tfl.LayersModel, rate: number, evaluation?: Score): Promise<Measurement> => {
    const e = evaluation ?? (await evaluate(m));
    return { ...countModel(m), files: await modelFileSizes(m), images_per_s: rate!, val_accuracy: e.accuracy, val_loss: e.loss };
  };
  const before = await measure(original, originalRate!, base);
  const afterAll = await measure(current, prunedRate!, last);
  options.onMeasured?.('original', before);
  options.onMeasured?.('pruned', afterAll);

  const summary: Record<string, unknown> = {
    kind: 'prune',
    method: settings.method,
    scope: settings.scope,
    sparsity: settings.sparsity,
    pattern: settings.pattern ? `${settings.pattern.n}:${settings.pattern.m}` : null,
    steps_run: steps.length,
    fine_tune_epochs: settings.fineTuneEpochs,
    original: before,
    pruned: afterAll,
    speedup: afterAll.images_per_s / before.images_per_s,
    accuracy_change: afterAll.val_accuracy - before.val_accuracy,
    steps,
    layers: structured ? widthChanges(original, current) : weightSparsity(current).layers,
    frozen,
    skipped,
    max_output_difference: maxDifference,
    validation: splits.describe.val,
    // Which classes pruning cost: images by true and predicted class on the validation split, before and after.
    class_names: [...dataset.classNames],
    confusion: { original: base.confusion, pruned: last.confusion ?? null },
    total_seconds: (performance.now() - started) / 1000,
    backend: options.backend ?? null,
  };
  if (runDir) {
    const metadata = { dlopt: { preprocessing: { layout: 'NHWC', channels: 'RGB', scale: PIXEL_SCALE }, class_names: [...dataset.classNames] } };
    if (structured) await saveModel(current, runDir.path, metadata);
    else await saveSparseModel(current, runDir.path, metadata);
    await runDir.writeSummary(summary);
  }
  const classes = base.confusion && last.confusion ? classAccuracyChanges(base.confusion, last.confusion, dataset.classNames) : null;
  return { model: current, original: before, pruned: afterAll, steps, classes, summary };
}

function checkSettings(s: PruningSettings): void {
  if (!PRUNE_METHODS.includes(s.method)) throw new DloptError(`unknown pruning method '${s.method}' (choose from ${PRUNE_METHODS.join(', ')})`);
  if (s.pattern) {
    checkPattern(s.pattern);
    if (s.method !== 'magnitude') throw new DloptError('an N:M pattern applies to magnitude pruning only (--method magnitude)');
    if (s.steps !== 1) throw new DloptError('an N:M pattern is reached in one step: drop --steps');
  } else {
    // Sparsity 0 is allowed: fine-tuning alone, the control a pruning result is compared with.
    checkSparsity(s.sparsity);
  }
  if (!(Number.isInteger(s.steps) && s.steps >= 1)) throw new DloptError(`--steps must be a positive integer but got ${s.steps}`);
  if (!(Number.isInteger(s.fineTuneEpochs) && s.fineTuneEpochs >= 0)) throw new DloptError(`--fine-tune-epochs must be an integer ≥ 0 but got ${s.fineTuneEpochs}`);
  if (s.lr !== undefined && !(s.lr > 0)) throw new DloptError(`--lr must be > 0 but got ${s.lr}`);
}

/** Fine-tunes with the training run's optimizer and augmentation, the learning rate decaying by a cosine over this step. */
async function fineTune(
  model: tfl.LayersModel,
  splits: Splits,
  config: TrainConfig,
  settings: PruningSettings,
  numClasses: number,
  step: number,
  pruning: Callback[],
  observer: FitObserver | undefined,
): Promise<{ fitted: EpochMetrics[]; validation?: Evaluation }> {
  const optimizerOptions = optimizerSettings(config, 1e-3);
  const lr = settings.lr ?? optimizerOptions.learningRate;
  const optimizer = createOptimizer({ ...optimizerOptions, learningRate: lr });
  compileClassifier(model, optimizer, { labelSmoothing: config.labelSmoothing });
  // The last epoch's validation, whole: its confusion matrix is the pruned model's.
  let validation: Evaluation | undefined;
  try {
    const fitted = await fitModel(model, splits, {
      epochs: settings.fineTuneEpochs,
      batchSize: settings.batchSize,
      numClasses,
      seed: settings.seed * 1000 + step,
      augment: buildAugmentation(config.augment),
      callbacks: [new LearningRateController(new CosineDecay(lr)), ...pruning],
      observer: {
        ...observer,
        onValidationEnd: (e) => {
          validation = e;
          observer?.onValidationEnd?.(e);
        },
      },
    });
    return { fitted, ...(validation && { validation }) };
  } finally {
    optimizer.dispose();
  }
}

/** Share of the original channels (of the groups that could be pruned) the model no longer has. */
function channelShare(model: tfl.LayersModel, baseWidths: ReadonlyMap<string, number>): number {
  const now = new Map(traceChannels(model).groups.map((g) => [g.name, g.size]));
  let before = 0;
  let after = 0;
  for (const [name, width] of baseWidths) {
    before += width;
    after += now.get(name) ?? width;
  }
  return before === 0 ? 0 : 1 - after / before;
}

/** Filters or units of every conv and dense layer, before and after. */
function widthChanges(original: tfl.LayersModel, pruned: tfl.LayersModel): { layer: string; type: string; before: number; after: number }[] {
  const width = (l: tfl.LayersModel['layers'][number]) => {
    const c = l.getConfig() as { filters?: number; units?: number };
    return c.filters ?? c.units;
  };
  return original.layers.flatMap((l) => {
    const before = width(l);
    if (before === undefined) return [];
    return [{ layer: l.name, type: l.getClassName(), before, after: width(pruned.getLayer(l.name)) ?? before }];
  });
}
