import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeStorageConformance } from '../../test-support/storage-conformance.js';
import { InMemoryStorage } from './in-memory-storage.js';

describeStorageConformance('InMemoryStorage', async () => {
  const storage = new InMemoryStorage();
  return { storage, cleanup: () => storage.close() };
});

describe('InMemoryStorage', () => {
  it('keeps separate instances separate', async () => {
    const a = new InMemoryStorage();
    const b = new InMemoryStorage();
    await a.createStudy('s', 'minimize');
    assert.equal(await b.getStudy('s'), undefined);
  });

  it('refuses a COMPLETE trial without a finite value', async () => {
    const storage = new InMemoryStorage();
    const study = await storage.createStudy('s', 'minimize');
    const trial = await storage.createTrial(study.id);
    await assert.rejects(storage.finishTrial(trial.id, 'COMPLETE', Number.NaN), /finite/);
    await assert.rejects(storage.finishTrial(trial.id, 'COMPLETE', null), /finite/);
    assert.equal((await storage.getTrial(trial.id)).state, 'RUNNING');
  });
});
