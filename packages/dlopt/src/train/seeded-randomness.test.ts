import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../backend/backend.js';
import { syntheticImages } from '../test-support/fixtures.js';
import { createClassifier } from './compile.js';
import { fitModel } from './fit.js';
import { withSeededMathRandom } from './seeded-randomness.js';

describe('withSeededMathRandom', () => {
  it('gives the same sequence for the same seed and restores Math.random, also after a throw', async () => {
    const original = Math.random;
    const draw = () => withSeededMathRandom(5, async () => [Math.random(), Math.random()]);
    assert.deepEqual(await draw(), await draw());
    assert.notDeepEqual(await draw(), await withSeededMathRandom(6, async () => [Math.random(), Math.random()]));
    await assert.rejects(withSeededMathRandom(1, async () => { throw new Error('boom'); }), /boom/);
    assert.equal(Math.random, original);
  });
});

describe('training with dropout is reproducible', () => {
  before(async () => {
    await initBackend('native');
  });

  it('two runs with the same seed end with identical weights (tfjs Dropout draws from Math.random)', async () => {
    const train = syntheticImages(96, 3);
    const run = async (seed: number) => {
      const model = createClassifier('seed-cnn', { inputShape: [32, 32, 3], numClasses: 10, seed: 1, regularization: { dropout: 0.5, spatialDropout: 0.2 } });
      await fitModel(model, { train }, { epochs: 2, batchSize: 32, numClasses: 10, seed });
      return model.getWeights().map((w) => Array.from(w.dataSync()));
    };
    const [a, b, c] = [await run(4), await run(4), await run(5)];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});
