import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Random } from '../util/random.js';
import type { ImageBatch } from './image-batch.js';
import { CutMix, GaussianNoise, Mixup } from './mix.js';

before(async () => {
  await tf.setBackend('cpu');
});

function oneHot(count: number, classes: number, label: (i: number) => number): Float32Array {
  const labels = new Float32Array(count * classes);
  for (let i = 0; i < count; i++) labels[i * classes + label(i)] = 1;
  return labels;
}

function rowSums(labels: Float32Array, classes: number): number[] {
  const sums: number[] = [];
  for (let i = 0; i < labels.length / classes; i++) sums.push(labels.subarray(i * classes, (i + 1) * classes).reduce((a, b) => a + b, 0));
  return sums;
}

describe('Mixup', () => {
  it('gives λ·x + (1−λ)·x[perm] and the same blend of labels, λ and perm replayed from the seed', () => {
    const [n, h, w, c, classes] = [5, 2, 3, 3, 5];
    const data = new Float32Array(n * h * w * c);
    for (let i = 0; i < data.length; i++) data[i] = ((i * 37) % 101) / 100;
    const images = tf.tensor4d(data, [n, h, w, c]);
    const labels = oneHot(n, classes, (i) => i);
    const seed = 21;
    const out = new Mixup(0.4).applyFloat(images, labels, classes, new Random(seed));

    const replay = new Random(seed);
    const lambda = replay.beta(0.4, 0.4);
    const perm = replay.permutation(n);
    assert.ok(lambda > 0.05 && lambda < 0.95, `λ = ${lambda}: pick a seed with a real blend`);
    assert.ok(perm.some((j, i) => j !== i), 'pick a seed whose permutation moves images');

    assert.deepEqual(out.shape, [n, h, w, c]);
    const got = out.dataSync();
    const size = h * w * c;
    for (let i = 0; i < n; i++)
      for (let p = 0; p < size; p++) {
        const expected = lambda * data[i * size + p]! + (1 - lambda) * data[perm[i]! * size + p]!;
        assert.ok(Math.abs(got[i * size + p]! - expected) < 1e-6, `image ${i} value ${p}: ${got[i * size + p]} vs ${expected}`);
      }
    for (let i = 0; i < n; i++)
      for (let k = 0; k < classes; k++) {
        const expected = (k === i ? lambda : 0) + (k === perm[i] ? 1 - lambda : 0);
        assert.ok(Math.abs(labels[i * classes + k]! - expected) < 1e-6, `label ${i},${k}: ${labels[i * classes + k]} vs ${expected}`);
      }
    for (const s of rowSums(labels, classes)) assert.ok(Math.abs(s - 1) < 1e-6);
    tf.dispose([images, out]);
  });

  it('keeps soft labels summing to 1 and leaks no tensors', () => {
    const images = tf.randomUniform([8, 4, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const labels = oneHot(8, 3, (i) => i % 3);
    const mixup = new Mixup(1);
    const tensors = tf.memory().numTensors;
    let x = images;
    for (let round = 0; round < 3; round++) {
      const next = mixup.applyFloat(x, labels, 3, new Random(round));
      if (x !== images) x.dispose();
      x = next;
    }
    assert.equal(tf.memory().numTensors, tensors + 1, 'only the result remains');
    for (const s of rowSums(labels, 3)) assert.ok(Math.abs(s - 1) < 1e-5);
    assert.ok(labels.some((v) => v > 0 && v < 1), 'labels were blended');
    tf.dispose([images, x]);
  });

  it('rejects alpha <= 0', () => {
    for (const a of [0, -1, Number.NaN]) assert.throws(() => new Mixup(a), (e: unknown) => e instanceof RangeError && /mixup: alpha must be > 0/.test(e.message));
    assert.equal(new Mixup().name, 'mixup');
  });
});

describe('CutMix', () => {
  const [n, h, w, c] = [5, 8, 8, 3];
  const size = h * w * c;

  /** Five images that differ from each other at every byte; class i for image i. */
  function batchOf(): ImageBatch {
    const images = new Uint8Array(n * size);
    for (let i = 0; i < n; i++) for (let p = 0; p < size; p++) images[i * size + p] = (i * 51 + p) % 256;
    return { images, labels: oneHot(n, n, (i) => i), count: n, height: h, width: w, channels: c, classes: n };
  }

  /** Checks one cutmix result; returns the box's area fraction (0 when nothing was pasted). */
  function check(b: ImageBatch, source: Uint8Array): number {
    // The box: where any image changed (an image with another partner changes at every pixel of it).
    let y0 = h;
    let y1 = 0;
    let x0 = w;
    let x1 = 0;
    for (let i = 0; i < n; i++)
      for (let p = 0; p < size; p++)
        if (b.images[i * size + p] !== source[i * size + p]) {
          const y = Math.floor(p / (w * c));
          const x = Math.floor(p / c) % w;
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y + 1);
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x + 1);
        }
    const fraction = y1 > y0 ? ((y1 - y0) * (x1 - x0)) / (h * w) : 0;
    const partners = new Set<number>();
    for (let i = 0; i < n; i++) {
      const row = b.labels.subarray(i * n, (i + 1) * n);
      // The partner is the other class with weight; none means the image kept itself (or the box was empty).
      let j = i;
      for (let k = 0; k < n; k++) if (k !== i && row[k]! > 0) j = k;
      partners.add(j);
      const expected = Array.from({ length: n }, (_, k) => (j === i ? (k === i ? 1 : 0) : k === i ? 1 - fraction : k === j ? fraction : 0));
      for (let k = 0; k < n; k++) assert.ok(Math.abs(row[k]! - expected[k]!) < 1e-6, `image ${i}: labels ${[...row]}, expected ${expected} (box ${y0}:${y1}, ${x0}:${x1})`);
      for (let p = 0; p < size; p++) {
        const y = Math.floor(p / (w * c));
        const x = Math.floor(p / c) % w;
        const inside = y >= y0 && y < y1 && x >= x0 && x < x1;
        const want = source[(inside ? j : i) * size + p];
        assert.equal(b.images[i * size + p], want, `image ${i} (partner ${j}) at (${x}, ${y}) ${inside ? 'inside' : 'outside'} the box`);
      }
    }
    assert.equal(partners.size, n, 'partners form a permutation');
    return fraction;
  }

  it('p=1 pastes a box from a partner: inside the partner, outside the original, labels weighted by the exact box area', () => {
    const fractions: number[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const b = batchOf();
      const source = b.images.slice();
      new CutMix(1, 1).apply(b, new Random(seed));
      fractions.push(check(b, source));
      for (let i = 0; i < n; i++) {
        const s = b.labels.subarray(i * n, (i + 1) * n).reduce((a, v) => a + v, 0);
        assert.ok(Math.abs(s - 1) < 1e-6);
      }
    }
    const mixed = fractions.filter((f) => f > 0 && f < 1);
    assert.ok(mixed.length > 30, `only ${mixed.length} of 40 batches got a partial box: ${fractions}`);
    assert.ok(new Set(fractions).size > 10, 'box sizes vary');
  });

  it('p=0 changes nothing; p=0.5 mixes about half of the batches', () => {
    const b = batchOf();
    const images = b.images.slice();
    const labels = b.labels.slice();
    new CutMix(1, 0).apply(b, new Random(1));
    assert.deepEqual(b.images, images);
    assert.deepEqual(b.labels, labels);
    let mixed = 0;
    for (let seed = 0; seed < 400; seed++) {
      const x = batchOf();
      new CutMix(1, 0.5).apply(x, new Random(seed));
      if (x.labels.some((v, k) => v !== labels[k])) mixed++;
    }
    assert.ok(mixed > 160 && mixed < 240, `${mixed} of 400 batches mixed`);
  });

  it('rejects bad alpha and p', () => {
    for (const a of [0, -1]) assert.throws(() => new CutMix(a), (e: unknown) => e instanceof RangeError && /cutmix: alpha must be > 0/.test(e.message));
    for (const p of [-0.1, 1.5]) assert.throws(() => new CutMix(1, p), (e: unknown) => e instanceof RangeError && /cutmix: p must be in \[0, 1\]/.test(e.message));
    assert.equal(new CutMix().name, 'cutmix');
  });
});

describe('GaussianNoise', () => {
  it('adds zero-mean noise of the given standard deviation; the same seed gives the same noise', () => {
    const images = tf.fill([16, 32, 32, 3], 0.5) as tf.Tensor4D;
    const noise = new GaussianNoise(0.1);
    const a = noise.applyFloat(images, new Float32Array(0), 0, new Random(3));
    const b = noise.applyFloat(images, new Float32Array(0), 0, new Random(3));
    const other = noise.applyFloat(images, new Float32Array(0), 0, new Random(4));
    assert.ok(!images.isDisposed, 'the input is the caller’s to dispose');
    const values = a.dataSync();
    let sum = 0;
    let squares = 0;
    for (const v of values) {
      sum += v - 0.5;
      squares += (v - 0.5) ** 2;
    }
    const mean = sum / values.length;
    const std = Math.sqrt(squares / values.length - mean * mean);
    assert.ok(Math.abs(mean) < 0.003, `mean ${mean}`);
    assert.ok(Math.abs(std - 0.1) < 0.003, `std ${std}`);
    assert.deepEqual(b.dataSync(), values);
    assert.notDeepEqual(other.dataSync(), values);
    tf.dispose([images, a, b, other]);
  });

  it('rejects std <= 0', () => {
    for (const s of [0, -0.1]) assert.throws(() => new GaussianNoise(s), (e: unknown) => e instanceof RangeError && /noise: std must be > 0/.test(e.message));
    assert.equal(new GaussianNoise().name, 'noise');
  });
});
