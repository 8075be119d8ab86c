import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../errors.js';
import { parseTuneConfig } from './tune-config.js';

const search = { 'optimizer.lr': { type: 'float', low: 1e-4, high: 1e-1, log: true } };

/** The message of the UsageError parseTuneConfig throws for these settings. */
function problem(settings: Record<string, unknown>): string {
  try {
    parseTuneConfig(settings, 'tune.yaml');
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    return error.message;
  }
  assert.fail('expected a UsageError');
}

describe('tune config', () => {
  it('fills in defaults: study from the file name, direction from the metric, TPE, median pruner', () => {
    const c = parseTuneConfig({ trials: 5, search }, 'configs/cifar-lr.yaml');
    assert.equal(c.study, 'cifar-lr');
    assert.equal(c.storage, 'memory');
    assert.equal(c.metric, 'val_accuracy');
    assert.equal(c.direction, 'maximize');
    assert.deepEqual(c.sampler, { name: 'tpe' });
    assert.deepEqual(c.pruner, { name: 'median' });
    assert.equal(c.staleAfter, 3600);
    assert.equal(c.train.epochs, 10);
    assert.deepEqual(c.trainSettings, {});
    assert.deepEqual(c.search['optimizer.lr'], { type: 'float', low: 1e-4, high: 1e-1, log: true });
    assert.equal(parseTuneConfig({ metric: 'val_loss', trials: 1, search }).direction, 'minimize');
  });

  it('reads every distribution kind, shorthands for lists, samplers and pruners, and keeps the raw train settings', () => {
    const c = parseTuneConfig({
      study: 's',
      storage: 'sqlite:t.db',
      trials: 20,
      timeout: 600,
      sampler: 'gp',
      pruner: { name: 'patient', patience: 2, wrapped: { name: 'median', nWarmupSteps: 1 } },
      train: { epochs: 3, optimizer: { name: 'sgdw' }, augment: { flip: true } },
      search: {
        'optimizer.lr': { type: 'float', low: 0.001, high: 0.1, log: true },
        batchSize: { type: 'int', low: 32, high: 128, step: 32 },
        'optimizer.name': ['adam', 'sgdw'],
        'augment.mixup': { type: 'categorical', choices: [null, 0.2, 0.4] },
        'regularization.dropout': { type: 'float', low: 0, high: 0.5, step: 0.1 },
      },
    });
    assert.deepEqual(c.sampler, { name: 'gp' });
    assert.deepEqual(c.pruner, { name: 'patient', patience: 2, wrapped: { name: 'median', nWarmupSteps: 1 } });
    assert.deepEqual(c.search['batchSize'], { type: 'int', low: 32, high: 128, step: 32, log: false });
    assert.deepEqual(c.search['optimizer.name'], { type: 'categorical', choices: ['adam', 'sgdw'] });
    assert.deepEqual(c.trainSettings, { epochs: 3, optimizer: { name: 'sgdw' }, augment: { flip: true } });
    assert.equal(c.train.optimizer.name, 'sgdw');
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown top-level key', { trials: 1, search, trails: 3 }, /\n {2}unknown key "trails"/],
    ['an unknown key in a distribution', { trials: 1, search: { 'optimizer.lr': { type: 'float', low: 1, high: 2, lg: true } } }, /search\.optimizer\.lr: unknown key "lg"/],
    ['low > high', { trials: 1, search: { 'optimizer.lr': { type: 'float', low: 0.1, high: 0.01 } } }, /search\.optimizer\.lr\.low: must be <= high \(0\.01\), got 0\.1/],
    ['an int range upside down', { trials: 1, search: { batchSize: { type: 'int', low: 64, high: 8 } } }, /search\.batchSize\.low: must be <= high/],
    ['log with low <= 0', { trials: 1, search: { 'optimizer.lr': { type: 'float', low: 0, high: 0.1, log: true } } }, /search\.optimizer\.lr\.low: must be > 0 with log: true/],
    ['log with a step', { trials: 1, search: { 'optimizer.lr': { type: 'float', low: 0.1, high: 1, log: true, step: 0.1 } } }, /search\.optimizer\.lr\.step: cannot be combined with log/],
    ['empty choices', { trials: 1, search: { batchSize: { type: 'categorical', choices: [] } } }, /search\.batchSize\.choices: must not be empty/],
    ['an empty list', { trials: 1, search: { batchSize: [] } }, /search\.batchSize\.choices: must not be empty/],
    ['a choice twice', { trials: 1, search: { batchSize: [8, 16, 8] } }, /search\.batchSize\.choices\.2: 8 appears twice/],
    ['an unknown distribution type', { trials: 1, search: { batchSize: { type: 'integer', low: 1, high: 2 } } }, /search\.batchSize\.type: must be float, int or categorical, got "integer"/],
    ['an unknown sampler', { trials: 1, search, sampler: { name: 'bayes' } }, /sampler\.name: unknown sampler "bayes"; choose from random, grid, tpe, gp, evolution/],
    ['an unknown sampler option', { trials: 1, search, sampler: { name: 'tpe', nStartup: 3 } }, /sampler: unknown key "nStartup"/],
    ['an unknown pruner', { trials: 1, search, pruner: 'asha' }, /pruner\.name: unknown pruner "asha"; choose from none, median/],
    ['a bad pruner option', { trials: 1, search, pruner: { name: 'percentile', percentile: 150 } }, /pruner\.percentile: Too big/],
    ['a threshold pruner without bounds', { trials: 1, search, pruner: { name: 'threshold' } }, /pruner: give lower, upper or both/],
    ['an unknown setting in a search path', { trials: 1, search: { 'optimizer.lrr': [0.1] } }, /search\.optimizer\.lrr: optimizer has no setting "lrr" \(it has name, lr,/],
    ['an unknown top-level search path', { trials: 1, search: { learningRate: [0.1] } }, /search\.learningRate: the training config has no setting "learningRate"/],
    ['a group as a search path', { trials: 1, search: { optimizer: ['adam'] } }, /search\.optimizer: a group of settings; search one of them: optimizer\.name, optimizer\.lr/],
    ['a path below a single value', { trials: 1, search: { 'epochs.max': [1] } }, /search\.epochs\.max: epochs is a single value/],
    ['a setting read once per process', { trials: 1, search: { data: ['a', 'b'] } }, /search\.data: cannot be searched: the dataset is read once/],
    ['a list-valued setting', { trials: 1, search: { 'augment.resizedCrop.scale': [0.5] } }, /search\.augment\.resizedCrop\.scale: takes a list/],
    ['an empty search', { trials: 1, search: {} }, /search: name at least one setting to search/],
    ['a bad base training setting', { trials: 1, search, train: { optimizer: { lr: -1 } } }, /train\.optimizer\.lr: Too small/],
    ['an unknown base training key', { trials: 1, search, train: { epoch: 3 } }, /train: unknown key "epoch"/],
    ['an unknown model', { trials: 1, search, train: { model: 'resnet-9000' } }, /train\.model: unknown model "resnet-9000"/],
    ['no validation split', { trials: 1, search, train: { valSize: 0 } }, /train\.valSize: must be > 0/],
    ['a direction against the metric', { trials: 1, search, direction: 'minimize' }, /direction: val_accuracy is to be maximized, not minimized/],
    ['a float grid axis without a step', { trials: 1, search, sampler: 'grid' }, /search\.optimizer\.lr: the grid sampler needs a step/],
  ];
  for (const [name, settings, message] of bad) {
    it(`rejects ${name}, naming the path`, () => {
      const text = problem(settings);
      assert.match(text, /^invalid tune\.yaml:\n/);
      assert.match(text, message);
    });
  }

  it('reports bad search paths together with bad values', () => {
    const text = problem({ trials: 1, search: { 'optimizer.lrr': [0.1], batchSize: { type: 'int', low: 64, high: 8 } } });
    assert.match(text, /search\.optimizer\.lrr: optimizer has no setting "lrr"/);
    assert.match(text, /search\.batchSize\.low: must be <= high/);
  });
});
