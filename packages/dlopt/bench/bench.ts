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
import { Cutout } from '../src/augment/cutout.js';
import { RandomCrop } from '../src/augment/crop.js';
import { HorizontalFlip } from '../src/augment/flip.js';
import { gatherBatch } from '../src/augment/image-batch.js';
import { AugmentPipeline } from '../src/augment/pipeline.js';
import { RandAugment } from '../src/augment/rand-augment.js';
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

// Augmentation on one core (plain JS on the main thread), as training does it: for each shuffled
// batch of 64, gatherBatch (copy out, one-hot labels) then the byte stage with that batch's stream.
// 10,000 images = 156 batches of 64 and one of 16; best of `repeats` (after a warm-up pass).
function augmentSeconds(pipeline: AugmentPipeline, repeats: number): number {
  const images = 10000;
  const order = new Random(2).permutation(train.count);
  const indices = new Uint32Array(images);
  for (let i = 0; i < images; i++) indices[i] = order[i % train.count]!;
  const pass = (batches: number) => {
    for (let b = 0, s = 0; b < batches && s < images; b++, s += 64) {
      const batch = gatherBatch(train, indices.subarray(s, Math.min(images, s + 64)), 10);
      pipeline.applyBytes(batch, AugmentPipeline.random(1, 1, b + 1));
    }
  };
  pass(16);
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    pass(Infinity);
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return best;
}
const cifarAugment = new AugmentPipeline([new HorizontalFlip(), new RandomCrop(4, 'reflect'), new Cutout(8)]);
const augmentS = augmentSeconds(cifarAugment, 3);
const augmentBatchMs = (augmentS / (10000 / 64)) * 1000;
report(`augment ${cifarAugment.describe()}, 1 core`, augmentS, 's/10k img', 'crop 4 reflect, cutout 8; gatherBatch + applyBytes, batch 64; goal: well under 1 s');
report('augment flip+crop+cutout, per batch of 64', augmentBatchMs, 'ms/batch', 'same measurement');
report('augment RandAugment(2, 9), 1 core', augmentSeconds(new AugmentPipeline([new RandAugment(2, 9)]), quick ? 1 : 2), 's/10k img', 'for information; gatherBatch + applyBytes, batch 64');

const rates: Record<number, number> = {};
for (const batch of [64, 128]) {
  const steps = quick ? 20 : Math.min(200, Math.floor(train.count / batch));
  rates[batch] = await trainRate(train, batch, steps);
  report(`seed-cnn training, batch ${batch} (${backend.name})`, rates[batch]!, 'images/s', `${steps} steps`);
}
{
  const stepMs = (64 / rates[64]!) * 1000;
  report('augment flip+crop+cutout / training step, batch 64', (augmentBatchMs / stepMs) * 100, '%', `${augmentBatchMs.toFixed(2)} ms vs a ${stepMs.toFixed(1)} ms step (${backend.name}), same run`);
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
for (const r of rows) console.log(`${r.name.padEnd(48)} ${(r.value < 10 ? r.value.toPrecision(3) : r.value.toFixed(1)).padStart(10)} ${r.unit.padEnd(9)} ${r.note}`);
