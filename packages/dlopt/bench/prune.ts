// Accuracy against sparsity for a trained model: unstructured magnitude pruning to 50/80/90% of
// the kernel weights and structured pruning of 25/50% of the filters, each fine-tuned, through the
// real `dlopt prune` CLI one run after another; then the inference throughput of the original and
// every pruned model measured again in one process, passes alternating between the models, so the
// speed-ups share the machine's state. Writes OUT/prune.md and OUT/prune.json. The control
// variant fine-tunes without pruning, to separate what fine-tuning alone does. Variants already in
// OUT are reused, so running the command again only re-measures throughput.
//
//   node --import tsx packages/dlopt/bench/prune.ts --model RUN_DIR [--out runs/prune-bench]
//        [--fine-tune-epochs 2] [--structured l1|l2|bn|apoz|mean-activation] [--only magnitude-80,filters-50]
//   node --import tsx packages/dlopt/bench/prune.ts --model RUN_DIR --measure PRUNED_DIR,PRUNED_DIR…   (throughput only)
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runDlopt } from './dlopt-cli.js';
import { initBackend, loadDataset, loadModel, makeSplits, measureThroughput } from '../src/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    out: { type: 'string', default: 'runs/prune-bench' },
    'fine-tune-epochs': { type: 'string', default: '2' },
    structured: { type: 'string', default: 'l1' },
    only: { type: 'string' },
    'speed-images': { type: 'string', default: '2048' },
    rounds: { type: 'string', default: '5' },
    // Only measure: the original and these finished pruning run directories (comma-separated).
    measure: { type: 'string' },
  },
});
if (!values.model) throw new Error('--model RUN_DIR: the trained model to prune');
const epochs = values['fine-tune-epochs'];
// Magnitude pruning uses one global threshold and one step: the AGP schedule already prunes gradually
// over the first half of the fine-tuning, which is Zhu & Gupta's recipe.
const VARIANTS = [
  { name: 'control', label: 'control: fine-tuned, nothing pruned', flags: ['--method', 'magnitude', '--sparsity', '0'] },
  { name: 'magnitude-50', label: 'weights −50% (magnitude, global, AGP)', flags: ['--method', 'magnitude', '--sparsity', '0.5', '--scope', 'global'] },
  { name: 'magnitude-80', label: 'weights −80% (magnitude, global, AGP)', flags: ['--method', 'magnitude', '--sparsity', '0.8', '--scope', 'global'] },
  { name: 'magnitude-90', label: 'weights −90% (magnitude, global, AGP)', flags: ['--method', 'magnitude', '--sparsity', '0.9', '--scope', 'global'] },
  { name: 'filters-25', label: `filters −25% (${values.structured})`, flags: ['--method', values.structured, '--sparsity', '0.25'] },
  { name: 'filters-50', label: `filters −50% (${values.structured}, 2 steps)`, flags: ['--method', values.structured, '--sparsity', '0.5', '--steps', '2'] },
];
const only = values.only?.split(',');
const variants = values.measure ? [] : only ? VARIANTS.filter((v) => only.includes(v.name)) : VARIANTS;
if (variants.length === 0 && !values.measure) throw new Error(`--only: choose from ${VARIANTS.map((v) => v.name).join(', ')}`);
await mkdir(values.out, { recursive: true });

interface Side {
  params: number;
  nonzeroParams: number;
  flops: number;
  sparseFlops: number;
  files: { weights: number; weights_gzip: number; sparse_weights: number };
  images_per_s: number;
  val_accuracy: number;
}
interface Summary {
  original: Side;
  pruned: Side;
  steps: { step: number; target: number; pruned_accuracy: number | null; val_accuracy: number }[];
  total_seconds: number;
}
const results: { name: string; label: string; dir: string; command: string; summary: Summary }[] = [];
for (const v of variants) {
  const dir = join(values.out, v.name);
  const args = ['prune', '--model', values.model, '--fine-tune-epochs', epochs, '--out', dir, ...v.flags];
  // A variant already run (its summary.json exists) is reused: rerunning re-measures throughput only.
  const done = await readFile(join(dir, 'summary.json'), 'utf8').then(() => true, () => false);
  console.log(`\n== ${v.label}: dlopt ${args.join(' ')}${done ? ' (done before: reused)' : ''}`);
  if (!done) await runDlopt(args);
  results.push({ ...v, dir, command: `dlopt ${args.join(' ')}`, summary: JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as Summary });
}

for (const dir of values.measure?.split(',') ?? []) {
  const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as Summary;
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { prune: Record<string, unknown> };
  const p = config.prune;
  const label = `${p.method} ${p.scope} sparsity ${p.sparsity}, ${p.steps} step(s) × ${p.fineTuneEpochs} epoch(s)`;
  results.push({ name: dir, label, dir, command: `(measured) ${dir}`, summary });
}

// Throughput of all models in one process, alternating.
await initBackend();
const config = JSON.parse(await readFile(join(values.model, 'config.json'), 'utf8')) as { config: { valSize: number }; data: { source: string } };
const dataset = await loadDataset(config.data.source, { cifar: { test: 'skip' } });
const val = makeSplits(dataset, { valSize: config.config.valSize }).val!;
const original = (await loadModel(values.model)).model;
const pruned = await Promise.all(results.map(async (r) => (await loadModel(r.dir)).model));
const rates = await measureThroughput([original, ...pruned], val, { images: Number(values['speed-images']), batchSize: 256, rounds: Number(values.rounds) });

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const base = results[0]?.summary.original;
const lines = [
  `Model: ${values.model}; fine-tuning ${epochs} epoch(s) per step; throughput: batch 256, best of ${values.rounds} alternating passes of ${values['speed-images']} validation images, one process.`,
  '',
  '| variant | val accuracy | change | after pruning, before fine-tuning | nonzero params | FLOPs (dense) | FLOPs (zeros skipped) | weights.bin | sparse file | images/s | speed-up |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  base
    ? `| original | ${pct(base.val_accuracy)} | | | ${base.nonzeroParams.toLocaleString('en')} | ${(base.flops / 1e6).toFixed(2)} M | ${(base.sparseFlops / 1e6).toFixed(2)} M | ${(base.files.weights / 1024).toFixed(0)} KiB | ${(base.files.sparse_weights / 1024).toFixed(0)} KiB | ${rates[0]!.toFixed(0)} | 1.00× |`
    : '',
  ...results.map((r, i) => {
    const p = r.summary.pruned;
    const first = r.summary.steps.map((s) => (s.pruned_accuracy === null ? '—' : pct(s.pruned_accuracy))).join(' / ');
    return (
      `| ${r.label} | ${pct(p.val_accuracy)} | ${((p.val_accuracy - r.summary.original.val_accuracy) * 100).toFixed(2)} pt | ${first} | ` +
      `${p.nonzeroParams.toLocaleString('en')} | ${(p.flops / 1e6).toFixed(2)} M | ${(p.sparseFlops / 1e6).toFixed(2)} M | ${(p.files.weights / 1024).toFixed(0)} KiB | ` +
      `${(p.files.sparse_weights / 1024).toFixed(0)} KiB | ${rates[i + 1]!.toFixed(0)} | ${(rates[i + 1]! / rates[0]!).toFixed(2)}× |`
    );
  }),
  '',
  ...results.map((r) => `- ${r.label}: \`${r.command}\` (${(r.summary.total_seconds / 60).toFixed(1)} min)`),
];
const table = lines.join('\n');
console.log(`\n${table}`);
await writeFile(join(values.out, 'prune.md'), table + '\n');
await writeFile(join(values.out, 'prune.json'), JSON.stringify({ results, rates }, null, 2) + '\n');
