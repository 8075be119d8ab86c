import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Augmentation, FloatAugmentation } from '../augment/augmentation.js';
import { HorizontalFlip } from '../augment/flip.js';
import type { ImageBatch } from '../augment/image-batch.js';
import { Mixup } from '../augment/mix.js';
import { AugmentPipeline } from '../augment/pipeline.js';
import { initBackend } from '../backend/backend.js';
import type { ImageSet } from '../data/image-set.js';
import { syntheticImages } from '../test-support/fixtures.js';
import type { Random } from '../util/random.js';
import { compileClassifier } from './compile.js';
import { fitModel } from './fit.js';
import { createOptimizer } from './optimizers/create-optimizer.js';

const SIDE = 8;
const CLASSES = 10;
const IMAGE = SIDE * SIDE * 3;

function tinyModel(): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(tfl.layers.conv2d({ inputShape: [SIDE, SIDE, 3], filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 31 }) }));
  model.add(tfl.layers.flatten());
  model.add(tfl.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 32 }) }));
  compileClassifier(model, createOptimizer({ name: 'sgd', learningRate: 0.01 }));
  return model;
}

/** Records (copies of) the uint8 batches at its place in the pipeline. */
class BatchRecorder implements Augmentation {
  readonly name = 'recorder';
  readonly batches: { images: Uint8Array; labels: Float32Array; count: number }[] = [];
  apply(batch: ImageBatch): void {
    this.batches.push({ images: batch.images.slice(), labels: batch.labels.slice(), count: batch.count });
  }
}

/** Records the first number of each batch's random stream (place it first). */
class DrawRecorder implements Augmentation {
  readonly name = 'draws';
  readonly draws: number[] = [];
  apply(_batch: ImageBatch, rng: Random): void {
    this.draws.push(rng.next());
  }
}

/** Records the float stage's images and labels after the augmentations before it. */
class FloatRecorder implements FloatAugmentation {
  readonly name = 'float-recorder';
  readonly batches: { images: Float32Array; labels: Float32Array }[] = [];
  applyFloat(images: tf.Tensor4D, labels: Float32Array): tf.Tensor4D {
    this.batches.push({ images: Float32Array.from(images.dataSync()), labels: labels.slice() });
    return images;
  }
}

/** What model.trainOnBatch was given, batch by batch. */
function spyOnTraining(model: tfl.LayersModel): { x: Float32Array; y: Float32Array; shape: number[] }[] {
  const seen: { x: Float32Array; y: Float32Array; shape: number[] }[] = [];
  const original = model.trainOnBatch.bind(model);
  model.trainOnBatch = async (x, y) => {
    const xt = x as tf.Tensor;
    seen.push({ x: Float32Array.from(xt.dataSync()), y: Float32Array.from((y as tf.Tensor).dataSync()), shape: xt.shape });
    return original(x, y);
  };
  return seen;
}

function imageAt(images: Uint8Array, i: number): Uint8Array {
  return images.subarray(i * IMAGE, (i + 1) * IMAGE);
}

function mirrored(image: Uint8Array): Uint8Array {
  const out = new Uint8Array(image.length);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      for (let c = 0; c < 3; c++) out[(y * SIDE + (SIDE - 1 - x)) * 3 + c] = image[(y * SIDE + x) * 3 + c]!;
    }
  }
  return out;
}

/** Dataset index of each distinct image (synthetic images are noisy, so all differ). */
function indexOf(set: ImageSet): Map<string, number> {
  const map = new Map<string, number>();
  for (let i = 0; i < set.count; i++) map.set(Buffer.from(imageAt(set.images, i)).toString('hex'), i);
  return map;
}
const key = (image: Uint8Array) => Buffer.from(image).toString('hex');

const train = syntheticImages(20, 1, SIDE);

async function fit(augment: AugmentPipeline, seed: number, epochs = 1) {
  const model = tinyModel();
  const seen = spyOnTraining(model);
  await fitModel(model, { train }, { epochs, batchSize: 8, numClasses: CLASSES, seed, augment });
  model.dispose();
  return seen;
}

describe('fitModel with augmentation', () => {
  before(async () => {
    await initBackend('cpu');
  });

  it('trains on the augmented batches: a flip with p = 1 mirrors every image the model sees', async () => {
    const before = new BatchRecorder();
    const after = new BatchRecorder();
    const seen = await fit(new AugmentPipeline([before, new HorizontalFlip(1), after]), 3);
    const rows = indexOf(train);
    assert.equal(before.batches.length, 3);
    assert.deepEqual(before.batches.map((b) => b.count), [8, 8, 4]);
    const used = new Set<number>();
    for (const [b, batch] of before.batches.entries()) {
      for (let i = 0; i < batch.count; i++) {
        const original = imageAt(batch.images, i);
        const row = rows.get(key(original));
        assert.ok(row !== undefined, `batch ${b}, image ${i}: the pipeline starts from a dataset row`);
        used.add(row);
        const label = Array.from(batch.labels.subarray(i * CLASSES, (i + 1) * CLASSES));
        assert.equal(label[train.labels[row]!], 1, 'one-hot label of that row');
        const flipped = imageAt(after.batches[b]!.images, i);
        assert.deepEqual(flipped, mirrored(original), 'mirrored');
        assert.notDeepEqual(flipped, original, 'and so changed');
        assert.equal(rows.get(key(flipped)), undefined, 'no longer a dataset row');
      }
    }
    assert.equal(used.size, 20, 'every training image once per epoch');

    // What the model trained on is the flipped batch, scaled to [0, 1].
    assert.equal(seen.length, 3);
    for (const [b, s] of seen.entries()) {
      assert.deepEqual(s.shape, [after.batches[b]!.count, SIDE, SIDE, 3]);
      assert.deepEqual(Uint8Array.from(s.x, (v) => Math.round(v * 255)), after.batches[b]!.images);
      assert.deepEqual(s.y, after.batches[b]!.labels);
    }
  });

  it('draws each batch\'s randomness from (seed, epoch, batch): same seed, same batches; another seed, others', async () => {
    const run = async (seed: number) => {
      const draws = new DrawRecorder();
      const before = new BatchRecorder();
      const after = new BatchRecorder();
      const seen = await fit(new AugmentPipeline([draws, before, new HorizontalFlip(0.5), after]), seed, 2);
      return { draws: draws.draws, before: before.batches, after: after.batches, seen };
    };
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    assert.equal(a.draws.length, 6);
    assert.deepEqual(a.draws, b.draws);
    assert.deepEqual(a.after, b.after, 'identical augmented batches');
    assert.deepEqual(a.seen.map((s) => s.x), b.seen.map((s) => s.x), 'identical training inputs');
    assert.notDeepEqual(a.draws, c.draws);
    assert.notDeepEqual(a.seen.map((s) => s.x), c.seen.map((s) => s.x));
    // Each batch has its own stream, the one AugmentPipeline.random gives (so a resumed run augments the same).
    assert.equal(new Set(a.draws).size, 6);
    let k = 0;
    for (let epoch = 1; epoch <= 2; epoch++) {
      for (let batch = 1; batch <= 3; batch++) assert.equal(a.draws[k++], AugmentPipeline.random(5, epoch, batch).next());
    }
    // p = 0.5 flips some images, not all.
    let flipped = 0;
    a.before.forEach((batch, i) => {
      for (let j = 0; j < batch.count; j++) if (key(imageAt(batch.images, j)) !== key(imageAt(a.after[i]!.images, j))) flipped++;
    });
    assert.ok(flipped > 5 && flipped < 35, `${flipped} of 40 images flipped`);
  });

  it('mixup: the model trains on blended images with the matching soft labels', async () => {
    const bytes = new BatchRecorder();
    const floats = new FloatRecorder();
    const seen = await fit(new AugmentPipeline([bytes], [new Mixup(0.4), floats]), 7);
    assert.equal(seen.length, 3);
    let softRows = 0;
    for (const [b, s] of seen.entries()) {
      const count = bytes.batches[b]!.count;
      const original = bytes.batches[b]!;
      // The model gets exactly what the float stage produced, labels included.
      assert.deepEqual(s.x, floats.batches[b]!.images);
      assert.deepEqual(s.y, floats.batches[b]!.labels);
      // One λ per batch: read it off a row mixed with another class.
      let lambda: number | undefined;
      for (let i = 0; i < count; i++) {
        const row = s.y.subarray(i * CLASSES, (i + 1) * CLASSES);
        const sum = row.reduce((t, v) => t + v, 0);
        assert.ok(Math.abs(sum - 1) < 1e-6, `label rows sum to 1 (${sum})`);
        const nonzero = row.filter((v) => v > 0);
        assert.ok(nonzero.length <= 2);
        if (nonzero.length === 2) {
          softRows++;
          const own = original.labels.subarray(i * CLASSES, (i + 1) * CLASSES).indexOf(1);
          lambda = row[own]!;
        }
      }
      if (lambda === undefined) continue;
      assert.ok(lambda > 0 && lambda < 1);
      // Every image is λ·own + (1 − λ)·some image of the batch.
      for (let i = 0; i < count; i++) {
        const x = s.x.subarray(i * IMAGE, (i + 1) * IMAGE);
        const own = imageAt(original.images, i);
        const partner = Array.from({ length: count }, (_, j) => j).find((j) => {
          const other = imageAt(original.images, j);
          return x.every((v, p) => Math.abs(v - (lambda! * own[p]! + (1 - lambda!) * other[p]!) / 255) < 1e-5);
        });
        assert.ok(partner !== undefined, `batch ${b}, image ${i} is a blend with λ = ${lambda}`);
      }
    }
    assert.ok(softRows > 10, `${softRows} rows with soft labels`);
  });
});
