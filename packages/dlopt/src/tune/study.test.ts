import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordingPruner, UniformTestSampler, sleep } from '../test-support/tune-fixtures.js';
import { DloptError, UsageError } from '../errors.js';
import { RandomSampler } from './samplers/random-sampler.js';
import type { Sampler } from './samplers/sampler.js';
import { InMemoryStorage } from './storages/in-memory-storage.js';
import { createStudy, loadStudy, type Study } from './study.js';
import type { Trial } from './trial.js';
import { TrialPruned } from './trial-pruned.js';

const quadratic = (trial: Trial) => {
  const x = trial.suggestFloat('x', -10, 10);
  const y = trial.suggestInt('y', -5, 5);
  return (x - 2) ** 2 + (y + 1) ** 2;
};

function numbers(study: Study): number[] {
  return study.trials.map((t) => t.number);
}

describe('createStudy / loadStudy', () => {
  it('makes an in-memory study with a random sampler by default', async () => {
    const a = await createStudy();
    const b = await createStudy();
    assert.notEqual(a.name, b.name);
    assert.equal(a.direction, 'minimize');
    assert.equal(a.sampler.name, 'random');
    await a.optimize(quadratic, { nTrials: 3 });
    assert.equal(a.trials.length, 3);
    assert.deepEqual(b.trials, []);
  });

  it('joins an existing study with loadIfExists, taking its direction when none is given', async () => {
    const storage = new InMemoryStorage();
    const first = await createStudy({ storage, name: 's', direction: 'maximize', sampler: new UniformTestSampler() });
    await first.optimize(quadratic, { nTrials: 2 });
    await assert.rejects(createStudy({ storage, name: 's', direction: 'maximize' }), (e: unknown) => e instanceof UsageError && /already exists/.test(e.message));
    await assert.rejects(createStudy({ storage, name: 's', direction: 'minimize', loadIfExists: true }), /maximize/);
    const second = await createStudy({ storage, name: 's', loadIfExists: true, sampler: new UniformTestSampler() });
    assert.equal(second.direction, 'maximize');
    assert.equal(second.trials.length, 2);
    const loaded = await loadStudy({ storage, name: 's' });
    assert.equal(loaded.direction, 'maximize');
    assert.equal(loaded.bestValue, first.bestValue);
    await assert.rejects(loadStudy({ storage, name: 'nope' }), /no study named 'nope' in this storage \(it has 's'\)/);
  });

  it("accepts 'memory' and storage URLs; an unknown URL scheme is a usage error", async () => {
    assert.equal((await createStudy({ storage: 'memory' })).trials.length, 0);
    await assert.rejects(createStudy({ storage: 'mysql://x/y' }), (e: unknown) => e instanceof UsageError && /mysql:\/\/x\/y/.test(e.message));
    const dir = await mkdtemp(join(tmpdir(), 'dlopt-study-'));
    try {
      const url = `sqlite:${join(dir, 'study.db')}`;
      const a = await createStudy({ storage: url, name: 's', sampler: new RandomSampler({ seed: 1 }) });
      await a.optimize((t) => t.suggestFloat('x', 0, 1), { nTrials: 3 });
      await a.close();
      const b = await createStudy({ storage: url, name: 's', loadIfExists: true });
      assert.equal((await b.getTrials()).length, 3);
      await b.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await assert.rejects(createStudy({ direction: 'up' as 'minimize' }), UsageError);
    await assert.rejects(createStudy({ sampler: {} as Sampler }), /sampler must be a Sampler/);
  });
});

describe('Study.optimize', () => {
  it('minimizes a quadratic, every trial COMPLETE and numbered in order', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler(1) });
    await study.optimize(quadratic, { nTrials: 60 });
    assert.deepEqual(numbers(study), Array.from({ length: 60 }, (_, i) => i));
    assert.ok(study.trials.every((t) => t.state === 'COMPLETE' && t.completedAt !== null && t.startedAt !== null));
    const values = study.trials.map((t) => t.value!);
    assert.equal(study.bestValue, Math.min(...values));
    assert.ok(study.bestValue < 3, `best ${study.bestValue}`);
    assert.equal(study.bestTrial.value, study.bestValue);
    assert.deepEqual(study.bestParams, study.bestTrial.params);
    assert.equal(study.bestParams.y, study.bestTrial.params.y);
    await study.optimize(quadratic, { nTrials: 5 });
    assert.equal(study.trials.length, 65, 'nTrials counts the trials of this call');
  });

  it('picks the largest value as best when maximizing', async () => {
    const study = await createStudy({ direction: 'maximize', sampler: new UniformTestSampler(2) });
    await study.optimize(quadratic, { nTrials: 20 });
    const values = study.trials.map((t) => t.value!);
    assert.equal(study.bestValue, Math.max(...values));
    assert.equal((await study.getBestTrial()).number, study.bestTrial.number);
  });

  it('says clearly when no trial has completed', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler() });
    assert.throws(() => study.bestValue, (e: unknown) => e instanceof DloptError && /has no completed trial yet \(0 trials\)/.test(e.message));
    await study.optimize(() => Number.NaN, { nTrials: 2 });
    assert.throws(() => study.bestParams, /2 failed; last failure: the objective returned NaN/);
  });

  it('runs enqueued trials first, with their values and user attributes', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler(3) });
    await study.enqueueTrial({ x: 2, y: -1 }, { userAttrs: { source: 'default config' } });
    await study.enqueueTrial({ x: 50, y: 0 });
    assert.deepEqual(study.trials.map((t) => t.state), ['WAITING', 'WAITING']);
    await study.optimize(quadratic, { nTrials: 3 });
    const [t0, t1, t2] = study.trials;
    assert.deepEqual(t0!.params, { x: 2, y: -1 });
    assert.equal(t0!.value, 0);
    assert.deepEqual(t0!.userAttrs, { source: 'default config' });
    assert.equal(t1!.params.y, 0);
    assert.notEqual(t1!.params.x, 50, 'a fixed value outside the range is not used');
    assert.ok(t1!.params.x! as number >= -10 && t1!.params.x! as number <= 10);
    assert.equal(t2!.state, 'COMPLETE');
    assert.equal(study.bestValue, 0);
    await assert.rejects(study.enqueueTrial({ x: Number.NaN }), /enqueued parameter 'x'/);
  });

  it('returns the same value for a repeated suggestion and fails a conflicting one', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler(4) });
    await study.optimize(
      (trial) => {
        const a = trial.suggestFloat('a', 0, 1);
        assert.equal(trial.suggestFloat('a', 0, 1), a);
        return a;
      },
      { nTrials: 3 },
    );
    await assert.rejects(
      study.optimize((trial) => trial.suggestFloat('a', 0, 1) + trial.suggestFloat('a', 0, 2), { nTrials: 1 }),
      (e: unknown) => e instanceof UsageError && /parameter 'a'/.test(e.message),
    );
    const last = study.trials.at(-1)!;
    assert.equal(last.state, 'FAIL');
    assert.match(String(last.systemAttrs.failReason), /one name, one distribution/);
  });

  it('handles conditional (define-by-run) parameters', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler(5) });
    await study.optimize(
      (trial) => {
        const opt = trial.suggestCategorical('optimizer', ['adam', 'sgd']);
        if (opt === 'sgd') return trial.suggestFloat('momentum', 0, 0.99) + trial.suggestFloat('lr', 1e-3, 1, { log: true });
        return trial.suggestFloat('lr', 1e-3, 1, { log: true });
      },
      { nTrials: 30 },
    );
    const sgd = study.trials.filter((t) => t.params.optimizer === 'sgd');
    const adam = study.trials.filter((t) => t.params.optimizer === 'adam');
    assert.ok(sgd.length > 0 && adam.length > 0);
    assert.ok(sgd.every((t) => typeof t.params.momentum === 'number'));
    assert.ok(adam.every((t) => !('momentum' in t.params) && !('momentum' in t.distributions)));
    assert.ok(study.trials.every((t) => t.state === 'COMPLETE'));
  });

  it('records pruned trials PRUNED with their last reported value', async () => {
    const pruner = new RecordingPruner((ctx) => Math.max(...Object.keys(ctx.trial.intermediate).map(Number)) >= 2 && ctx.trial.number % 2 === 1);
    const study = await createStudy({ sampler: new UniformTestSampler(6), pruner });
    const seen: string[] = [];
    await study.optimize(
      async (trial) => {
        for (let step = 0; step < 5; step++) {
          trial.report(10 * trial.number + step, step);
          await sleep(0);
          if (trial.shouldPrune()) throw new TrialPruned();
        }
        return -trial.number;
      },
      { nTrials: 4, callbacks: [(_s, t) => void seen.push(`${t.number}:${t.state}`)] },
    );
    assert.deepEqual(study.trials.map((t) => t.state), ['COMPLETE', 'PRUNED', 'COMPLETE', 'PRUNED']);
    assert.equal(study.trials[1]!.value, 12);
    assert.deepEqual(study.trials[1]!.intermediate, { 0: 10, 1: 11, 2: 12 });
    assert.equal(study.trials[3]!.value, 32);
    assert.deepEqual(seen, ['0:COMPLETE', '1:PRUNED', '2:COMPLETE', '3:PRUNED']);
    assert.equal(study.bestValue, -2, 'pruned trials are never best');
  });

  it('keeps no value for a trial pruned after a NaN report', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler(6), pruner: new RecordingPruner(() => true) });
    await study.optimize(
      (trial) => {
        trial.report(Number.NaN, 0);
        if (trial.shouldPrune()) throw new TrialPruned();
        return 1;
      },
      { nTrials: 1 },
    );
    assert.equal(study.trials[0]!.state, 'PRUNED');
    assert.equal(study.trials[0]!.value, null);
    assert.ok(Number.isNaN(study.trials[0]!.intermediate[0]));
  });

  it('fails a trial whose objective throws and rethrows the error', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler(7) });
    await assert.rejects(
      study.optimize(
        (trial) => {
          trial.suggestFloat('x', 0, 1);
          throw new RangeError('boom');
        },
        { nTrials: 5 },
      ),
      /boom/,
    );
    assert.equal(study.trials.length, 1);
    assert.equal(study.trials[0]!.state, 'FAIL');
    assert.equal(study.trials[0]!.systemAttrs.failReason, 'boom');
    assert.equal(typeof study.trials[0]!.params.x, 'number', 'what it suggested is kept');
  });

  it('goes on after errors it is told to catch', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler(8) });
    const objective = (trial: Trial) => {
      if (trial.number % 2 === 0) throw new RangeError(`bad ${trial.number}`);
      return trial.number;
    };
    await study.optimize(objective, { nTrials: 4, catch: true });
    assert.deepEqual(study.trials.map((t) => t.state), ['FAIL', 'COMPLETE', 'FAIL', 'COMPLETE']);
    await study.optimize(objective, { nTrials: 2, catch: [RangeError] });
    assert.equal(study.trials.length, 6);
    await assert.rejects(
      study.optimize(
        () => {
          throw new TypeError('not caught');
        },
        { nTrials: 2, catch: [RangeError] },
      ),
      TypeError,
    );
    assert.equal(study.trials.length, 7);
  });

  it('fails trials whose objective returns NaN, ±Infinity or a non-number, and goes on', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler(9) });
    const results: unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, '3', undefined, 3];
    await study.optimize((trial) => results[trial.number] as number, { nTrials: results.length });
    assert.deepEqual(study.trials.map((t) => t.state), ['FAIL', 'FAIL', 'FAIL', 'FAIL', 'COMPLETE']);
    assert.deepEqual(
      study.trials.slice(0, 4).map((t) => t.systemAttrs.failReason),
      ['the objective returned NaN', 'the objective returned Infinity', 'the objective returned string, not a number', 'the objective returned undefined, not a number'],
    );
    assert.ok(study.trials.slice(0, 4).every((t) => t.value === null));
  });

  it('fails the trial (not leaves it RUNNING) when the sampler breaks at its start', async () => {
    const sampler: Sampler = {
      name: 'broken',
      seed: 0,
      sampleIndependent: () => 0.5,
      sampleRelative: () => {
        throw new Error('model exploded');
      },
    };
    const storage = new InMemoryStorage();
    const ok = await createStudy({ storage, name: 's', sampler: new UniformTestSampler() });
    await ok.optimize((t) => t.suggestFloat('x', 0, 1), { nTrials: 1 });
    const study = await createStudy({ storage, name: 's', loadIfExists: true, sampler });
    await assert.rejects(study.optimize(() => 1, { nTrials: 1 }), /model exploded/);
    assert.deepEqual((await study.getTrials()).map((t) => t.state), ['COMPLETE', 'FAIL']);
  });

  it('stops starting trials after the timeout', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler(10) });
    const start = Date.now();
    await study.optimize(
      async (trial) => {
        await sleep(40);
        return trial.suggestFloat('x', 0, 1);
      },
      { timeout: 0.15 },
    );
    const elapsed = Date.now() - start;
    assert.ok(study.trials.length >= 1 && study.trials.length <= 5, `${study.trials.length} trials`);
    assert.ok(elapsed < 1000, `${elapsed} ms`);
  });

  it('stops when a callback calls stop()', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler(11) });
    await study.optimize(quadratic, { callbacks: [(s, t) => (t.number === 2 ? s.stop() : undefined)] });
    assert.equal(study.trials.length, 3);
    await study.optimize(quadratic, { nTrials: 2 });
    assert.equal(study.trials.length, 5, 'stop() ends only the optimize calls running then');
  });

  it('refuses bad options', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler() });
    await assert.rejects(study.optimize(quadratic, { nTrials: -1 }), /nTrials/);
    await assert.rejects(study.optimize(quadratic, { nTrials: 1.5 }), /nTrials/);
    await assert.rejects(study.optimize(quadratic, { totalTrials: -1 }), /totalTrials/);
    await assert.rejects(study.optimize(quadratic, { totalTrials: 2.5 }), /totalTrials/);
    await assert.rejects(study.optimize(quadratic, { timeout: 0 }), /timeout/);
    await assert.rejects(study.optimize(quadratic, { graceMs: 100 }), /need heartbeatMs/);
    await assert.rejects(study.optimize(quadratic, { heartbeatMs: 100, graceMs: 50 }), /greater than heartbeatMs/);
    await assert.rejects(study.optimize('f' as unknown as () => number), /objective function/);
    assert.equal(study.trials.length, 0);
  });
});

describe('Study with concurrent workers', () => {
  const jittery = (seed: number) => async (trial: Trial) => {
    const x = trial.suggestFloat('x', -1, 1);
    await sleep(((seed * 7919 + trial.number * 104729) % 13) + 1);
    const c = trial.suggestCategorical('c', ['a', 'b', 'c']);
    const n = trial.suggestInt('n', 1, 100, { log: true });
    return x * x + n + c.length;
  };

  it('gives concurrent optimize calls on one study distinct trial numbers and loses no trial', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler(12) });
    await study.enqueueTrial({ x: 0.5 });
    await Promise.all([study.optimize(jittery(1), { nTrials: 10 }), study.optimize(jittery(2), { nTrials: 10 }), study.optimize(jittery(3), { nTrials: 5 })]);
    const trials = await study.getTrials();
    assert.deepEqual(trials.map((t) => t.number), Array.from({ length: 25 }, (_, i) => i));
    assert.ok(trials.every((t) => t.state === 'COMPLETE'));
    assert.equal(trials[0]!.params.x, 0.5);
  });

  it('starts no trial past totalTrials, all workers together, and says how many each started', async () => {
    const storage = new InMemoryStorage();
    const workers = await Promise.all([1, 2, 3].map(() => createStudy({ storage, name: 's', loadIfExists: true, sampler: new UniformTestSampler(20) })));
    await workers[0]!.optimize(quadratic, { nTrials: 2 });
    await workers[0]!.enqueueTrial({ x: 0.5 });
    const started = await Promise.all(workers.map((w, i) => w.optimize(jittery(i + 1), { totalTrials: 9, ...(i === 2 && { nTrials: 1 }) })));
    assert.equal(started[2], 1);
    assert.equal(started.reduce((a, b) => a + b, 0), 7);
    const trials = await workers[0]!.getTrials();
    assert.equal(trials.length, 9);
    assert.ok(trials.every((t) => t.state === 'COMPLETE'));
    assert.equal(trials[2]!.params.x, 0.5, 'the enqueued trial counts as one of them');
    assert.equal(await workers[1]!.optimize(quadratic, { totalTrials: 9 }), 0);
    assert.equal(await workers[1]!.optimize(quadratic, { totalTrials: 10, nTrials: 5 }), 1);
  });

  it('gives trial k the same params whether run alone or among concurrent workers', async () => {
    for (const makeSampler of [() => new UniformTestSampler(13), () => new RandomSampler({ seed: 13 })]) {
      const alone = await createStudy({ sampler: makeSampler() });
      await alone.optimize(jittery(0), { nTrials: 12 });
      const storage = new InMemoryStorage();
      const workers = await Promise.all([1, 2, 3].map(() => createStudy({ storage, name: 'shared', loadIfExists: true, sampler: makeSampler() })));
      await Promise.all(workers.map((w, i) => w.optimize(jittery(i + 1), { nTrials: 4 })));
      const together = await workers[0]!.getTrials();
      assert.equal(together.length, 12);
      assert.deepEqual(
        together.map((t) => t.params),
        alone.trials.map((t) => t.params),
      );
    }
  });

  it('fails a trial whose worker died, in the next optimize with heartbeats', async () => {
    const storage = new InMemoryStorage();
    const study = await createStudy({ storage, name: 's', sampler: new UniformTestSampler(14) });
    const dead = await storage.createTrial(study.id);
    await sleep(80);
    await study.optimize(quadratic, { nTrials: 1, heartbeatMs: 10, graceMs: 40 });
    const trials = await study.getTrials();
    assert.equal(trials[dead.number]!.state, 'FAIL');
    assert.deepEqual(trials.map((t) => t.state), ['FAIL', 'COMPLETE']);
  });

  it('keeps a live trial alive with heartbeats while another worker checks for stale ones', async () => {
    const storage = new InMemoryStorage();
    const [slow, fast] = await Promise.all([1, 2].map(() => createStudy({ storage, name: 's', loadIfExists: true, sampler: new UniformTestSampler(15) })));
    // The grace period is many heartbeats long, so that only a stall of the whole process that long (not a busy
    // machine's usual delays) could fail the slow trial; the fast worker checks for stale trials long after the
    // slow trial has run longer than the grace period, which without heartbeats would fail it.
    const options = { heartbeatMs: 20, graceMs: 400 };
    await Promise.all([
      slow!.optimize(async () => (await sleep(900), 1), { nTrials: 1, ...options }),
      fast!.optimize(async () => (await sleep(60), 2), { nTrials: 12, ...options }),
    ]);
    const trials = await slow!.getTrials();
    assert.equal(trials.length, 13);
    assert.ok(trials.every((t) => t.state === 'COMPLETE'), trials.map((t) => t.state).join());
  });

  it("does not record a result for a trial another worker already failed as stale, and goes on", async () => {
    const storage = new InMemoryStorage();
    const study = await createStudy({ storage, name: 's', sampler: new UniformTestSampler(16) });
    await study.optimize(
      async (trial) => {
        await storage.failStaleTrials(study.id, -1);
        return trial.number;
      },
      { nTrials: 2 },
    );
    assert.deepEqual(study.trials.map((t) => [t.state, t.value]), [
      ['FAIL', null],
      ['FAIL', null],
    ]);
  });

  it('retries a stale trial with its params when asked', async () => {
    const storage = new InMemoryStorage();
    const study = await createStudy({ storage, name: 's', sampler: new UniformTestSampler(17) });
    const dead = await storage.createTrial(study.id, { userAttrs: { tag: 'first' } });
    await storage.setTrialParam(dead.id, 'x', { type: 'float', low: -10, high: 10, log: false }, 1.5);
    await sleep(60);
    await study.optimize(quadratic, { nTrials: 1, heartbeatMs: 10, graceMs: 30, retryStale: 1 });
    const [t0, t1] = study.trials;
    assert.equal(t0!.state, 'FAIL');
    assert.equal(t1!.state, 'COMPLETE');
    assert.equal(t1!.params.x, 1.5);
    assert.deepEqual(t1!.userAttrs, { tag: 'first' });
    assert.equal(t1!.systemAttrs.retryOf, 0);
    assert.equal(t1!.systemAttrs.retries, 1);
  });
});

describe('Study.ask / tell', () => {
  it('runs trials from outside code', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler(18) });
    const t0 = await study.ask();
    const x = t0.suggestFloat('x', 0, 1);
    t0.report(x + 1, 0);
    const t1 = await study.ask({ lr: { type: 'float', low: 1e-3, high: 1, log: true } });
    assert.equal(typeof t1.params.lr, 'number');
    assert.deepEqual(study.trials.map((t) => t.state), ['RUNNING', 'RUNNING']);
    const done = await study.tell(t0, x);
    assert.equal(done.state, 'COMPLETE');
    assert.equal(done.value, x);
    assert.deepEqual(done.intermediate, { 0: x + 1 }, 'writes are flushed before the trial is finished');
    t1.report(0.3, 0);
    t1.report(0.2, 1);
    assert.equal((await study.tell(1, 'PRUNED')).value, 0.2);
    assert.deepEqual(study.trials.map((t) => t.state), ['COMPLETE', 'PRUNED']);
    assert.equal(study.bestValue, x);
    assert.throws(() => t0.suggestFloat('y', 0, 1), /has finished/);
  });

  it('fails on FAIL, NaN, or a fixed distribution that is invalid', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler(19) });
    await study.tell(await study.ask(), 'FAIL');
    const nan = await study.tell(await study.ask(), Number.NaN);
    assert.equal(nan.state, 'FAIL');
    assert.equal(nan.systemAttrs.failReason, 'the objective returned NaN');
    await assert.rejects(study.ask({ bad: { type: 'float', low: 1, high: 0, log: false } }), /parameter 'bad'/);
    assert.equal(study.trials.length, 2, 'nothing is created for an invalid fixed distribution');
  });

  it('tells by number a trial another Study object asked for', async () => {
    const storage = new InMemoryStorage();
    const a = await createStudy({ storage, name: 's', sampler: new UniformTestSampler() });
    const b = await loadStudy({ storage, name: 's', sampler: new UniformTestSampler() });
    const trial = await a.ask();
    trial.report(5, 3);
    await trial.flush();
    assert.equal((await b.tell(trial.number, 'PRUNED')).value, 5);
    await assert.rejects(a.tell(trial, 1), /trial 0 is already PRUNED/);
  });

  it('refuses bad tells', async () => {
    const study = await createStudy({ sampler: new UniformTestSampler() });
    const other = await createStudy({ sampler: new UniformTestSampler() });
    const trial = await study.ask();
    await assert.rejects(study.tell(trial, 'DONE' as 'FAIL'), /tell takes a number, 'PRUNED' or 'FAIL'/);
    await assert.rejects(study.tell(7, 1), /has no trial 7/);
    await assert.rejects(other.tell(trial, 1), /belongs to another study/);
    await study.tell(trial, 1);
    await assert.rejects(study.tell(trial, 2), /already COMPLETE/);
    assert.equal(study.bestValue, 1);
  });
});

describe('Study.trials and getTrials', () => {
  it('keeps a snapshot as of the last operation; getTrials reads afresh', async () => {
    const storage = new InMemoryStorage();
    const a = await createStudy({ storage, name: 's', sampler: new UniformTestSampler() });
    const b = await loadStudy({ storage, name: 's', sampler: new UniformTestSampler() });
    await a.optimize(quadratic, { nTrials: 2 });
    assert.equal(b.trials.length, 0);
    assert.equal((await b.getTrials()).length, 2);
    assert.equal(b.trials.length, 2);
    await b.enqueueTrial({ x: 1 });
    assert.deepEqual((await b.getTrials(['WAITING'])).map((t) => t.number), [2]);
    assert.deepEqual((await b.getTrials(['COMPLETE', 'WAITING'])).map((t) => t.number), [0, 1, 2]);
  });
});
