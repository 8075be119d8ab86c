import { Command, Option } from '@commander-js/extra-typings';
import { initBackend } from '../backend/backend.js';
import type { Cifar10LoadOptions } from '../data/cifar10.js';
import type { SplitName } from '../data/dataset.js';
import { makeSplits } from '../data/splits.js';
import { DloptError } from '../errors.js';
import { loadModel } from '../io/model-files.js';
import { classMetrics, type ClassMetrics } from '../train/class-metrics.js';
import { evaluateModel } from '../train/evaluate.js';
import { formatInt, formatRate } from '../util/format.js';
import { out, style } from './console.js';
import { textTable } from './text-table.js';
import { openDataset } from './open-dataset.js';
import { checkModelFitsData, readRunConfig } from './saved-run.js';
import { nonNegativeInt, positiveInt } from './options.js';

export function evaluateCommand() {
  return new Command('evaluate')
    .description('evaluate a saved model on a data split')
    .requiredOption('--model <path>', 'run directory or model.json')
    .option('--data <path>', 'dataset (default: $DLOPT_DATA, then the cache)')
    .addOption(
      new Option('--split <split>', 'split to evaluate (default: test if the data has one, else val)').choices([
        'test',
        'val',
        'train',
      ] as const),
    )
    .option('--val-size <n>', "validation images held out (default: the run's setting, else 5000)", nonNegativeInt)
    .option('--batch-size <n>', 'images per inference batch', positiveInt, 256)
    .option('--image-size <n>', "side image-folder images are resized to (default: the run's setting, else 32)", positiveInt)
    .option('--backend <name>', 'tfjs backend to use (default: the fastest registered)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (opts) => {
      await evaluate(opts);
    });
}

async function evaluate(flags: {
  model: string;
  data?: string;
  split?: SplitName;
  valSize?: number;
  batchSize: number;
  imageSize?: number;
  backend?: string;
  json?: true;
}): Promise<void> {
  const backend = await initBackend(flags.backend);
  out.info(`Backend: ${backend.description}`);
  const { model, file } = await loadModel(flags.model);
  const runConfig = await readRunConfig(file);
  const valSize = flags.valSize ?? runConfig.config?.valSize ?? 5000;
  const imageSize = flags.imageSize ?? (runConfig.data?.format === 'image-folder' ? runConfig.config?.imageSize : undefined);

  const cifar: Cifar10LoadOptions =
    flags.split === 'test'
      ? { train: 'skip', test: 'required' }
      : flags.split === undefined
        ? { train: 'optional', test: 'optional' }
        : { train: 'required', test: 'skip' };
  // The run's own data is the default, after anything the user names.
  const data = flags.data ?? (process.env.DLOPT_DATA ? undefined : runConfig.data?.source);
  const dataset = await openDataset({ data, imageSize, cifar });
  const splitName: SplitName = flags.split ?? (dataset.test ? 'test' : 'val');
  let set;
  let description: string;
  if (splitName === 'test') {
    if (!dataset.test) throw new DloptError(`${dataset.source} has no test split`);
    set = dataset.test;
    description = dataset.testInfo?.description ?? `${formatInt(set.count)} images`;
  } else {
    if (splitName === 'val' && valSize === 0) throw new DloptError('--split val needs --val-size > 0');
    const splits = makeSplits(dataset, { valSize });
    set = splitName === 'val' ? splits.val! : splits.train;
    description = splits.describe[splitName]!;
  }

  checkModelFitsData(model, file, set, dataset.classNames.length);

  const result = await evaluateModel(model, set, { batchSize: flags.batchSize, numClasses: dataset.classNames.length });
  const classes = classMetrics(result.confusion, dataset.classNames);
  if (flags.json) {
    out.result(
      JSON.stringify({
        split: splitName,
        n: result.n,
        loss: result.loss,
        accuracy: result.accuracy,
        images_per_s: result.imagesPerS,
        per_class: classes.map((c) => ({ class: c.name, images: c.images, accuracy: c.accuracy, precision: c.precision })),
        class_names: dataset.classNames,
        confusion: result.confusion,
      }),
    );
  } else {
    out.result(
      `${splitName} accuracy: ${(result.accuracy * 100).toFixed(2)}% (loss ${result.loss.toFixed(4)}) on ` +
        `${formatInt(result.n)} images — ${description}; ${formatRate(result.imagesPerS)} images/s on ${backend.name}`,
    );
    out.result('');
    for (const line of classTable(classes)) out.result(line);
  }
}

/** Per-class accuracy, precision and each class's most common mistake, as the text output shows them. */
function classTable(classes: readonly ClassMetrics[]): string[] {
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
  const rows = classes.map((c) => [
    c.name,
    formatInt(c.images),
    pct(c.accuracy),
    pct(c.precision),
    c.mistakenFor ? `${c.mistakenFor.name} (${pct(c.mistakenFor.share)})` : '—',
  ]);
  const [head, ...body] = textTable(['class', 'images', 'accuracy', 'precision', 'most often mistaken for'], rows, (i) => i >= 1 && i <= 3);
  return [style.bold(head!), ...body];
}
