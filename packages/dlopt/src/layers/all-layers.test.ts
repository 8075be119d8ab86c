import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DLOPT_LAYERS } from './all-layers.js';

describe('dlopt layers registry', () => {
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
});
