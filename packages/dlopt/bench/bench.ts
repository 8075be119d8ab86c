/**
 * dlopt benchmarks: `npm run bench` (add `-- --quick` for fewer repetitions).
 * Absolute times drift on a shared machine, so each section also reports a
 * ratio measured in the same run against a reference (tfjs's stock kernel,
 * or the same work done another way).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/backend.js';
import { stockCpuKernel } from '../src/backend/cpu-kernels/register.js';
import { makeBatch } from '../src/data/batches.js';
import { loadCifar10 } from '../src/data/cifar10.js';
import { createModel } from '../src/models/presets.js';
import { cifarFixture, tempDir, writeTarGz } from '../src/test-support/fixtures.js';
import { Random } from '../src/util/random.js';

const quick = process.argv.includes('--quick');
const reps = quick ? 2 : 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timeIt(fn: () => unknown | Promise<unknown>, n = reps): Promise<number> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

function row(name: string, value: string, note = ''): void {
  console.log(`${name.padEnd(52)} ${value.padStart(14)}  ${note}`);
}

const backend = await initBackend('cpu');
console.log(`dlopt benchmarks — backend ${backend.name}, node ${process.version}, ${reps} repetitions (median)\n`);

// 1. Reading CIFAR-10 straight from the .tar.gz.
{
  const shared = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'datasets', 'cifar-10-train-binary.tar.gz');
  const path = process.env.DLOPT_DATA ?? (existsSync(shared) ? shared : undefined);
  let archive = path;
  let cleanup: (() => Promise<void>) | undefined;
  if (!archive) {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    archive = await writeTarGz(join(tmp.dir, 'synthetic.tar.gz'), cifarFixture(2000, 2000).files);
  }
  let count = 0;
  const ms = await timeIt(async () => {
    const d = await loadCifar10(archive, { test: 'optional' });
    count = (d.train?.count ?? 0) + (d.test?.count ?? 0);
  }, quick ? 1 : 3);
  row('CIFAR-10 read from .tar.gz (stream + decode)', `${(ms / 1000).toFixed(2)} s`, `${count} images, ${Math.round(count / (ms / 1000))} images/s — ${archive}`);
  await cleanup?.();
}

// 2. uint8 → float batches.
{
  const fixture = cifarFixture(2000, null);
  const set = (await import('../src/data/cifar10-format.js')).decodeCifarBatch('b', fixture.files.get('data_batch_1.bin')!);
  const order = new Random(1).permutation(set.count);
  const ms = await timeIt(() => {
    for (let s = 0; s + 64 <= set.count; s += 64) {
      const { x, y } = makeBatch(set, order.subarray(s, s + 64), 10);
      tf.dispose([x, y]);
    }
  });
  const images = Math.floor(set.count / 64) * 64;
  row('makeBatch (shuffled uint8 → float [0,1] + one-hot)', `${Math.round(images / (ms / 1000))} img/s`, `batch 64`);
}

// 3. Conv2DBackpropFilter: dlopt's loop kernel against tfjs's stock cpu kernel, seed-CNN shapes.
{
  const stock = stockCpuKernel(tf.Conv2DBackpropFilter)!;
  const batch = quick ? 4 : 16;
  for (const [name, xShape, filterShape, dyShape] of [
    ['conv1', [batch, 32, 32, 3], [3, 3, 3, 32], [batch, 30, 30, 32]],
    ['conv2', [batch, 15, 15, 32], [3, 3, 32, 64], [batch, 13, 13, 64]],
  ] as const) {
    const x = tf.randomUniform([...xShape]);
    const dy = tf.randomUniform([...dyShape]);
    const attrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [...filterShape] };
    const ours = await timeIt(() => tf.dispose(tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs as never) as tf.Tensor));
    const theirs = await timeIt(() => {
      const info = stock.kernelFunc({ inputs: { x, dy }, backend: tf.backend(), attrs: attrs as never }) as tf.TensorInfo;
      tf.backend().disposeData(info.dataId);
    }, quick ? 1 : 2);
    row(`Conv2DBackpropFilter ${name}, batch ${batch}`, `${ours.toFixed(1)} ms`, `stock tfjs ${theirs.toFixed(0)} ms → ${(theirs / ours).toFixed(1)}× faster`);
    tf.dispose([x, dy]);
  }
}

// 4. A whole training step of the seed CNN.
{
  const batch = 64;
  const model = createModel('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1 });
  const x = tf.randomUniform([batch, 32, 32, 3]);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32') as tf.Tensor1D, 10);
  const ms = await timeIt(() => model.trainOnBatch(x, y), quick ? 1 : 3);
  row(`seed-cnn training step, batch ${batch}`, `${(batch / (ms / 1000)).toFixed(1)} img/s`, `${ms.toFixed(0)} ms/step`);
  const inf = await timeIt(() => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync()), quick ? 1 : 3);
  row(`seed-cnn inference, batch ${batch}`, `${(batch / (inf / 1000)).toFixed(1)} img/s`, `training step costs ${(ms / inf).toFixed(1)}× inference`);
}
