import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { DLOPT_LAYERS } from './all-layers.js';

describe('dlopt layers registry', () => {
  before(async () => {
    await initBackend();
  });

  it('each class is registered under its own className, which no tfjs layer uses', () => {
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    const names = DLOPT_LAYERS.map((cls) => cls.className);
    assert.equal(new Set(names).size, names.length);
    for (const cls of DLOPT_LAYERS) {
      assert.equal(map[cls.className]?.[0], cls, cls.className);
      assert.equal((tfl.layers as unknown as Record<string, unknown>)[cls.className[0]!.toLowerCase() + cls.className.slice(1)], undefined, `tfjs has ${cls.className}`);
      assert.ok(cls.prototype instanceof tfl.layers.Layer);
    }
  });

  it('a separable convolution with a depth multiplier above 1 survives a save and load (tfjs leaves it out of the config)', async () => {
    const model = tfl.sequential({
      layers: [tfl.layers.separableConv2d({ inputShape: [5, 5, 3], filters: 4, kernelSize: 3, depthMultiplier: 2 })],
    });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    assert.deepEqual(loaded.layers[0]!.getWeights().map((w) => w.shape), [[3, 3, 3, 2], [1, 1, 6, 4], [4]]);
    model.dispose();
    loaded.dispose();
  });
});
