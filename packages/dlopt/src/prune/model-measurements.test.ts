import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { saveModel } from '../io/model-files.js';
import { summarizeModel } from '../models/summary.js';
import { syntheticImages, tempDir } from '../test-support/fixtures.js';
import { countModel, measureThroughput, modelFileSizes } from './model-measurements.js';

function small(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, activation: 'relu', biasInitializer: 'ones' }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 2, biasInitializer: 'ones' }));
  return m;
}

describe('model measurements', () => {
  before(async () => {
    await initBackend();
  });

  it('counts nonzero parameters and the FLOPs left when zero weights are skipped', () => {
    const model = small();
    const dense = countModel(model);
    assert.equal(dense.nonzeroParams, dense.params);
    assert.equal(dense.sparseFlops, dense.flops);
    const conv = model.layers[0]!;
    const [kernel, bias] = conv.getWeights();
    // Zero exactly half of the conv kernel.
    const values = kernel!.dataSync().slice();
    for (let i = 0; i < values.length; i += 2) values[i] = 0;
    conv.setWeights([tf.tensor(values, kernel!.shape), bias!]);
    const sparse = countModel(model);
    assert.equal(sparse.nonzeroParams, dense.params - Math.ceil(values.length / 2));
    const convFlops = summarizeModel(model).layers[0]!.flops!;
    assert.ok(Math.abs(dense.flops - sparse.sparseFlops - convFlops / 2) < 1e-6);
    model.dispose();
  });

  it('file sizes are what saving writes', async () => {
    const model = small();
    const { dir, cleanup } = await tempDir();
    try {
      await saveModel(model, dir);
      const sizes = await modelFileSizes(model);
      assert.equal(sizes.weights, (await stat(join(dir, 'weights.bin'))).size);
      assert.ok(sizes.weights_gzip > 0 && sizes.sparse_weights > 0 && sizes.model_json > 100);
    } finally {
      await cleanup();
      model.dispose();
    }
  });

  it('measures every model on the same images and leaves no tensor behind', async () => {
    const a = small();
    const b = small();
    const before = tf.memory().numTensors;
    const rates = await measureThroughput([a, b], syntheticImages(10, 1, 8), { images: 24, batchSize: 8, rounds: 2 });
    assert.equal(rates.length, 2);
    assert.ok(rates.every((r) => r > 0 && Number.isFinite(r)));
    assert.equal(tf.memory().numTensors, before);
    a.dispose();
    b.dispose();
  });
});
