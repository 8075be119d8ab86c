import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSearchPath, setAtPath } from './search-path.js';

describe('search paths', () => {
  it('accepts single settings of the training config, through optional groups and toggles', () => {
    for (const path of [
      'batchSize',
      'epochs',
      'labelSmoothing',
      'optimizer.lr',
      'optimizer.name',
      'optimizer.weightDecay',
      'regularization.dropout',
      'schedule.name',
      'schedule.stepSize',
      'schedule.warmupEpochs',
      'augment.mixup',
      'augment.flip',
      'augment.crop.padding',
      'earlyStopping.patience',
      'ema',
    ]) {
      assert.equal(checkSearchPath(path), undefined, path);
    }
  });

  it('says why a path cannot be searched', () => {
    assert.match(checkSearchPath('optimizer.momentm')!, /optimizer has no setting "momentm"/);
    assert.match(checkSearchPath('augment')!, /a group of settings; search one of them: augment\.resizedCrop/);
    assert.match(checkSearchPath('batchSize.x')!, /batchSize is a single value/);
    assert.match(checkSearchPath('optimizer..lr')!, /not a dotted path/);
    assert.match(checkSearchPath('imageSize')!, /cannot be searched/);
    assert.match(checkSearchPath('toString')!, /the training config has no setting "toString"/);
    assert.match(checkSearchPath('__proto__.x')!, /no setting "__proto__"/);
  });

  it('sets values at paths, creating groups, turning toggles into groups, and removing on null', () => {
    const s: Record<string, unknown> = { optimizer: { name: 'adam' }, augment: { crop: true, mixup: 0.2 } };
    setAtPath(s, 'optimizer.lr', 0.01);
    setAtPath(s, 'schedule.name', 'cosine');
    setAtPath(s, 'augment.crop.padding', 2);
    setAtPath(s, 'augment.mixup', null);
    setAtPath(s, 'regularization.dropout', null);
    setAtPath(s, 'batchSize', 32);
    assert.deepEqual(s, { optimizer: { name: 'adam', lr: 0.01 }, augment: { crop: { padding: 2 } }, schedule: { name: 'cosine' }, batchSize: 32 });
  });
});
