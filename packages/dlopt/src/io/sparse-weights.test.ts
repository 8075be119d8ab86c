import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { DloptError } from '../errors.js';
import { tempDir } from '../test-support/fixtures.js';
import { Random } from '../util/random.js';
import { MODEL_JSON, WEIGHTS_BIN, loadModel } from './model-files.js';
import { SPARSE_WEIGHTS_BIN, decodeSparseWeights, encodeSparseWeights, loadSparseModel, saveSparseModel } from './sparse-weights.js';

type Spec = tf.io.WeightsManifestEntry;

/** Float32 weights with the given fraction of +0, the rest random (never 0). */
function sparseFloats(count: number, zeroFraction: number, seed: number): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: count }, () => (rng.next() < zeroFraction ? 0 : rng.uniform(0.1, 1) * (rng.next() < 0.5 ? -1 : 1)));
}

/** weights.bin bytes for specs and their values, back to back. */
function weightData(parts: Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out.buffer;
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

const isDloptError = (pattern: RegExp) => (e: unknown): boolean => e instanceof DloptError && pattern.test(e.message);

describe('encodeSparseWeights / decodeSparseWeights', () => {
  it('round-trips bit for bit: -0, NaN payloads, infinities, int32 and odd-sized weights breaking alignment', () => {
    const odd = new Float32Array(1000);
    const words = new Uint32Array(odd.buffer);
    words[1] = 0x80000000; // -0
    words[7] = 0x7fc00001; // a NaN with a payload
    words[8] = 0xffffffff; // another NaN
    odd[9] = Infinity;
    odd[10] = -Infinity;
    odd[11] = 1.5e-45; // smallest subnormal
    odd[500] = -3.25;
    const specs: Spec[] = [
      { name: 'a', shape: [10, 100], dtype: 'float32' },
      { name: 'flag', shape: [3], dtype: 'bool' },
      { name: 'b', shape: [4, 5, 50], dtype: 'float32' },
      { name: 'n', shape: [6], dtype: 'int32' },
      { name: 'empty', shape: [0, 4], dtype: 'float32' },
    ];
    const data = weightData([bytesOf(odd), new Uint8Array([1, 0, 1]), bytesOf(sparseFloats(1000, 0.7, 2)), bytesOf(new Int32Array([0, 0, -1, 0, 7, 0])), new Uint8Array(0)]);
    const encoded = encodeSparseWeights(specs, data);
    const decoded = decodeSparseWeights(encoded, specs);
    assert.deepEqual(new Uint8Array(decoded), new Uint8Array(data));
    assert.ok(encoded.length < data.byteLength / 2, `${encoded.length} bytes for ${data.byteLength}`);
  });

  it('a 90%-sparse weight file is under 20% of the dense one; a dense one costs only the header', () => {
    const specs: Spec[] = [
      { name: 'k1', shape: [3, 3, 32, 64], dtype: 'float32' },
      { name: 'k2', shape: [2048, 10], dtype: 'float32' },
      { name: 'bias', shape: [64], dtype: 'float32' },
    ];
    const sparse = weightData([bytesOf(sparseFloats(18432, 0.9, 1)), bytesOf(sparseFloats(20480, 0.9, 2)), bytesOf(sparseFloats(64, 0, 3))]);
    const encoded = encodeSparseWeights(specs, sparse);
    assert.ok(encoded.length < 0.2 * sparse.byteLength, `${encoded.length} of ${sparse.byteLength}`);
    assert.deepEqual(new Uint8Array(decodeSparseWeights(encoded, specs)), new Uint8Array(sparse));

    const dense = weightData([bytesOf(sparseFloats(18432, 0, 4)), bytesOf(sparseFloats(20480, 0, 5)), bytesOf(sparseFloats(64, 0, 6))]);
    const encodedDense = encodeSparseWeights(specs, dense);
    // Header 16 bytes, 5 per weight, checksum 4.
    assert.ok(encodedDense.length <= dense.byteLength + 16 + 5 * 3 + 4, `${encodedDense.length} for ${dense.byteLength}`);
    assert.deepEqual(new Uint8Array(decodeSparseWeights(encodedDense, specs)), new Uint8Array(dense));
  });

  it('rejects truncated, damaged or mismatched files, naming the source', () => {
    const specs: Spec[] = [{ name: 'w', shape: [100], dtype: 'float32' }];
    const encoded = encodeSparseWeights(specs, bytesOf(sparseFloats(100, 0.8, 1)).slice().buffer);
    const source = '/models/m/weights.sparse.bin';
    assert.throws(() => decodeSparseWeights(encoded.subarray(0, encoded.length - 9), specs, source), isDloptError(/^\/models\/m\/weights\.sparse\.bin is corrupt.*checksum/));
    assert.throws(() => decodeSparseWeights(encoded.subarray(0, 10), specs, source), isDloptError(/weights\.sparse\.bin .*no DLSW header/));
    const damaged = encoded.slice();
    damaged[40]! ^= 0x10;
    assert.throws(() => decodeSparseWeights(damaged, specs, source), isDloptError(/weights\.sparse\.bin .*checksum mismatch/));
    assert.throws(() => decodeSparseWeights(encoded, [{ name: 'w', shape: [101], dtype: 'float32' }], source), isDloptError(/weights\.sparse\.bin .*model\.json describes 404/));
    assert.throws(() => decodeSparseWeights(encoded, [...specs, ...specs], source), isDloptError(/holds 1 weights but model\.json lists 2/));
    assert.throws(() => encodeSparseWeights(specs, new ArrayBuffer(399)), isDloptError(/399 bytes but the manifest describes 400/));
  });
});

describe('saveSparseModel / loadSparseModel', () => {
  before(async () => {
    await initBackend('cpu');
  });

  function sparseModel(): tfl.LayersModel {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 16, kernelSize: 3, activation: 'relu' }),
        tfl.layers.batchNormalization(),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
    // 90% of every kernel zeroed, the way pruning leaves them.
    const weights = model.getWeights().map((w, i) => {
      if (w.shape.length < 2) return w.clone();
      const size = w.size;
      const values = sparseFloats(size, 0.9, 10 + i).map((v) => v * 0.2);
      return tf.tensor(values, w.shape);
    });
    model.setWeights(weights);
    tf.dispose(weights);
    return model;
  }

  it('writes the standard files plus weights.sparse.bin, which alone loads the same model', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const model = sparseModel();
      const sizes = await saveSparseModel(model, dir, { note: 'pruned' });
      const dense = await readFile(join(dir, WEIGHTS_BIN));
      const sparse = await readFile(join(dir, SPARSE_WEIGHTS_BIN));
      assert.equal(sizes.denseBytes, dense.length);
      assert.equal(sizes.sparseBytes, sparse.length);
      assert.ok(sizes.sparseBytes < 0.2 * sizes.denseBytes, `${sizes.sparseBytes} of ${sizes.denseBytes}`);
      assert.ok(sizes.gzipDenseBytes > 0 && sizes.gzipDenseBytes < sizes.denseBytes);
      assert.ok(sizes.gzipSparseBytes > 0);

      const x = tf.randomUniform([4, 8, 8, 3], 0, 1, 'float32', 3);
      const expected = (model.predict(x) as tf.Tensor).dataSync();
      // Any tfjs loader still reads model.json + weights.bin.
      const standard = await loadModel(dir);
      assert.deepEqual((standard.model.predict(x) as tf.Tensor).dataSync(), expected);
      assert.deepEqual(standard.modelJson.userDefinedMetadata, { note: 'pruned' });
      await rm(join(dir, WEIGHTS_BIN));
      const loaded = await loadSparseModel(dir);
      assert.deepEqual((loaded.predict(x) as tf.Tensor).dataSync(), expected);
      assert.deepEqual(
        loaded.getWeights().map((w) => Array.from(w.dataSync())),
        model.getWeights().map((w) => Array.from(w.dataSync())),
      );
      assert.ok(await loadSparseModel(join(dir, MODEL_JSON)));
      tf.dispose(x);
      for (const m of [model, standard.model, loaded]) m.dispose();
    } finally {
      await cleanup();
    }
  });

  it('a truncated or missing sparse file is an error naming it', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const model = sparseModel();
      await saveSparseModel(model, dir);
      model.dispose();
      const path = join(dir, SPARSE_WEIGHTS_BIN);
      const bytes = await readFile(path);
      await writeFile(path, bytes.subarray(0, bytes.length - 100));
      const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      await assert.rejects(loadSparseModel(dir), isDloptError(new RegExp(`^${escaped} is corrupt`)));
      await rm(path);
      await assert.rejects(loadSparseModel(dir), isDloptError(new RegExp(`cannot read ${escaped}`)));
    } finally {
      await cleanup();
    }
  });
});
