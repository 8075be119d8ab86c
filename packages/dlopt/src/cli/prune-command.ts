import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { initBackend } from '../backend/backend.js';
import { parseTrainConfig } from '../config/load-config.js';
import { DloptError } from '../errors.js';
import { loadModel } from '../io/model-files.js';
import type { NmPattern } from '../prune/magnitude-masks.js';
import { runConfigFile } from '../runner/run-record.js';
import { PRUNE_METHODS, runPruning, type Measurement, type PruneMethod, type PruningSettings } from '../runner/run-pruning.js';
import { makeSplits } from '../data/splits.js';
import { RunDir } from '../train/run-dir.js';
import { formatCompact, formatDuration, formatInt, formatRate } from '../util/format.js';
import type { ClassAccuracyChange } from '../train/class-metrics.js';
import { out, shellQuote, style } from './console.js';
import { textTable } from './text-table.js';
import { epochProgress } from './epoch-progress.js';
import { openDataset } from './open-dataset.js';
import { nonNegativeInt, positiveInt, positiveNumber, probability } from './options.js';
import { checkModelFitsData, readRunConfig } from './saved-run.js';

export function pruneCommand() {
  return new Command('prune')
    .description('prune a trained model (weights, or whole filters and units), fine-tune it, and measure what it gained')
    .requiredOption('--model <path>', 'run directory (or model.json) of a trained model')
    .addOption(
      new Option('--method <name>', 'magnitude: unstructured (weights); the others remove filters/units ranked by filter norm, batch-norm scale or activations on data')
        .choices(PRUNE_METHODS)
        .makeOptionMandatory(),
    )
    .option('--sparsity <x>', 'fraction removed: of kernel weights (magnitude) or of filters/units (structured)', probability)
    .option('--pattern <n:m>', 'magnitude: N:M sparsity instead, e.g. 2:4 (keep 2 of every 4 weights along the input channels)', nmPattern)
    .addOption(new Option('--scope <scope>', 'rank within each layer, or across all layers').choices(['layer', 'global'] as const).default('layer' as const))
    .option('--steps <n>', 'prune → fine-tune rounds; the sparsity grows linearly to --sparsity', positiveInt, 1)
    .option('--fine-tune-epochs <n>', 'epochs of fine-tuning after each pruning step', nonNegativeInt, 1)
    .addOption(
      new Option('--schedule <name>', 'magnitude: prune at once at each step, or gradually (AGP, cubic) over the first half of its fine-tuning (default: agp when fine-tuning)').choices([
        'oneshot',
        'agp',
      ] as const),
    )
    .option('--min-width <n>', 'structured: no layer keeps fewer filters/units than this', positiveInt, 1)
    .option('--round-to <n>', 'structured: round kept widths up to a multiple of this (4 or 8 suit vector kernels)', positiveInt, 1)
    .option('--layers <names>', 'structured: prune only the filters of these layers (comma-separated)', (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .option('--lr <x>', "fine-tuning learning rate (default: the training run's), cosine-decayed over each step", positiveNumber)
    .option('--batch-size <n>', "fine-tuning batch size (default: the training run's)", positiveInt)
    .option('--calibration-images <n>', 'apoz / mean-activation: training images the statistics are measured on', positiveInt, 1000)
    .option('--speed-images <n>', 'images per timed inference pass (original and pruned alternate)', positiveInt, 2048)
    .option('--data <path>', "dataset (default: the training run's)")
    .option('--out <dir>', 'run directory to write (default: runs/<date-time>-prune-<method>)')
    .option('--seed <n>', 'seed for the fine-tuning order and augmentation (default: the run\'s)', nonNegativeInt)
    .option('--backend <name>', 'tfjs backend to use (default: the fastest registered)')
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (opts) => {
      await prune(opts);
    });
}

function nmPattern(value: string): NmPattern {
  const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(value);
  if (!m || !(Number(m[1]) >= 1 && Number(m[1]) < Number(m[2]))) throw new InvalidArgumentError('expected N:M with 1 ≤ N < M, e.g. 2:4.');
  return { n: Number(m[1]), m: Number(m[2]) };
}

async function prune(flags: {
  model: string;
  method: PruneMethod;
  sparsity?: number;
  pattern?: NmPattern;
  scope: 'layer' | 'global';
  steps: number;
  fineTuneEpochs: number;
  schedule?: 'oneshot' | 'agp';
  minWidth: number;
  roundTo: number;
  layers?: string[];
  lr?: number;
  batchSize?: number;
  calibrationImages: number;
  speedImages: number;
  data?: string;
  out?: string;
  seed?: number;
  backend?: string;
  json?: true;
}): Promise<void> {
  if (flags.pattern === undefined && flags.sparsity === undefined) throw new DloptError('give --sparsity (or --pattern N:M with --method magnitude)');
  if (flags.pattern !== undefined && flags.sparsity !== undefined) throw new DloptError('give either --sparsity or --pattern, not both');
  const structured = flags.method !== 'magnitude';
  if (!structured && (flags.layers || flags.minWidth !== 1 || flags.roundTo !== 1)) {
    throw new DloptError('--layers, --min-width and --round-to apply to structured methods (l1, l2, bn, apoz, mean-activation)');
  }
  if (structured && flags.schedule) throw new DloptError('--schedule applies to --method magnitude');

  const backend = await initBackend(flags.backend);
  out.info(`Backend: ${backend.description}`);
  const { model, file } = await loadModel(flags.model);
  const previous = await readRunConfig(file);
  const trainConfig = parseTrainConfig({ ...(previous.config ?? {}) }, previous.config ? 'the run\'s config.json' : 'defaults');
  const data = flags.data ?? (process.env.DLOPT_DATA ? undefined : previous.data?.source);
  const dataset = await openDataset({ data, imageSize: trainConfig.imageSize, cifar: { test: 'skip' } });
  const train = dataset.train;
  if (!train) throw new DloptError(`${dataset.source} has no training split to fine-tune and validate on`);
  checkModelFitsData(model, file, train, dataset.classNames.length);

  const settings: PruningSettings = {
    method: flags.method,
    sparsity: flags.sparsity ?? 0,
    scope: flags.scope,
    steps: flags.steps,
    fineTuneEpochs: flags.fineTuneEpochs,
    schedule: flags.schedule ?? (flags.fineTuneEpochs > 0 && !flags.pattern ? 'agp' : 'oneshot'),
    ...(flags.pattern && { pattern: flags.pattern }),
    minWidth: flags.minWidth,
    roundTo: flags.roundTo,
    ...(flags.layers && { layers: flags.layers }),
    ...(flags.lr !== undefined && { lr: flags.lr }),
    batchSize: flags.batchSize ?? trainConfig.batchSize,
    calibrationImages: flags.calibrationImages,
    speedImages: flags.speedImages,
    seed: flags.seed ?? trainConfig.seed,
  };
  const run = await RunDir.create(flags.out, `prune-${flags.method}`);
  const splits = makeSplits(dataset, { valSize: trainConfig.valSize, limit: trainConfig.limit });
  await run.writeConfig({
    prune: { ...settings, source: file },
    ...runConfigFile(trainConfig, dataset, splits, { backend: backend.name }),
  });
  out.info(`Model: ${file} — ${formatInt(model.countParams())} parameters`);
  const what = settings.pattern ? `${settings.pattern.n}:${settings.pattern.m} pattern` : `sparsity ${settings.sparsity} (${settings.scope} scope)`;
  out.info(
    `Pruning: ${settings.method}, ${what}, ${settings.steps} step${settings.steps === 1 ? '' : 's'}` +
      (settings.fineTuneEpochs > 0 ? `, ${settings.fineTuneEpochs} fine-tuning epoch${settings.fineTuneEpochs === 1 ? '' : 's'} each` : ', no fine-tuning') +
      (structured ? '' : `, ${settings.schedule}`),
  );
  out.info(`Run directory: ${run.path}`);

  const started = performance.now();
  let step = 0;
  const result = await runPruning({
    model,
    trainConfig,
    dataset,
    settings,
    runDir: run,
    backend: backend.name,
    observer: epochProgress({
      batchSize: settings.batchSize,
      label: (epoch, epochs) => `Step ${step + 1}/${settings.steps} fine-tune epoch ${epoch}/${epochs}`,
    }),
    onSkipped(skipped) {
      for (const s of skipped) out.warn(`layer '${s.layer}' is left dense: ${s.reason}`);
    },
    onStep(r) {
      step = r.step;
      const after = r.pruned_accuracy === null ? '' : `accuracy after pruning ${pct(r.pruned_accuracy)}, `;
      out.info(
        `Step ${r.step}/${settings.steps}: ${structured ? 'channels' : 'weights'} removed ${pct(r.achieved)} (target ${pct(r.target)}); ` +
          `${after}after fine-tuning ${pct(r.val_accuracy)}; ${formatInt(r.nonzero_params)} nonzero parameters, ${formatCompact(r.flops)} FLOPs`,
      );
    },
  });
  result.model.dispose();
  model.dispose();

  if (flags.json) {
    out.result(JSON.stringify(result.summary));
    return;
  }
  out.result('');
  out.result(comparisonTable(result.original, result.pruned, structured));
  out.result('');
  out.result(
    style.bold(`Validation accuracy ${pct(result.original.val_accuracy)} → ${pct(result.pruned.val_accuracy)}`) +
      ` (${signed((result.pruned.val_accuracy - result.original.val_accuracy) * 100, 2)} pt); ` +
      `inference ${(result.pruned.images_per_s / result.original.images_per_s).toFixed(2)}× as fast on ${backend.name}`,
  );
  if (result.classes) out.result(classChangeLine(result.classes));
  out.result(`Done in ${formatDuration((performance.now() - started) / 1000)}; run directory: ${run.path}`);
  out.result(`Report: dlopt report ${shellQuote(run.path)} --out ${shellQuote(join(run.path, 'report.html'))}`);
}

/** The before/after table the command prints (and the summary records as numbers). */
export function comparisonTable(a: Measurement, b: Measurement, structured: boolean): string {
  const size = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const rows: [string, string, string, string][] = [
    ['parameters', formatInt(a.params), formatInt(b.params), change(a.params, b.params)],
    ['nonzero parameters', formatInt(a.nonzeroParams), formatInt(b.nonzeroParams), change(a.nonzeroParams, b.nonzeroParams)],
    ['FLOPs per image', formatCompact(a.flops), formatCompact(b.flops), change(a.flops, b.flops)],
  ];
  if (!structured) rows.push(['FLOPs, zeros skipped', formatCompact(a.sparseFlops), formatCompact(b.sparseFlops), change(a.sparseFlops, b.sparseFlops)]);
  rows.push(['weights.bin', size(a.files.weights), size(b.files.weights), change(a.files.weights, b.files.weights)]);
  rows.push(['weights.bin gzipped', size(a.files.weights_gzip), size(b.files.weights_gzip), change(a.files.weights_gzip, b.files.weights_gzip)]);
  if (!structured) rows.push(['weights.sparse.bin', size(a.files.sparse_weights), size(b.files.sparse_weights), change(a.files.sparse_weights, b.files.sparse_weights)]);
  rows.push(['inference images/s', formatRate(a.images_per_s), formatRate(b.images_per_s), `${(b.images_per_s / a.images_per_s).toFixed(2)}×`]);
  rows.push(['val accuracy', pct(a.val_accuracy), pct(b.val_accuracy), `${signed((b.val_accuracy - a.val_accuracy) * 100, 2)} pt`]);
  const header: [string, string, string, string] = ['', 'original', 'pruned', 'change'];
  return textTable(header, rows, (i) => i > 0).join('\n');
}

/** The classes pruning cost most (the average can hide a class that lost far more). */
export function classChangeLine(classes: readonly ClassAccuracyChange[], count = 3): string {
  const drops = classes
    .filter((c): c is ClassAccuracyChange & { change: number } => c.change !== null && c.change < 0)
    .sort((a, b) => a.change - b.change)
    .slice(0, count);
  if (drops.length === 0) return 'Per class: no class lost validation accuracy.';
  const items = drops.map((c) => `${c.name} ${signed(c.change * 100, 1)} pt (${pct(c.before!)} → ${pct(c.after!)})`);
  return `Per class, largest drops: ${items.join(', ')}`;
}

function change(a: number, b: number): string {
  return a === 0 ? '' : `${signed(((b - a) / a) * 100, 1)}%`;
}

function signed(x: number, digits: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}
