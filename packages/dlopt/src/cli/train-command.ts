import { Command, Option } from '@commander-js/extra-typings';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { initBackend } from '../backend/backend.js';
import { PIXEL_SCALE } from '../data/batches.js';
import { makeSplits } from '../data/splits.js';
import { saveModel } from '../io/model-files.js';
import { PRESETS, findPreset } from '../models/presets.js';
import { createClassifier } from '../train/compile.js';
import { summarizeModel } from '../models/summary.js';
import { evaluateModel, type Evaluation } from '../train/evaluate.js';
import { fitModel } from '../train/fit.js';
import { RunDir } from '../train/run-dir.js';
import { formatCompact, formatDuration, formatInt, formatRate } from '../util/format.js';
import { out, style } from './console.js';
import { openDataset } from './open-dataset.js';
import { nonNegativeInt, positiveInt, positiveNumber } from './options.js';
import { startProgress, type Progress } from './progress-bar.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export function trainCommand() {
  return new Command('train')
    .description('train a model on CIFAR-10 (or an image folder) and report its accuracy')
    .addOption(
      new Option('--model <name>', 'model preset').choices(PRESETS.map((p) => p.name)).default('seed-cnn'),
    )
    .option('--data <path>', 'CIFAR-10 archive or folder, or an image folder (default: $DLOPT_DATA, then the cache; downloads CIFAR-10 if absent)')
    .option('--epochs <n>', 'training epochs', positiveInt, 10)
    .option('--batch-size <n>', 'images per training step', positiveInt, 64)
    .option('--lr <x>', 'learning rate (default: the preset\'s, 0.001 for Adam)', positiveNumber)
    .option('--val-size <n>', 'images held out from the end of the training data for validation', nonNegativeInt, 5000)
    .option('--limit <n>', 'train on only the first N training images (validation split unchanged)', positiveInt)
    .option('--seed <n>', 'seed for weight initialisation and data order', nonNegativeInt, 1)
    .option('--out <dir>', 'run directory to write (default: runs/<date-time>-<model>)')
    .option('--image-size <n>', 'side length image-folder images are resized to', positiveInt, 32)
    .option('--backend <name>', 'tfjs backend to use (default: the fastest registered)')
    .action(async (opts) => {
      await train(opts);
    });
}

interface TrainFlags {
  model: string;
  data?: string;
  epochs: number;
  batchSize: number;
  lr?: number;
  valSize: number;
  limit?: number;
  seed: number;
  out?: string;
  imageSize: number;
  backend?: string;
}

async function train(flags: TrainFlags): Promise<void> {
  const startedAt = new Date();
  const started = performance.now();
  const preset = findPreset(flags.model);
  const backend = await initBackend(flags.backend);
  out.info(`Backend: ${backend.description}; registered: ${backend.available.join(', ')}`);
  if (backend.name === 'cpu') {
    out.warn(
      "the 'cpu' backend is tfjs's pure-JavaScript one and trains very slowly (a full CIFAR-10 epoch takes hours); " +
        'use --limit N for a quick run',
    );
  }
  const dataset = await openDataset({ data: flags.data, imageSize: flags.imageSize, cifar: { test: 'optional' } });
  const splits = makeSplits(dataset, { valSize: flags.valSize, limit: flags.limit });
  if (!splits.val && !splits.test) {
    out.warn('no test split in this data and --val-size 0: the trained model will not be evaluated');
  }
  const numClasses = dataset.classNames.length;
  const inputShape = [splits.train.height, splits.train.width, splits.train.channels] as const;
  const learningRate = flags.lr ?? preset.defaultLearningRate;
  const model = createClassifier(preset.name, { inputShape, numClasses, seed: flags.seed, optimizer: { learningRate } });
  const summary = summarizeModel(model);
  out.info(
    `Model: ${preset.name} — ${formatInt(summary.params)} parameters, ${formatCompact(summary.flops)} FLOPs per image`,
  );
  for (const [split, text] of Object.entries(splits.describe)) out.info(`  ${split}: ${text}`);

  const run = await RunDir.create(flags.out, preset.name, startedAt);
  out.info(`Run directory: ${run.path}`);
  const config = {
    command: 'train',
    model: preset.name,
    data: resolve(dataset.source),
    dataset_format: dataset.format,
    class_names: dataset.classNames,
    input_shape: inputShape,
    preprocessing: { layout: 'NHWC', channels: 'RGB', scale: PIXEL_SCALE, note: 'pixels are multiplied by scale (uint8 → [0, 1])' },
    epochs: flags.epochs,
    batch_size: flags.batchSize,
    lr: learningRate,
    optimizer: 'adam',
    loss: 'categorical_crossentropy',
    val_size: flags.valSize,
    limit: flags.limit ?? null,
    seed: flags.seed,
    image_size: dataset.format === 'image-folder' ? flags.imageSize : null,
    splits: splits.describe,
    backend: backend.name,
    dlopt_version: pkg.version,
    node_version: process.version,
    started_at: startedAt.toISOString(),
  };
  await run.writeConfig(config);

  let bar: Progress | undefined;
  let fields: Record<string, string> = {};
  let batchesPerEpoch = 0;
  const history = await fitModel(model, splits, {
    epochs: flags.epochs,
    batchSize: flags.batchSize,
    numClasses,
    seed: flags.seed,
    observer: {
      onEpochStart(epoch, epochs, batches) {
        fields = {};
        batchesPerEpoch = batches;
        bar = startProgress(`Epoch ${epoch}/${epochs}`, batches, {
          unit: 'batches',
          format: (done, f) => {
            const rate = Number(f.rate);
            const eta = ((batches - done) * flags.batchSize) / rate;
            const stage = f.validating ? `validating ${f.validating}` : `ETA ${formatDuration(eta)}`;
            return `${done}/${batches} | ${stage} | ${formatRate(rate)} img/s | loss ${f.loss} | acc ${f.acc}`;
          },
        });
      },
      onBatchEnd(batch, stats) {
        fields = { rate: String(stats.imagesPerS), loss: stats.loss.toFixed(4), acc: stats.accuracy.toFixed(4) };
        bar?.update(batch, fields);
      },
      onValidationProgress(done, total) {
        bar?.update(batchesPerEpoch, { ...fields, validating: `${formatInt(done)}/${formatInt(total)}` });
      },
      async onEpochEnd(m) {
        bar?.stop();
        const val = m.val_loss === null ? '' : ` - val_loss: ${m.val_loss.toFixed(4)} - val_accuracy: ${m.val_accuracy!.toFixed(4)}`;
        out.info(
          `Epoch ${m.epoch}/${flags.epochs} - ${formatDuration(m.seconds)} - ${formatRate(m.images_per_s)} img/s - ` +
            `loss: ${m.loss.toFixed(4)} - accuracy: ${m.accuracy.toFixed(4)}${val}`,
        );
        await run.appendMetrics(m);
      },
    },
  });

  await saveModel(model, run.path, { dlopt: { preprocessing: config.preprocessing, class_names: dataset.classNames } });
  // The last epoch already measured the validation split; only the test split is new work.
  const final: Record<string, Pick<Evaluation, 'n' | 'loss' | 'accuracy'>> = {};
  const last = history.at(-1);
  if (splits.val && last && last.val_loss !== null && last.val_accuracy !== null) {
    final.val = { n: splits.val.count, loss: last.val_loss, accuracy: last.val_accuracy };
  }
  if (splits.test) final.test = await evaluateModel(model, splits.test, { batchSize: flags.batchSize, numClasses });
  const reportedSplit = final.test ? 'test' : final.val ? 'val' : null;
  const totalSeconds = (performance.now() - started) / 1000;
  const meanRate = history.reduce((n, m) => n + m.images_per_s, 0) / Math.max(1, history.length);
  await run.writeSummary({
    model: preset.name,
    params: summary.params,
    trainable_params: summary.trainableParams,
    flops_per_image: summary.flops,
    flops_complete: summary.flopsComplete,
    epochs: history.length,
    final: Object.fromEntries(
      Object.entries(final).map(([split, e]) => [
        split,
        { n: e.n, loss: e.loss, accuracy: e.accuracy, description: splits.describe[split as 'val' | 'test'] },
      ]),
    ),
    last_epoch: last ?? null,
    reported_split: reportedSplit,
    splits: splits.describe,
    train_images_per_s: meanRate,
    total_seconds: totalSeconds,
    backend: backend.name,
  });

  out.result('');
  for (const [split, e] of Object.entries(final)) {
    const name = split === 'test' ? 'Test' : 'Validation';
    out.result(
      style.bold(`${name} accuracy: ${(e.accuracy * 100).toFixed(2)}%`) +
        ` (loss ${e.loss.toFixed(4)}; ${splits.describe[split as 'val' | 'test']})`,
    );
  }
  if (!final.test) out.result('No test split in this data (no test_batch.bin): the figure above is validation accuracy.');
  out.result(`Trained ${history.length} epoch${history.length === 1 ? '' : 's'} in ${formatDuration(totalSeconds)}; run directory: ${run.path}`);
}
