/**
 * dlopt benchmarks: `npm run bench` at the repository root (after the native
 * backend's kernel benchmarks), or `node --import tsx packages/dlopt/bench/bench.ts [--quick]`.
 * Prints one JSON line per figure, then a table. Absolute times drift on a
 * shared machine, so comparisons are made within the same run (native backend
 * against tfjs's cpu backend).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/backend.js';
import { makeBatch } from '../src/data/batches.js';
import { loadCifar10 } from '../src/data/cifar10.js';
import type { ImageSet } from '../src/data/image-set.js';
import { sliceImageSet } from '../src/data/image-set.js';
import { createClassifier } from '../src/train/compile.js';
import { cifarFixture, tempDir, writeTarGz } from '../src/test-support/fixtures.js';
import { evaluateModel } from '../src/train/evaluate.js';
import { fitModel } from '../src/train/fit.js';
import { Random } from '../src/util/random.js';

const quick = process.argv.includes('--quick');
const rows: { name: string; value: number; unit: string; note: string }[] = [];
function report(name: string, value: number, unit: string, note = ''): void {
  rows.push({ name, value, unit, note });
  console.log(JSON.stringify({ bench: name, value: Number(value.toPrecision(4)), unit, ...(note && { note }) }));
}
const mb = (bytes: number) => bytes / (1024 * 1024);

// Data: the shared CIFAR-10 copy when present, else a synthetic archive in the same format.
const shared = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'datasets', 'cifar-10-train-binary.tar.gz');
let archive = process.env.DLOPT_DATA ?? (existsSync(shared) ? shared : undefined);
let cleanup: (() => Promise<void>) | undefined;
if (!archive) {
  const tmp = await tempDir();
  cleanup = tmp.cleanup;
  archive = await writeTarGz(join(tmp.dir, 'synthetic.tar.gz'), cifarFixture(2000, 2000).files);
}
let t = performance.now();
const dataset = await loadCifar10(archive, { test: 'optional' });
const seconds = (performance.now() - t) / 1000;
const train = dataset.train!;
report('CIFAR-10 read from .tar.gz', train.count / seconds, 'images/s', `${train.count} images in ${seconds.toFixed(2)} s`);

/** Training images/s over `steps` batches of the real training loop (after one warm-up batch). */
async function trainRate(set: ImageSet, batchSize: number, steps: number): Promise<number> {
  const model = createClassifier('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
  await fitModel(model, { train: sliceImageSet(set, 0, batchSize) }, { epochs: 1, batchSize, numClasses: 10, seed: 1 });
  const history = await fitModel(model, { train: sliceImageSet(set, 0, batchSize * steps) }, { epochs: 1, batchSize, numClasses: 10, seed: 1 });
  model.dispose();
  return history[0]!.images_per_s;
}

const backend = await initBackend();
const onNative = backend.name === 'native';
if (!onNative) console.error(`note: the native backend is not available (backend: ${backend.name}); figures are for ${backend.name}`);

{
  const order = new Random(1).permutation(4096);
  t = performance.now();
  for (let s = 0; s + 64 <= 4096; s += 64) tf.dispose(Object.values(makeBatch(train, order.subarray(s, s + 64), 10)));
  report(`makeBatch uint8 → float + one-hot (${backend.name})`, 4096 / ((performance.now() - t) / 1000), 'images/s', 'batch 64, shuffled');
}

const rates: Record<number, number> = {};
for (const batch of [64, 128]) {
  const steps = quick ? 20 : Math.min(200, Math.floor(train.count / batch));
  rates[batch] = await trainRate(train, batch, steps);
  report(`seed-cnn training, batch ${batch} (${backend.name})`, rates[batch]!, 'images/s', `${steps} steps`);
}
{
  const model = createClassifier('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
  const evalSet = sliceImageSet(train, 0, Math.min(train.count, quick ? 2048 : 10000));
  await evaluateModel(model, sliceImageSet(evalSet, 0, 256), { batchSize: 256, numClasses: 10 });
  const result = await evaluateModel(model, evalSet, { batchSize: 256, numClasses: 10 });
  report(`seed-cnn inference, batch 256 (${backend.name})`, result.imagesPerS, 'images/s', `${evalSet.count} images`);
  model.dispose();
}

// Memory: full epochs over part of the data, watching tensors and RSS between epochs.
{
  const model = createClassifier('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
  const subset = sliceImageSet(train, 0, Math.min(train.count, quick ? 2048 : 6400));
  const tensors: number[] = [];
  const rss: number[] = [];
  await fitModel(model, { train: subset }, {
    epochs: quick ? 3 : 10, batchSize: 64, numClasses: 10, seed: 1,
    observer: { onEpochEnd: () => { tensors.push(tf.memory().numTensors); rss.push(process.memoryUsage().rss); } },
  });
  report('tensors after each epoch', tensors.at(-1)!, 'tensors', tensors.join(' → '));
  // Growth is judged over the second half (the first epochs warm the pools and V8's heap up).
  const half = rss.slice(Math.floor(rss.length / 2));
  report('RSS change over the second half of the epochs', mb(half.at(-1)! - half[0]!), 'MiB', rss.map((r) => mb(r).toFixed(0)).join(' → ') + ' MiB');
  report('peak RSS (whole benchmark so far)', process.resourceUsage().maxRSS / 1024, 'MiB', 'dataset (150 MB uint8) included');
  model.dispose();
}

// The same training step on tfjs's cpu backend, a few batches, for the ratio.
if (onNative) {
  await initBackend('cpu');
  const steps = quick ? 1 : 2;
  const cpuRate = await trainRate(train, 64, steps);
  report('seed-cnn training, batch 64 (tfjs cpu)', cpuRate, 'images/s', `${steps} steps`);
  report('native vs tfjs cpu, training batch 64', rates[64]! / cpuRate, 'x', 'same run');
}
await cleanup?.();

console.log('');
for (const r of rows) console.log(`${r.name.padEnd(48)} ${r.value.toFixed(1).padStart(10)} ${r.unit.padEnd(9)} ${r.note}`);
