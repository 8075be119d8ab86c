import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../errors.js';
import { InMemoryStorage } from '../tune/storages/in-memory-storage.js';
import type { Trial } from '../tune/trial.js';
import { parseTuneConfig } from './tune-config.js';
import { countStarted, failTrialsOfDeadWorkers, openTuneStudy, runTrials, thisWorker } from './tune-study.js';

const lr = { 'optimizer.lr': { type: 'float', low: 1e-4, high: 1e-2, log: true } };

describe('tune study and worker loop (in process, in memory)', () => {
  it('joins an existing study with its recorded sampler seed, and refuses another metric', async () => {
    const storage = new InMemoryStorage();
    const first = parseTuneConfig({ study: 's', trials: 1, search: lr, sampler: 'tpe' });
    const a = await openTuneStudy(first, storage);
    const b = await openTuneStudy(first, storage);
    assert.equal(b.sampler.seed, a.sampler.seed);
    assert.equal(b.id, a.id);
    const other = parseTuneConfig({ study: 's', trials: 1, search: lr, metric: 'val_loss' });
    await assert.rejects(openTuneStudy(other, storage), (e: unknown) => e instanceof UsageError && /study 's' measures val_accuracy, not val_loss/.test(e.message));
  });

  it('runs the study-wide number of trials, whatever the number of workers', async () => {
    const storage = new InMemoryStorage();
    const config = parseTuneConfig({ study: 'w', trials: 7, search: lr, sampler: 'random' });
    const objective = async (trial: Trial) => {
      trial.suggestFloat('x', 0, 1);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
      return 1;
    };
    const workers = await Promise.all([0, 1, 2].map(async () => runTrials({ study: await openTuneStudy(config, storage), objective, trials: 7 })));
    assert.equal(workers.reduce((a, b) => a + b, 0), 7);
    const study = await openTuneStudy(config, storage);
    assert.equal(countStarted(await study.getTrials()), 7);
    // Continuing a finished study runs nothing.
    assert.equal(await runTrials({ study, objective, trials: 7 }), 0);
  });

  it("holds the total when every storage call takes a moment, as a database's does", async () => {
    // Between a worker's count of the study's trials and its start of one, the others can start theirs: the count
    // and the start must be one step in the storage, or two workers each take the last trial.
    const storage = new InMemoryStorage();
    const slow = new Proxy(storage, {
      get(target, key) {
        const member: unknown = Reflect.get(target, key);
        if (typeof member !== 'function') return member;
        return async (...args: unknown[]) => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          return (member as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    for (let round = 0; round < 10; round++) {
      const config = parseTuneConfig({ study: `slow-${round}`, trials: 5, search: lr, sampler: 'random' });
      const objective = (trial: Trial) => trial.suggestFloat('x', 0, 1);
      const ran = await Promise.all([0, 1, 2].map(async () => runTrials({ study: await openTuneStudy(config, slow), objective, trials: 5 })));
      assert.equal(ran.reduce((a, b) => a + b, 0), 5, `round ${round}: ${ran.join(' + ')} trials`);
      const study = await openTuneStudy(config, storage);
      assert.equal(countStarted(await study.getTrials()), 5);
    }
  });

  it('fails the RUNNING trials of dead workers', async () => {
    const storage = new InMemoryStorage();
    const study = await openTuneStudy(parseTuneConfig({ study: 'd', trials: 1, search: lr }), storage);
    const dead = await study.ask();
    dead.setUserAttr('worker', { host: 'elsewhere', pid: 1 });
    const alive = await study.ask();
    alive.setUserAttr('worker', thisWorker());
    await Promise.all([dead.flush(), alive.flush()]);
    const failed = await failTrialsOfDeadWorkers(storage, study.id, (w) => w.host === 'elsewhere', (w) => `worker ${w.pid} died`);
    assert.deepEqual(failed, [dead.number]);
    const trials = await study.getTrials();
    assert.deepEqual(trials.map((t) => t.state), ['FAIL', 'RUNNING']);
    assert.equal(trials[0]!.systemAttrs.failReason, 'worker 1 died');
  });
});
