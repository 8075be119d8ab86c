// The technique ablation on CIFAR-10: the same model and epoch budget trained once per
// technique (each added alone to the baseline, then all together), through the real
// `dlopt train` CLI, one run after another so they share the machine the same way.
// Prints one line per run with validation accuracy and wall time, and writes the table
// to OUT/ablation.md (and .json).
//
//   node --import tsx packages/dlopt/bench/ablation.ts [--data PATH] [--epochs 20]
//        [--model seed-cnn] [--out runs/ablation] [--only baseline,mixup]
// or, to compare models instead of techniques (same flags for each):
//   node --import tsx packages/dlopt/bench/ablation.ts --models seed-cnn,vgg-bn [--flags="--augment flip,crop"]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runDlopt } from './dlopt-cli.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: resolve(import.meta.dirname, '../../../../shared/datasets/cifar-10-train-binary.tar.gz') },
    epochs: { type: 'string', default: '20' },
    model: { type: 'string', default: 'seed-cnn' },
    out: { type: 'string', default: 'runs/ablation' },
    only: { type: 'string' },
    seed: { type: 'string', default: '1' },
    models: { type: 'string' },
    flags: { type: 'string', default: '' },
  },
});

const VARIANTS: { name: string; label: string; flags: string[] }[] = [
  { name: 'baseline', label: 'baseline (Adam 1e-3, constant LR)', flags: [] },
  { name: 'augment', label: '+ augmentation (flip, crop 4 reflect)', flags: ['--augment', 'flip,crop'] },
  { name: 'smoothing', label: '+ label smoothing 0.1', flags: ['--label-smoothing', '0.1'] },
  { name: 'mixup', label: '+ mixup α=0.2', flags: ['--mixup', '0.2'] },
  { name: 'wd-cosine', label: '+ weight decay 0.05 (AdamW) & cosine', flags: ['--optimizer', 'adamw', '--weight-decay', '0.05', '--schedule', 'cosine'] },
  {
    name: 'all',
    label: 'all of the above',
    flags: ['--augment', 'flip,crop', '--label-smoothing', '0.1', '--mixup', '0.2', '--optimizer', 'adamw', '--weight-decay', '0.05', '--schedule', 'cosine'],
  },
];

const only = values.only?.split(',');
const extra = values.flags.split(' ').filter(Boolean);
const variants = values.models
  ? values.models.split(',').map((m) => ({ name: m, label: m, model: m, flags: extra }))
  : (only ? VARIANTS.filter((v) => only.includes(v.name)) : VARIANTS).map((v) => ({ ...v, model: values.model, flags: [...v.flags, ...extra] }));
if (variants.length === 0) throw new Error(`--only: no variant named ${values.only}; choose from ${VARIANTS.map((v) => v.name).join(', ')}`);
await mkdir(values.out, { recursive: true });

interface Row {
  name: string;
  params: number;
  label: string;
  valAccuracy: number;
  valLoss: number;
  bestValAccuracy: number;
  trainAccuracy: number;
  seconds: number;
  imagesPerS: number;
}
const rows: Row[] = [];
for (const v of variants) {
  const dir = join(values.out, v.name);
  const args = ['train', '--model', v.model, '--data', values.data, '--epochs', values.epochs, '--seed', values.seed, '--out', dir, '--no-checkpoint', ...v.flags];
  console.log(`\n== ${v.label}: dlopt ${args.join(' ')}`);
  await runDlopt(args);
  const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8'));
  const metrics = (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { val_accuracy: number });
  rows.push({
    name: v.name,
    params: summary.params,
    label: v.label,
    valAccuracy: summary.final.val.accuracy,
    valLoss: summary.final.val.loss,
    bestValAccuracy: Math.max(...metrics.map((m) => m.val_accuracy)),
    trainAccuracy: summary.last_epoch.accuracy,
    seconds: summary.total_seconds,
    imagesPerS: summary.train_images_per_s,
  });
}

const lines = [
  `CIFAR-10 ${values.models ? 'models' : `ablation: ${values.model}`}, ${values.epochs} epochs, batch 64, seed ${values.seed}${extra.length ? `, ${extra.join(' ')}` : ''}; validation = last 5,000 training images (held out)`,
  '',
  '| run | params | val acc (final) | val acc (best epoch) | val loss | train acc (last epoch) | time | train images/s |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.label} | ${r.params.toLocaleString('en-US')} | ${(r.valAccuracy * 100).toFixed(2)}% | ${(r.bestValAccuracy * 100).toFixed(2)}% | ${r.valLoss.toFixed(4)} | ${(r.trainAccuracy * 100).toFixed(2)}% | ${formatTime(r.seconds)} | ${r.imagesPerS.toFixed(0)} |`,
  ),
];
console.log(`\n${lines.join('\n')}`);
await writeFile(join(values.out, 'ablation.md'), `${lines.join('\n')}\n`);
await writeFile(join(values.out, 'ablation.json'), `${JSON.stringify(rows, null, 2)}\n`);

function formatTime(s: number): string {
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}
