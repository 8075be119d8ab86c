import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { UsageError } from '../errors.js';
import {
  formatShape,
  formatValue,
  optionalInteger,
  optionalPositiveInteger,
  positiveInteger,
  resolveConstraint,
  resolveInitializer,
  resolveRegularizer,
  seededInitializer,
  serializeOption,
  singleShape,
  singleTensor,
} from './layer-options.js';

const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && re.test(e.message);

describe('layer options', () => {
  before(async () => {
    await initBackend('native');
  });

  it('resolves names, instances and { className, config } objects to the same serialized form', () => {
    const instance = tfl.initializers.heNormal({});
    assert.equal(resolveInitializer(instance, 'L: init'), instance);
    for (const id of ['heNormal', 'HeNormal', { className: 'VarianceScaling', config: instance.getConfig() }]) {
      assert.deepEqual(serializeOption(resolveInitializer(id, 'L: init')), serializeOption(instance), JSON.stringify(id));
    }
    assert.deepEqual(serializeOption(resolveRegularizer('l1l2', 'L: reg')), { className: 'L1L2', config: { l1: 0.01, l2: 0.01 } });
    assert.equal(serializeOption(resolveConstraint('nonNeg', 'L: constraint'))?.className, 'NonNeg');
    assert.equal(resolveRegularizer(null, 'L: reg'), null);
    assert.equal(resolveConstraint(undefined, 'L: constraint'), null);
    assert.equal(serializeOption(null), null);
  });

  it('does not let fromConfig change the config it was given', () => {
    const config = { mode: 'fanIn', scale: 2, distribution: 'normal' };
    resolveInitializer({ className: 'VarianceScaling', config }, 'L: init');
    assert.deepEqual(config, { mode: 'fanIn', scale: 2, distribution: 'normal' });
  });

  it('rejects what is not of the kind asked for, naming the layer, option and value', () => {
    assert.throws(() => resolveInitializer('glorot', 'L: kernelInitializer'), usage(/^L: kernelInitializer "glorot" is not a registered initializer; use one of .*glorotUniform/));
    // The registry also holds layers and regularizers: they are not initializers.
    assert.throws(() => resolveInitializer({ className: 'Dense', config: {} }, 'L: init'), usage(/L: init \{"className":"Dense","config":\{\}\} is not a registered initializer; use one of .*GlorotUniform/));
    assert.throws(() => resolveRegularizer('nonNeg', 'L: reg'), usage(/L: reg "nonNeg" is not a registered regularizer; use one of l1l2$/));
    assert.throws(() => resolveConstraint(42 as never, 'L: c'), usage(/L: c must be a name, an instance or a \{ className, config \} object but got 42/));
    // A tfjs error from the class's own checks becomes a UsageError.
    assert.throws(() => resolveInitializer({ className: 'VarianceScaling', config: { mode: 'bogus' } }, 'L: init'), usage(/L: init "VarianceScaling" with config \{"mode":"bogus"\}: bogus is not a valid FanMode/));
  });

  it('seeds an initializer per stream, reproducibly, and leaves it alone without a seed', () => {
    const init = resolveInitializer('glorotUniform', 'L: init');
    assert.equal(seededInitializer(init, undefined, 0), init);
    const values = (seed: number, stream: number) => Array.from(seededInitializer(init, seed, stream).apply([3, 3]).dataSync());
    assert.deepEqual(values(5, 0), values(5, 0));
    assert.notDeepEqual(values(5, 0), values(5, 1));
    assert.notDeepEqual(values(5, 0), values(6, 0));
    assert.equal(init.getConfig().seed, undefined, 'the original is unchanged');
  });

  it('checks integers, with messages naming the option and value', () => {
    assert.equal(positiveInteger(3, 'L: units'), 3);
    assert.throws(() => positiveInteger(0, 'L: units'), usage(/^L: units must be a positive integer but got 0$/));
    assert.throws(() => positiveInteger('2', 'L: units'), usage(/but got "2"$/));
    assert.throws(() => positiveInteger(Number.NaN, 'L: units'), usage(/but got NaN$/));
    assert.equal(optionalPositiveInteger(undefined, 'L: n'), undefined);
    assert.equal(optionalPositiveInteger(null, 'L: n'), undefined);
    assert.throws(() => optionalPositiveInteger(2.5, 'L: n'), usage(/L: n must be a positive integer but got 2.5/));
    assert.equal(optionalInteger(-4, 'L: seed'), -4);
    assert.equal(optionalInteger(null, 'L: seed'), undefined);
    assert.throws(() => optionalInteger(1.5, 'L: seed'), usage(/^L: seed must be an integer but got 1.5$/));
  });

  it('takes the one input of a single-input layer, bare or as a list of one', () => {
    assert.deepEqual(singleShape([null, 3], 'L'), [null, 3]);
    assert.deepEqual(singleShape([[null, 3]], 'L'), [null, 3]);
    assert.throws(() => singleShape([[null, 3], [null, 3]], 'L'), usage(/^L takes one input but got 2$/));
    const x = tf.zeros([1, 2]);
    assert.equal(singleTensor(x, 'L'), x);
    assert.equal(singleTensor([x], 'L'), x);
    assert.throws(() => singleTensor([x, x], 'L'), usage(/^L takes one input but got 2$/));
    x.dispose();
  });

  it('formats shapes and values as a user would write them', () => {
    assert.equal(formatShape([null, 4, 3]), '[null, 4, 3]');
    assert.equal(formatValue('0.5'), '"0.5"');
    assert.equal(formatValue(Infinity), 'Infinity');
    assert.equal(formatValue(undefined), 'undefined');
    assert.equal(formatValue([3, 3]), '[3,3]');
  });
});
