import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { ImageSet } from '../data/image-set.js';
import { Random } from '../util/random.js';
import type { Augmentation, FloatAugmentation } from './augmentation.js';
import { Cutout } from './cutout.js';
import { RandomCrop } from './crop.js';
import { HorizontalFlip } from './flip.js';
import { type ImageBatch, gatherBatch } from './image-batch.js';
import { Mixup } from './mix.js';
import { AugmentPipeline } from './pipeline.js';

before(async () => {
  await tf.setBackend('cpu');
});

function draws(rng: Random, n = 6): number[] {
  return Array.from({ length: n }, () => rng.next());
}

function set(count: number): ImageSet {
  const [h, w, c] = [8, 8, 3];
  const images = new Uint8Array(count * h * w * c);
  for (let i = 0; i < images.length; i++) images[i] = 1 + ((i * 13) % 250);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % 4;
  return { images, labels, count, height: h, width: w, channels: c };
}

/** Records its calls and writes its mark into the first byte, so the order shows in the image. */
class Marker implements Augmentation {
  constructor(
    readonly name: string,
    private readonly log: { name: string; rng: Random; first: number }[],
  ) {}
  apply(batch: ImageBatch, rng: Random): void {
    this.log.push({ name: this.name, rng, first: batch.images[0]! });
    batch.images[0] = this.name.charCodeAt(0);
  }
}

class FloatOp implements FloatAugmentation {
  constructor(
    readonly name: string,
    private readonly fn: (x: tf.Tensor4D) => tf.Tensor4D,
  ) {}
  applyFloat(images: tf.Tensor4D): tf.Tensor4D {
    return this.fn(images);
  }
}

describe('AugmentPipeline.random', () => {
  it('gives the same stream for the same (seed, epoch, batch) and different ones otherwise', () => {
    const base = draws(AugmentPipeline.random(1, 2, 3));
    assert.deepEqual(draws(AugmentPipeline.random(1, 2, 3)), base);
    const others = [
      [2, 2, 3],
      [1, 3, 3],
      [1, 2, 4],
      [1, 3, 2],
      [0, 2, 3],
      [1, 1, 1],
    ] as const;
    const seen = new Set([base.join()]);
    for (const [s, e, b] of others) {
      const d = draws(AugmentPipeline.random(s, e, b));
      assert.notDeepEqual(d, base, `(${s}, ${e}, ${b})`);
      seen.add(d.join());
    }
    assert.equal(seen.size, others.length + 1, 'all streams differ from each other');
  });

  it('differs from a plain Random of the same seed (its own stream)', () => {
    assert.notDeepEqual(draws(AugmentPipeline.random(5, 1, 1)), draws(new Random(5)));
  });
});

describe('AugmentPipeline', () => {
  it('applies the byte stage in order, all with the same random stream', () => {
    const log: { name: string; rng: Random; first: number }[] = [];
    const pipeline = new AugmentPipeline([new Marker('a', log), new Marker('b', log), new Marker('c', log)]);
    const batch = gatherBatch(set(4), [0, 1, 2, 3], 4);
    const rng = new Random(1);
    pipeline.applyBytes(batch, rng);
    assert.deepEqual(log.map((l) => l.name), ['a', 'b', 'c']);
    assert.deepEqual(log.map((l) => l.first), [1, 'a'.charCodeAt(0), 'b'.charCodeAt(0)]);
    assert.ok(log.every((l) => l.rng === rng));
    assert.equal(batch.images[0], 'c'.charCodeAt(0));
  });

  it('applies the float stage in order and disposes replaced tensors (not one passed through)', () => {
    const pipeline = new AugmentPipeline(
      [],
      [
        new FloatOp('plus1', (x) => tf.tidy(() => tf.add(x, 1))),
        new FloatOp('same', (x) => x),
        new FloatOp('times2', (x) => tf.tidy(() => tf.mul(x, 2))),
      ],
    );
    const batch = gatherBatch(set(2), [0, 1], 4);
    const input = tf.fill([2, 8, 8, 3], 3) as tf.Tensor4D;
    const tensors = tf.memory().numTensors;
    const out = pipeline.applyFloat(input, batch, new Random(1));
    assert.ok(input.isDisposed, 'the input was replaced, so it is disposed');
    assert.equal(tf.memory().numTensors, tensors, 'one tensor in, one out');
    assert.ok(out.dataSync().every((v) => v === 8), '(3 + 1) × 2, not 3 × 2 + 1');
    out.dispose();
    const none = new AugmentPipeline([]);
    const x = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    assert.equal(none.applyFloat(x, batch, new Random(1)), x);
    assert.ok(!x.isDisposed);
    x.dispose();
  });

  it('a float stage (mixup) rewrites the batch labels', () => {
    const pipeline = new AugmentPipeline([], [new Mixup(1)]);
    const batch = gatherBatch(set(8), [0, 1, 2, 3, 4, 5, 6, 7], 4);
    const labels = batch.labels.slice();
    const x = tf.randomUniform([8, 8, 8, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const out = pipeline.applyFloat(x, batch, new Random(3));
    assert.notDeepEqual(batch.labels, labels);
    out.dispose();
  });

  it('augments training batches reproducibly per (seed, epoch, batch), as the training loop does', () => {
    const data = set(16);
    const indices = Array.from({ length: 16 }, (_, i) => i);
    const pipeline = new AugmentPipeline([new HorizontalFlip(), new RandomCrop(4), new Cutout(4)]);
    const run = (seed: number, epoch: number, batch: number) => {
      const b = gatherBatch(data, indices, 4);
      pipeline.applyBytes(b, AugmentPipeline.random(seed, epoch, batch));
      return b.images;
    };
    const a = run(1, 1, 1);
    assert.deepEqual(run(1, 1, 1), a);
    assert.notDeepEqual(run(1, 1, 2), a);
    assert.notDeepEqual(run(1, 2, 1), a);
    assert.notDeepEqual(run(2, 1, 1), a);
    assert.notDeepEqual(a, gatherBatch(data, indices, 4).images, 'the batch was augmented');
    assert.deepEqual(data.images, set(16).images, 'the dataset itself is untouched');
  });

  it('describes itself and knows when it is empty', () => {
    assert.equal(new AugmentPipeline([]).describe(), 'none');
    assert.equal(new AugmentPipeline([]).empty, true);
    const p = new AugmentPipeline([new HorizontalFlip(), new RandomCrop(4)], [new Mixup()]);
    assert.equal(p.describe(), 'flip → crop → mixup');
    assert.equal(p.empty, false);
    assert.equal(new AugmentPipeline([], [new Mixup()]).empty, false);
    assert.equal(new AugmentPipeline([new Cutout()]).empty, false);
  });
});
