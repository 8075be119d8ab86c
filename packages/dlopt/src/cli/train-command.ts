import { join } from 'node:path';
import { Command, Option } from '@commander-js/extra-typings';
import { readFile } from 'node:fs/promises';
import { initBackend } from '../backend/backend.js';
import { mergeSettings, parseTrainConfig, readConfigFile } from '../config/load-config.js';
import { DloptError, UsageError, describeError } from '../errors.js';
import { PRESETS } from '../models/presets.js';
import { runConfigFile, type RunConfigFile } from '../runner/run-record.js';
import { runTraining } from '../runner/run-training.js';
import { loadCheckpoint, type Checkpoint } from '../train/checkpoint.js';
import { OPTIMIZER_NAMES } from '../train/optimizers/create-optimizer.js';
import { RUN_FILES, RunDir } from '../train/run-dir.js';
import { formatCompact, formatDuration, formatInt } from '../util/format.js';
import { out, shellQuote, style } from './console.js';
import { openDataset } from './open-dataset.js';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, probability } from './options.js';
import { epochProgress } from './epoch-progress.js';
import { AUGMENT_PRESETS, settingsFromFlags, type TrainFlags } from './train-flags.js';

export function trainCommand() {
  return new Command('train')
    .description('train a model on CIFAR-10 (or an image folder) and report its accuracy')
    .option('--config <file>', 'training configuration (YAML or JSON); flags override it')
    .option('--resume <run-dir>', 'continue a run from its last checkpoint (same settings; --epochs may extend it)')
    .addOption(new Option('--model <name>', 'model preset (default: seed-cnn)').choices(PRESETS.map((p) => p.name)))
    .option('--data <path>', 'CIFAR-10 archive or folder, or an image folder (default: $DLOPT_DATA, then the cache; downloads CIFAR-10 if absent)')
    .option('--epochs <n>', 'training epochs (default: 10)', positiveInt)
    .option('--batch-size <n>', 'images per training step (default: 64)', positiveInt)
    .option('--lr <x>', "learning rate (default: the preset's, 0.001 for Adam)", positiveNumber)
    .option('--val-size <n>', 'images held out from the end of the training data for validation (default: 5000)', nonNegativeInt)
    .option('--limit <n>', 'train on only the first N training images (validation split unchanged)', positiveInt)
    .option('--seed <n>', 'seed for weights, data order and augmentation (default: 1)', nonNegativeInt)
    .option('--out <dir>', 'run directory to write (default: runs/<date-time>-<model>)')
    .option('--image-size <n>', 'side length image-folder images are resized to (default: 32)', positiveInt)
    .option('--backend <name>', 'tfjs backend to use (default: the fastest registered)')
    .addOption(new Option('--optimizer <name>', 'optimizer (default: adam)').choices(OPTIMIZER_NAMES))
    .option('--momentum <x>', 'momentum of momentum/sgdw/rmsprop', probability)
    .option('--weight-decay <x>', 'decoupled weight decay (adamw default 0.01, sgdw 5e-4)', nonNegativeNumber)
    .option('--clip-norm <x>', 'clip gradients to this global L2 norm', positiveNumber)
    .option('--clip-value <x>', 'clip each gradient element to ±x', positiveNumber)
    .addOption(new Option('--schedule <name>', 'learning-rate schedule').choices(['constant', 'step', 'exponential', 'cosine', 'onecycle', 'plateau']))
    .option('--warmup-epochs <n>', 'cosine schedule: linear warm-up epochs', nonNegativeNumber)
    .option('--step-size <n>', 'step schedule: epochs between decays', positiveNumber)
    .option('--gamma <x>', 'step/exponential schedule: decay factor', positiveNumber)
    .option('--min-lr <x>', 'cosine/plateau schedule: lowest learning rate', nonNegativeNumber)
    .option('--label-smoothing <x>', 'label smoothing ε (0 to <1)', probability)
    .option('--augment <list>', `augmentations, comma-separated: ${Object.keys(AUGMENT_PRESETS).join(', ')}`)
    .option('--mixup <alpha>', 'mixup with Beta(alpha, alpha)', positiveNumber)
    .option('--cutmix <alpha>', 'cutmix with Beta(alpha, alpha), on half the batches', positiveNumber)
    .option('--early-stopping <patience>', 'stop after this many epochs without improvement (restores the best weights)', nonNegativeInt)
    .option('--monitor <metric>', 'metric early stopping watches (default: val_loss)')
    .option('--ema <decay>', 'evaluate and keep an exponential moving average of the weights', probability)
    .option('--l1 <x>', 'L1 penalty on kernels', nonNegativeNumber)
    .option('--l2 <x>', 'L2 penalty on kernels', nonNegativeNumber)
    .option('--max-norm <x>', 'max-norm constraint on kernels', positiveNumber)
    .option('--dropout <rate>', 'dropout rate where the model has a slot', probability)
    .option('--spatial-dropout <rate>', 'SpatialDropout2D (whole channels) after each pooling stage (seed-cnn, vgg-bn)', probability)
    .option('--no-checkpoint', 'do not checkpoint each epoch (a killed run cannot be resumed)')
    .addHelpText('after', '\nA config file takes the same settings (and more: see README); flags win over it.')
    .action(async (opts) => {
      await train(opts as TrainFlags);
    });
}

async function train(flags: TrainFlags): Promise<void> {
  const startedAt = new Date();
  const { config, run, resume, previous } = flags.resume !== undefined ? await resumeRun(flags) : await newRun(flags, startedAt);
  const backend = await initBackend(config.backend);
  out.info(`Backend: ${backend.description}; registered: ${backend.available.join(', ')}`);
  if (backend.name === 'cpu') {
    out.warn(
      "the 'cpu' backend is tfjs's pure-JavaScript one and trains very slowly (a full CIFAR-10 epoch takes hours); " +
        'use --limit N for a quick run',
    );
  }
  // A resumed run reads the data it started with (recorded as an absolute path) unless told otherwise.
  const dataset = await openDataset({ data: flags.data ?? previous?.data.source ?? config.data, imageSize: config.imageSize, cifar: { test: 'optional' } });
  const started = performance.now();
  const result = await runTraining({
    config,
    dataset,
    runDir: run,
    backend: backend.name,
    ...(resume && { resume }),
    onSetup: async (setup) => {
      const { summary, splits } = setup;
      out.info(`Model: ${config.model} — ${formatInt(summary.params)} parameters, ${formatCompact(summary.flops)} FLOPs per image`);
      for (const [split, text] of Object.entries(splits.describe)) out.info(`  ${split}: ${text}`);
      out.info(
        `Training: ${config.optimizer.name}, lr ${setup.learningRate}${config.schedule ? ` (${config.schedule.name} schedule)` : ''}, ` +
          `batch ${config.batchSize}, augmentation: ${setup.augmentation}` +
          (config.labelSmoothing > 0 ? `, label smoothing ${config.labelSmoothing}` : '') +
          (config.ema !== undefined ? `, EMA ${config.ema}` : '') +
          (config.earlyStopping ? `, early stopping (patience ${config.earlyStopping.patience} on ${config.earlyStopping.monitor})` : ''),
      );
      if (!splits.val && !splits.test) out.warn('no test split in this data and --val-size 0: the trained model will not be evaluated');
      if (setup.initialEpoch > 0) out.info(`Resuming after epoch ${setup.initialEpoch} of ${config.epochs}`);
      out.info(`Run directory: ${run.path}`);
      if (!previous) {
        const file = runConfigFile(config, dataset, splits, { backend: backend.name, startedAt });
        await run.writeConfig(file);
      }
    },
    observer: epochProgress({
      batchSize: config.batchSize,
      label: (epoch) => `Epoch ${epoch}/${config.epochs}`,
      // Fault injection for the resume tests: a hard kill right after an epoch was recorded.
      onEpochEnd: (m) => {
        if (Number(process.env.DLOPT_CRASH_AFTER_EPOCH) === m.epoch) process.kill(process.pid, 'SIGKILL');
      },
    }),
  });

  out.result('');
  if (result.stoppedEarly !== undefined) out.result(`Early stopping after epoch ${result.stoppedEarly} (best weights restored).`);
  for (const [split, e] of Object.entries(result.final)) {
    const name = split === 'test' ? 'Test' : 'Validation';
    out.result(
      style.bold(`${name} accuracy: ${(e.accuracy * 100).toFixed(2)}%`) + ` (loss ${e.loss.toFixed(4)}; ${result.splits.describe[split as 'val' | 'test']})`,
    );
  }
  if (!result.final.test) out.result('No test split in this data (no test_batch.bin): the figure above is validation accuracy.');
  const epochs = result.history.length;
  out.result(`Trained ${epochs} epoch${epochs === 1 ? '' : 's'} in ${formatDuration((performance.now() - started) / 1000)}; run directory: ${run.path}`);
  out.result(`Report: dlopt report ${shellQuote(run.path)} --out ${shellQuote(join(run.path, 'report.html'))}`);
}

/** A new run: settings from the config file (if any) overridden by flags, validated. */
async function newRun(flags: TrainFlags, startedAt: Date) {
  const file = flags.config !== undefined ? await readConfigFile(flags.config) : {};
  const config = parseTrainConfig(mergeSettings(file, settingsFromFlags(flags)), flags.config ?? 'settings');
  const run = await RunDir.create(flags.out, config.model, startedAt);
  return { config, run, resume: undefined as Checkpoint | undefined, previous: undefined as RunConfigFile | undefined };
}

/** Settings a resumed run may change: only how long it trains. */
const RESUME_FLAGS = new Set(['resume', 'epochs', 'backend', 'data', 'checkpoint']);

async function resumeRun(flags: TrainFlags) {
  const changed = Object.entries(flags)
    .filter(([key, value]) => value !== undefined && !RESUME_FLAGS.has(key))
    .map(([key]) => `--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`);
  if (changed.length > 0) throw new UsageError(`--resume continues a run with its own settings; ${changed.join(', ')} cannot be changed (only --epochs)`);
  const run = await RunDir.open(flags.resume!);
  let previous: RunConfigFile;
  try {
    previous = JSON.parse(await readFile(run.file(RUN_FILES.config), 'utf8')) as RunConfigFile;
  } catch (error) {
    throw new DloptError(`cannot read ${run.file(RUN_FILES.config)}: ${describeError(error)}`, { cause: error });
  }
  if (!previous.config) throw new DloptError(`${run.file(RUN_FILES.config)} was written by an older dlopt and cannot be resumed`);
  const config = parseTrainConfig({ ...previous.config, ...(flags.epochs !== undefined && { epochs: flags.epochs }) }, run.file(RUN_FILES.config));
  const checkpoint = await loadCheckpoint(run.path);
  if (!checkpoint) throw new DloptError(`${run.path} has no checkpoint to resume from (it stopped before its first epoch ended, or ran with --no-checkpoint)`);
  if (checkpoint.epoch >= config.epochs) {
    throw new DloptError(`${run.path} already completed ${checkpoint.epoch} of ${config.epochs} epochs; pass --epochs N (more than ${checkpoint.epoch}) to train further`);
  }
  return { config, run, resume: checkpoint, previous };
}
