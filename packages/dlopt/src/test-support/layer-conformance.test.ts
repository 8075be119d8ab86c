import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { checkGradients, describeLayerConformance } from './layer-conformance.js';

// The suite itself, on tfjs's own layers (known good).
describeLayerConformance('Dense', [{ name: 'tanh', create: () => tfl.layers.dense({ units: 3, activation: 'tanh', biasInitializer: 'randomNormal' }), inputShape: [4] }]);
describeLayerConformance('Conv2D', [{ name: '3x3 same', create: () => tfl.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), inputShape: [5, 5, 2] }]);
describeLayerConformance('BatchNormalization', [
  { name: 'training mode', create: () => tfl.layers.batchNormalization({ gammaInitializer: 'randomNormal' }), inputShape: [3, 3, 2], batch: 4, gradient: { training: true } },
]);

/** Dense whose gradient is wrong: forward x·W, backward as if it were 2·x·W. */
class WrongGradient extends tfl.layers.Layer {
  static className = 'WrongGradientForTest';
  private kernel!: tfl.LayerVariable;
  override build(inputShape: tfl.Shape): void {
    this.kernel = this.addWeight('kernel', [inputShape.at(-1)!, 2], 'float32', tfl.initializers.glorotUniform({ seed: 1 }));
    this.built = true;
  }
  override computeOutputShape(inputShape: tfl.Shape): tfl.Shape {
    return [...inputShape.slice(0, -1), 2];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const w = this.kernel.read();
    const f = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
      save([a, b]);
      return { value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), gradFunc: (dy: tf.Tensor, [sa, sb]: tf.Tensor[]) => [tf.mul(2, tf.matMul(dy as tf.Tensor2D, sb as tf.Tensor2D, false, true)), tf.matMul(sa as tf.Tensor2D, dy as tf.Tensor2D, true, false)] };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return (f as unknown as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor)(x, w);
  }
}

describe('checkGradients', () => {
  before(async () => {
    await initBackend('native');
  });
  it('fails on a layer whose gradient is wrong', () => {
    const layer = new WrongGradient({});
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 1);
    layer.apply(x);
    assert.throws(() => checkGradients(layer, [x], { eps: 1e-2, tolerance: 2e-2, training: false }), /input 0\[\d+\]: analytic/);
  });
});
