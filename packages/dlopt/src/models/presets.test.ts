import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/backend.js';
import { reloadThroughJson } from '../test-support/layer-conformance.js';
import { createClassifier } from '../train/compile.js';
import { PRESETS, createModel } from './presets.js';
import { summarizeModel } from './summary.js';

const CIFAR = { inputShape: [32, 32, 3] as const, numClasses: 10 };
const conv = (cin: number, cout: number, k = 3) => k * k * cin * cout;
const bn = (c: number) => 4 * c;

describe('model presets', () => {
  before(async () => {
    await initBackend('native');
  });

  it('vgg-bn has the parameters counted by hand; most of them in its dense layer', () => {
    const convs = conv(3, 32) + conv(32, 32) + conv(32, 64) + conv(64, 64) + conv(64, 128) + conv(128, 128);
    const bns = 2 * (bn(32) + bn(64) + bn(128));
    const fc = 4 * 4 * 128 * 256 + 256;
    const s = summarizeModel(createModel('vgg-bn', { ...CIFAR, seed: 1 }));
    assert.equal(s.params, convs + bns + fc + 256 * 10 + 10);
    assert.ok(fc / s.params > 0.6);
    assert.ok(s.flopsComplete);
  });

  it('resnet-small is ResNet-20: 274,042 parameters by He et al.\'s layout (projection shortcuts)', () => {
    const stage = (cin: number, c: number) =>
      conv(cin, c) + conv(c, c) + (cin === c ? 0 : conv(cin, c, 1) + bn(c)) + 2 * bn(c) + 2 * (2 * conv(c, c) + 2 * bn(c));
    const expected = conv(3, 16) + bn(16) + stage(16, 16) + stage(16, 32) + stage(32, 64) + 64 * 10 + 10;
    const model = createModel('resnet-small', { ...CIFAR, seed: 1 });
    assert.equal(model.countParams(), expected);
    assert.equal(expected, 274042);
    assert.equal(model.layers.filter((l) => l.getClassName() === 'Conv2D').length, 19 + 2);
    assert.equal(model.layers.filter((l) => l.getClassName() === 'Add').length, 9);
  });

  it('each reduced variant has under a sixth of its full model\'s parameters and FLOPs', () => {
    for (const [full, reduced] of [['vgg-bn', 'vgg-bn-reduced'], ['resnet-small', 'resnet-small-reduced']] as const) {
      const a = summarizeModel(createModel(full, { ...CIFAR, seed: 1 }));
      const b = summarizeModel(createModel(reduced, { ...CIFAR, seed: 1 }));
      assert.ok(b.params < a.params / 6, `${reduced}: ${b.params} vs ${a.params}`);
      assert.ok(b.flops < a.flops / 5, `${reduced}: ${b.flops} vs ${a.flops}`);
      assert.ok(b.flopsComplete);
    }
  });

  it('spatial dropout adds a SpatialDropout2D after each pooling stage of seed-cnn and vgg-bn, no parameters', () => {
    for (const [name, stages] of [['seed-cnn', 2], ['vgg-bn', 3]] as const) {
      const plain = createModel(name, { ...CIFAR, seed: 1 });
      const model = createModel(name, { ...CIFAR, seed: 1, regularization: { spatialDropout: 0.2 } });
      const spatial = model.layers.filter((l) => l.getClassName() === 'SpatialDropout2D');
      assert.equal(spatial.length, stages);
      spatial.forEach((l) => assert.equal((l.getConfig() as { rate: number }).rate, 0.2));
      assert.equal(model.countParams(), plain.countParams());
    }
  });

  for (const preset of PRESETS) {
    it(`${preset.name}: same seed same weights; other shapes build; one training step lowers the loss on a fixed batch`, async () => {
      const a = createModel(preset.name, { ...CIFAR, seed: 3 });
      const b = createModel(preset.name, { ...CIFAR, seed: 3 });
      const wa = a.getWeights().map((w) => w.dataSync());
      b.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), wa[i]));
      const grey = createModel(preset.name, { inputShape: [28, 28, 1], numClasses: 5, seed: 1 });
      assert.deepEqual(grey.outputs[0]!.shape, [null, 5]);

      const model = createClassifier(preset.name, { ...CIFAR, seed: 1 });
      const x = tf.randomNormal([16, 32, 32, 3], 0, 1, 'float32', 1);
      const y = tf.cast(tf.oneHot(tf.tensor1d([...Array(16).keys()].map((i) => i % 10), 'int32'), 10), 'float32');
      const first = (await model.trainOnBatch(x, y)) as number[];
      for (let i = 0; i < 4; i++) await model.trainOnBatch(x, y);
      const later = (await model.trainOnBatch(x, y)) as number[];
      assert.ok(later[0]! < first[0]!, `loss ${first[0]} → ${later[0]}`);
      tf.dispose([x, y]);
    });
  }

  it('presets save and load with tf.loadLayersModel, predicting the same', async () => {
    for (const preset of PRESETS) {
      const model = createModel(preset.name, { ...CIFAR, seed: 2 });
      const { loaded } = await reloadThroughJson(model);
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4);
      const p = (model.predict(x) as tf.Tensor).dataSync();
      const q = (loaded.predict(x) as tf.Tensor).dataSync();
      p.forEach((v, i) => assert.ok(Math.abs(v - q[i]!) < 1e-5, `${preset.name}[${i}]`));
    }
  });
});
