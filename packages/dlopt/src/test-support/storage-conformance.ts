import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DloptError } from '../errors.js';
import type { Distribution, ParamValue } from '../tune/distributions.js';
import type { StudyStorage } from '../tune/storages/storage.js';

export interface StorageUnderTest {
  storage: StudyStorage;
  /** Closes `storage` and removes whatever the factory made (files, databases). */
  cleanup(): Promise<void>;
  /**
   * Another connection to the same state (a second process's view), where the
   * storage has such a thing: the concurrency tests then spread their calls
   * over several connections. The suite closes what it opens.
   */
  openAnother?(): Promise<StudyStorage>;
}

/**
 * The checks every StudyStorage passes, each the same way: call it from the
 * storage's own test file with a factory that makes an empty storage.
 */
export function describeStorageConformance(name: string, factory: () => Promise<StorageUnderTest>): void {
  describe(`${name} (storage conformance)`, () => {
    let subject: StorageUnderTest;
    let storage: StudyStorage;
    let extra: StudyStorage[] = [];

    beforeEach(async () => {
      subject = await factory();
      storage = subject.storage;
      extra = [];
    });

    afterEach(async () => {
      for (const other of extra) await other.close();
      await subject.cleanup();
    });

    /** The storage and, where it can, two more connections to it: concurrent calls go round-robin. */
    async function connections(): Promise<StudyStorage[]> {
      if (!subject.openAnother) return [storage];
      extra = [await subject.openAnother(), await subject.openAnother()];
      return [storage, ...extra];
    }

    describe('studies', () => {
      it('creates a study and finds it by name', async () => {
        const record = await storage.createStudy('alpha', 'maximize');
        assert.equal(record.name, 'alpha');
        assert.equal(record.direction, 'maximize');
        assert.deepEqual(record.userAttrs, {});
        assert.deepEqual(record.systemAttrs, {});
        assert.deepEqual(await storage.getStudy('alpha'), record);
        assert.equal(await storage.getStudy('beta'), undefined);
        const beta = await storage.createStudy('beta', 'minimize');
        assert.notEqual(beta.id, record.id);
        assert.deepEqual((await storage.listStudies()).map((s) => s.name).sort(), ['alpha', 'beta']);
      });

      it('refuses a second study of the same name unless loadIfExists', async () => {
        const first = await storage.createStudy('alpha', 'minimize');
        await assert.rejects(storage.createStudy('alpha', 'minimize'), (e: unknown) => e instanceof DloptError && /alpha/.test(e.message));
        const again = await storage.createStudy('alpha', 'minimize', { loadIfExists: true });
        assert.equal(again.id, first.id);
        assert.equal((await storage.listStudies()).length, 1);
      });

      it('refuses to load a study with another direction', async () => {
        await storage.createStudy('alpha', 'minimize');
        await assert.rejects(
          storage.createStudy('alpha', 'maximize', { loadIfExists: true }),
          (e: unknown) => e instanceof DloptError && /minimize/.test(e.message) && /maximize/.test(e.message),
        );
      });

      it('keeps study attributes (JSON values)', async () => {
        const study = await storage.createStudy('alpha', 'minimize');
        await storage.setStudyUserAttr(study.id, 'note', { text: 'hi', tags: ['a', 'b'], n: 1.5, ok: true, none: null });
        await storage.setStudySystemAttr(study.id, 'version', 3);
        await storage.setStudyUserAttr(study.id, 'note', 'replaced');
        const loaded = await storage.getStudy('alpha');
        assert.deepEqual(loaded?.userAttrs, { note: 'replaced' });
        assert.deepEqual(loaded?.systemAttrs, { version: 3 });
      });
    });

    describe('trials', () => {
      it('numbers trials 0, 1, 2… per study, with distinct ids', async () => {
        const a = await storage.createStudy('a', 'minimize');
        const b = await storage.createStudy('b', 'minimize');
        const t0 = await storage.createTrial(a.id);
        const t1 = await storage.createTrial(a.id, { state: 'WAITING' });
        const u0 = await storage.createTrial(b.id);
        const t2 = await storage.createTrial(a.id);
        assert.deepEqual([t0.number, t1.number, t2.number, u0.number], [0, 1, 2, 0]);
        assert.equal(new Set([t0.id, t1.id, t2.id, u0.id]).size, 4);
        assert.deepEqual((await storage.getAllTrials(a.id)).map((t) => t.number), [0, 1, 2]);
        assert.deepEqual((await storage.getAllTrials(b.id)).map((t) => t.id), [u0.id]);
      });

      it('starts a new trial RUNNING now, or WAITING unstarted, with its template attributes', async () => {
        const study = await storage.createStudy('a', 'minimize');
        const before = Date.now();
        const running = await storage.createTrial(study.id, { userAttrs: { who: 'me' }, systemAttrs: { fixedParams: { x: 1 } } });
        assert.equal(running.state, 'RUNNING');
        assert.ok(running.startedAt !== null && running.startedAt >= before - 1000 && running.startedAt <= Date.now() + 1000);
        assert.equal(running.completedAt, null);
        assert.equal(running.value, null);
        assert.deepEqual([running.params, running.distributions, running.intermediate], [{}, {}, {}]);
        assert.deepEqual(running.userAttrs, { who: 'me' });
        assert.deepEqual(running.systemAttrs, { fixedParams: { x: 1 } });
        const waiting = await storage.createTrial(study.id, { state: 'WAITING' });
        assert.equal(waiting.state, 'WAITING');
        assert.equal(waiting.startedAt, null);
        assert.deepEqual(await storage.getTrial(running.id), running);
      });

      it('gives concurrent createTrial calls distinct, consecutive numbers', async () => {
        const conns = await connections();
        const study = await storage.createStudy('a', 'minimize');
        const n = 40;
        const created = await Promise.all(Array.from({ length: n }, (_, i) => conns[i % conns.length]!.createTrial(study.id, { state: i % 3 === 0 ? 'WAITING' : 'RUNNING' })));
        assert.deepEqual(created.map((t) => t.number).sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i));
        assert.equal(new Set(created.map((t) => t.id)).size, n);
        assert.deepEqual((await storage.getAllTrials(study.id)).map((t) => t.number), Array.from({ length: n }, (_, i) => i));
      });

      it('claims WAITING trials oldest first, and only those', async () => {
        const study = await storage.createStudy('a', 'minimize');
        const w0 = await storage.createTrial(study.id, { state: 'WAITING', userAttrs: { k: 0 }, systemAttrs: { fixedParams: { x: 0 } } });
        await storage.createTrial(study.id);
        const w2 = await storage.createTrial(study.id, { state: 'WAITING' });
        const w3 = await storage.createTrial(study.id, { state: 'WAITING' });
        const before = Date.now();
        const first = await storage.claimWaitingTrial(study.id);
        assert.equal(first?.id, w0.id);
        assert.equal(first?.state, 'RUNNING');
        assert.ok(first!.startedAt !== null && first!.startedAt >= before - 1000);
        assert.deepEqual(first?.userAttrs, { k: 0 });
        assert.deepEqual(first?.systemAttrs, { fixedParams: { x: 0 } });
        assert.equal((await storage.claimWaitingTrial(study.id))?.id, w2.id);
        assert.equal((await storage.claimWaitingTrial(study.id))?.id, w3.id);
        assert.equal(await storage.claimWaitingTrial(study.id), undefined);
        assert.deepEqual((await storage.getAllTrials(study.id)).map((t) => t.state), ['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING']);
      });

      it('never gives one WAITING trial to two concurrent claims', async () => {
        const conns = await connections();
        const study = await storage.createStudy('a', 'minimize');
        const other = await storage.createStudy('b', 'minimize');
        const waiting = 15;
        for (let i = 0; i < waiting; i++) await storage.createTrial(study.id, { state: 'WAITING' });
        await storage.createTrial(other.id, { state: 'WAITING' });
        const claims = await Promise.all(Array.from({ length: 25 }, (_, i) => conns[i % conns.length]!.claimWaitingTrial(study.id)));
        const claimed = claims.filter((t) => t !== undefined);
        assert.equal(claimed.length, waiting);
        assert.deepEqual(claimed.map((t) => t.number).sort((x, y) => x - y), Array.from({ length: waiting }, (_, i) => i));
        assert.ok(claimed.every((t) => t.state === 'RUNNING'));
        assert.deepEqual(await storage.getAllTrials(study.id, ['WAITING']), []);
        assert.equal((await storage.getAllTrials(other.id, ['WAITING'])).length, 1, "another study's queue is untouched");
      });

      it('starts the oldest WAITING trial, else a new RUNNING one', async () => {
        const study = await storage.createStudy('a', 'minimize');
        await storage.createTrial(study.id);
        const waiting = await storage.createTrial(study.id, { state: 'WAITING', systemAttrs: { fixedParams: { x: 1 } } });
        const before = Date.now();
        const first = await storage.startTrial(study.id);
        assert.equal(first?.id, waiting.id);
        assert.equal(first?.state, 'RUNNING');
        assert.ok(first!.startedAt !== null && first!.startedAt >= before - 1000);
        assert.deepEqual(first?.systemAttrs, { fixedParams: { x: 1 } });
        const second = await storage.startTrial(study.id, {});
        assert.deepEqual([second?.number, second?.state, second?.systemAttrs], [2, 'RUNNING', {}]);
        await assert.rejects(storage.startTrial(12345), DloptError);
        await assert.rejects(storage.startTrial(study.id, { maxStarted: 1.5 }), (e: unknown) => e instanceof DloptError && /maxStarted/.test(e.message));
      });

      it('starts no trial once maxStarted have started, WAITING ones not counting', async () => {
        const study = await storage.createStudy('a', 'minimize');
        const other = await storage.createStudy('b', 'minimize');
        const done = await storage.createTrial(study.id);
        await storage.finishTrial(done.id, 'FAIL', null);
        await storage.createTrial(study.id, { state: 'WAITING' });
        await storage.createTrial(other.id);
        assert.equal((await storage.startTrial(study.id, { maxStarted: 2 }))?.number, 1, 'the waiting trial, as the second started');
        assert.equal(await storage.startTrial(study.id, { maxStarted: 2 }), undefined);
        assert.equal(await storage.startTrial(study.id, { maxStarted: 0 }), undefined);
        await storage.createTrial(study.id, { state: 'WAITING' });
        assert.equal(await storage.startTrial(study.id, { maxStarted: 2 }), undefined, 'a waiting trial is not started past the total either');
        assert.deepEqual((await storage.getAllTrials(study.id)).map((t) => t.state), ['FAIL', 'RUNNING', 'WAITING']);
        assert.equal((await storage.startTrial(study.id, { maxStarted: 3 }))?.number, 2);
        assert.equal((await storage.startTrial(other.id, { maxStarted: 2 }))?.number, 1, "another study's trials do not count");
      });

      it('never starts more than maxStarted between concurrent starts', async () => {
        const conns = await connections();
        const study = await storage.createStudy('a', 'minimize');
        for (let i = 0; i < 4; i++) await storage.createTrial(study.id, { state: 'WAITING' });
        const started = await Promise.all(Array.from({ length: 24 }, (_, i) => conns[i % conns.length]!.startTrial(study.id, { maxStarted: 10 })));
        const trials = started.filter((t) => t !== undefined);
        assert.equal(trials.length, 10);
        assert.equal(new Set(trials.map((t) => t.id)).size, 10);
        assert.deepEqual((await storage.getAllTrials(study.id)).map((t) => t.state), Array(10).fill('RUNNING'), 'the 4 waiting trials, then 6 new ones');
      });

      it('keeps params with their distributions', async () => {
        const study = await storage.createStudy('a', 'minimize');
        const trial = await storage.createTrial(study.id);
        const params: [string, Distribution, ParamValue][] = [
          ['lr', { type: 'float', low: 1e-5, high: 0.1, log: true }, 0.0031622776601683794],
          ['dropout', { type: 'float', low: 0, high: 0.5, log: false, step: 0.1 }, 0.3],
          ['depth', { type: 'int', low: 1, high: 9, log: false, step: 2 }, 5],
          ['width', { type: 'int', low: 8, high: 512, log: true, step: 1 }, 64],
          ['optimizer', { type: 'categorical', choices: ['adam', 'sgd'] }, 'sgd'],
          ['mixed', { type: 'categorical', choices: [null, true, 3, 'x', -0.5] }, null],
          ['flag', { type: 'categorical', choices: [false, true] }, false],
        ];
        for (const [name, distribution, value] of params) await storage.setTrialParam(trial.id, name, distribution, value);
        const loaded = await storage.getTrial(trial.id);
        assert.deepEqual(loaded.params, Object.fromEntries(params.map(([n, , v]) => [n, v])));
        assert.deepEqual(loaded.distributions, Object.fromEntries(params.map(([n, d]) => [n, d])));
        assert.deepEqual((await storage.getAllTrials(study.id))[0]!.params, loaded.params);
      });

      it('keeps intermediate values by step, NaN and infinities included', async () => {
        const study = await storage.createStudy('a', 'minimize');
        const trial = await storage.createTrial(study.id);
        await storage.setTrialIntermediateValue(trial.id, 0, 0.25);
        await storage.setTrialIntermediateValue(trial.id, 1, Number.NaN);
        await storage.setTrialIntermediateValue(trial.id, 7, Number.POSITIVE_INFINITY);
        await storage.setTrialIntermediateValue(trial.id, 3, Number.NEGATIVE_INFINITY);
        await storage.setTrialIntermediateValue(trial.id, 10, -1e-300);
        const loaded = await storage.getTrial(trial.id);
        assert.deepEqual(loaded.intermediate, { 0: 0.25, 1: Number.NaN, 3: Number.NEGATIVE_INFINITY, 7: Number.POSITIVE_INFINITY, 10: -1e-300 });
        assert.ok(Number.isNaN((await storage.getAllTrials(study.id))[0]!.intermediate[1]));
      });

      it('keeps trial attributes (JSON values), the last write of a key winning', async () => {
        const study = await storage.createStudy('a', 'minimize');
        const trial = await storage.createTrial(study.id, { userAttrs: { a: 1 } });
        const nested = { list: [1, 'two', null, { three: [3] }], flag: false, text: 'é ✓ "quoted"' };
        await storage.setTrialUserAttr(trial.id, 'nested', nested);
        await storage.setTrialUserAttr(trial.id, 'a', 2);
        await storage.setTrialSystemAttr(trial.id, 'completed_rung_0', 0.5);
        await storage.setTrialSystemAttr(trial.id, 'none', null);
        const loaded = await storage.getTrial(trial.id);
        assert.deepEqual(loaded.userAttrs, { a: 2, nested });
        assert.deepEqual(loaded.systemAttrs, { completed_rung_0: 0.5, none: null });
      });

      it('finishes a RUNNING trial once (compare-and-set)', async () => {
        const study = await storage.createStudy('a', 'maximize');
        const trial = await storage.createTrial(study.id);
        const before = Date.now();
        assert.equal(await storage.finishTrial(trial.id, 'COMPLETE', 0.75), true);
        assert.equal(await storage.finishTrial(trial.id, 'FAIL', null), false);
        const done = await storage.getTrial(trial.id);
        assert.equal(done.state, 'COMPLETE');
        assert.equal(done.value, 0.75);
        assert.ok(done.completedAt !== null && done.completedAt >= before - 1000);

        const waiting = await storage.createTrial(study.id, { state: 'WAITING' });
        assert.equal(await storage.finishTrial(waiting.id, 'COMPLETE', 1), false, 'a WAITING trial is not finished directly');
        assert.equal((await storage.getTrial(waiting.id)).state, 'WAITING');

        const pruned = await storage.createTrial(study.id);
        assert.equal(await storage.finishTrial(pruned.id, 'PRUNED', 0.1), true);
        assert.equal((await storage.getTrial(pruned.id)).value, 0.1);
        const failed = await storage.createTrial(study.id);
        assert.equal(await storage.finishTrial(failed.id, 'FAIL', null), true);
        assert.equal((await storage.getTrial(failed.id)).value, null);
      });

      it('lets exactly one of concurrent finishes win', async () => {
        const conns = await connections();
        const study = await storage.createStudy('a', 'minimize');
        const trial = await storage.createTrial(study.id);
        const results = await Promise.all(
          Array.from({ length: 9 }, (_, i) => conns[i % conns.length]!.finishTrial(trial.id, i % 2 === 0 ? 'COMPLETE' : 'FAIL', i % 2 === 0 ? i : null)),
        );
        assert.equal(results.filter(Boolean).length, 1);
        const winner = results.indexOf(true);
        const done = await storage.getTrial(trial.id);
        assert.equal(done.state, winner % 2 === 0 ? 'COMPLETE' : 'FAIL');
      });

      it('refuses to change a finished trial', async () => {
        const study = await storage.createStudy('a', 'minimize');
        const trial = await storage.createTrial(study.id);
        await storage.finishTrial(trial.id, 'COMPLETE', 1);
        await assert.rejects(storage.setTrialParam(trial.id, 'x', { type: 'float', low: 0, high: 1, log: false }, 0.5), DloptError);
        await assert.rejects(storage.setTrialIntermediateValue(trial.id, 0, 1), DloptError);
        await assert.rejects(storage.setTrialUserAttr(trial.id, 'k', 1), DloptError);
        await assert.rejects(storage.setTrialSystemAttr(trial.id, 'k', 1), DloptError);
        const loaded = await storage.getTrial(trial.id);
        assert.deepEqual([loaded.params, loaded.intermediate, loaded.userAttrs, loaded.systemAttrs], [{}, {}, {}, {}]);
      });

      it('lists trials in number order, filtered by state', async () => {
        const study = await storage.createStudy('a', 'minimize');
        const t = [];
        for (let i = 0; i < 6; i++) t.push(await storage.createTrial(study.id, { state: i < 2 ? 'WAITING' : 'RUNNING' }));
        await storage.finishTrial(t[4]!.id, 'COMPLETE', 4);
        await storage.finishTrial(t[2]!.id, 'COMPLETE', 2);
        await storage.finishTrial(t[3]!.id, 'PRUNED', null);
        await storage.claimWaitingTrial(study.id);
        const all = await storage.getAllTrials(study.id);
        assert.deepEqual(all.map((x) => x.number), [0, 1, 2, 3, 4, 5]);
        assert.deepEqual(all.map((x) => x.state), ['RUNNING', 'WAITING', 'COMPLETE', 'PRUNED', 'COMPLETE', 'RUNNING']);
        assert.deepEqual((await storage.getAllTrials(study.id, ['COMPLETE'])).map((x) => x.number), [2, 4]);
        assert.deepEqual((await storage.getAllTrials(study.id, ['RUNNING', 'WAITING'])).map((x) => x.number), [0, 1, 5]);
        assert.deepEqual(await storage.getAllTrials(study.id, []), []);
      });

      it('rejects unknown trial ids', async () => {
        await storage.createStudy('a', 'minimize');
        await assert.rejects(storage.getTrial(987654), DloptError);
      });
    });

    describe('heartbeats', () => {
      // A trial counts as alive for GRACE_MS after its last sign of life, measured by the storage's clock: the few
      // storage calls between a heartbeat and the check must take less than that even on a loaded machine.
      const GRACE_MS = 600;

      it('fails only RUNNING trials silent for longer than the grace period', async () => {
        const study = await storage.createStudy('a', 'minimize');
        const other = await storage.createStudy('b', 'minimize');
        const alive = await storage.createTrial(study.id);
        const dead = await storage.createTrial(study.id);
        const waiting = await storage.createTrial(study.id, { state: 'WAITING' });
        const done = await storage.createTrial(study.id);
        await storage.finishTrial(done.id, 'COMPLETE', 1);
        const elsewhere = await storage.createTrial(other.id);
        await sleep(GRACE_MS + 100);
        await storage.recordHeartbeat(alive.id);
        const fresh = await storage.createTrial(study.id);

        const failed = await storage.failStaleTrials(study.id, GRACE_MS);
        assert.deepEqual(failed.map((t) => t.id), [dead.id]);
        assert.equal(failed[0]!.state, 'FAIL');
        const states = new Map((await storage.getAllTrials(study.id)).map((t) => [t.id, t.state]));
        assert.equal(states.get(alive.id), 'RUNNING');
        assert.equal(states.get(fresh.id), 'RUNNING');
        assert.equal(states.get(dead.id), 'FAIL');
        assert.equal(states.get(waiting.id), 'WAITING');
        assert.equal(states.get(done.id), 'COMPLETE');
        assert.equal((await storage.getTrial(elsewhere.id)).state, 'RUNNING', "another study's trials are not touched");
        assert.deepEqual(await storage.failStaleTrials(study.id, GRACE_MS), []);
        assert.equal(await storage.finishTrial(dead.id, 'COMPLETE', 0), false, 'the dead worker cannot finish it any more');
      });

      it('counts from the claim for a trial that waited', async () => {
        const study = await storage.createStudy('a', 'minimize');
        await storage.createTrial(study.id, { state: 'WAITING' });
        await sleep(GRACE_MS + 100);
        const claimed = await storage.claimWaitingTrial(study.id);
        assert.deepEqual(await storage.failStaleTrials(study.id, GRACE_MS), []);
        assert.equal((await storage.getTrial(claimed!.id)).state, 'RUNNING');
      });

      it('takes a late heartbeat for a finished trial without complaint', async () => {
        const study = await storage.createStudy('a', 'minimize');
        const trial = await storage.createTrial(study.id);
        await storage.finishTrial(trial.id, 'COMPLETE', 1);
        await storage.recordHeartbeat(trial.id);
        assert.equal((await storage.getTrial(trial.id)).state, 'COMPLETE');
      });
    });

    describe('copies', () => {
      it('returns objects the caller can change without changing the storage', async () => {
        const study = await storage.createStudy('a', 'minimize');
        const record = await storage.createStudy('a', 'minimize', { loadIfExists: true });
        record.userAttrs.x = 1;
        record.name = 'changed';
        assert.deepEqual((await storage.getStudy('a'))?.userAttrs, {});
        const trial = await storage.createTrial(study.id);
        await storage.setTrialParam(trial.id, 'c', { type: 'categorical', choices: ['a', 'b'] }, 'a');
        await storage.setTrialIntermediateValue(trial.id, 0, 1);
        await storage.setTrialUserAttr(trial.id, 'obj', { list: [1] });
        for (const got of [await storage.getTrial(trial.id), (await storage.getAllTrials(study.id))[0]!]) {
          got.params.c = 'b';
          (got.distributions.c as unknown as { choices: ParamValue[] }).choices.push('z');
          got.intermediate[0] = 99;
          (got.userAttrs.obj as { list: number[] }).list.push(2);
          got.state = 'COMPLETE';
        }
        const loaded = await storage.getTrial(trial.id);
        assert.equal(loaded.params.c, 'a');
        assert.deepEqual(loaded.distributions.c, { type: 'categorical', choices: ['a', 'b'] });
        assert.deepEqual(loaded.intermediate, { 0: 1 });
        assert.deepEqual(loaded.userAttrs, { obj: { list: [1] } });
        assert.equal(loaded.state, 'RUNNING');
      });

      it('keeps what it was given, whatever the caller does with it afterwards', async () => {
        const study = await storage.createStudy('a', 'minimize');
        const userAttrs = { tags: ['x'] };
        const systemAttrs = { fixedParams: { lr: 0.1 } };
        const trial = await storage.createTrial(study.id, { state: 'WAITING', userAttrs, systemAttrs });
        userAttrs.tags.push('y');
        systemAttrs.fixedParams.lr = 0.2;
        const choices: ParamValue[] = ['a', 'b'];
        const attr = { n: [1] };
        await storage.setTrialParam(trial.id, 'c', { type: 'categorical', choices }, 'a');
        await storage.setTrialUserAttr(trial.id, 'attr', attr);
        await storage.setStudyUserAttr(study.id, 'attr', attr);
        choices.push('c');
        attr.n.push(2);
        const loaded = await storage.getTrial(trial.id);
        assert.deepEqual(loaded.userAttrs, { tags: ['x'], attr: { n: [1] } });
        assert.deepEqual(loaded.systemAttrs, { fixedParams: { lr: 0.1 } });
        assert.deepEqual(loaded.distributions.c, { type: 'categorical', choices: ['a', 'b'] });
        assert.deepEqual((await storage.getStudy('a'))?.userAttrs, { attr: { n: [1] } });
      });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
