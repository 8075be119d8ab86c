import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordingPruner, UniformTestSampler, sleep } from '../test-support/tune-fixtures.js';
import { UsageError } from '../errors.js';
import { contains, trialRandom } from './distribution-utils.js';
import type { Distribution, ParamValue } from './distributions.js';
import type { Pruner } from './pruners/pruner.js';
import type { Sampler, SamplingContext } from './samplers/sampler.js';
import { InMemoryStorage } from './storages/in-memory-storage.js';
import type { NewTrial } from './storages/storage.js';
import { Trial } from './trial.js';
import type { FrozenTrial } from './trial-state.js';

/** A study's worth of plumbing without Study: a storage, some finished trials, and one new RUNNING trial. */
async function setup(options: { sampler?: Sampler; pruner?: Pruner; storage?: InMemoryStorage; template?: NewTrial; before?: (s: InMemoryStorage, studyId: number) => Promise<void> } = {}) {
  const storage = options.storage ?? new InMemoryStorage();
  const study = await storage.createStudy('t', 'minimize');
  await options.before?.(storage, study.id);
  const frozen = await storage.createTrial(study.id, options.template);
  const others = (await storage.getAllTrials(study.id)).filter((t) => t.id !== frozen.id);
  const sampler = options.sampler ?? new UniformTestSampler(7);
  const host = { storage, studyId: study.id, studyName: 't', direction: 'minimize' as const, sampler, pruner: options.pruner };
  return { storage, studyId: study.id, trial: new Trial(host, frozen, others), sampler };
}

async function completed(storage: InMemoryStorage, studyId: number, params: [string, Distribution, ParamValue][], value: number): Promise<void> {
  const t = await storage.createTrial(studyId);
  for (const [name, d, v] of params) await storage.setTrialParam(t.id, name, d, v);
  await storage.finishTrial(t.id, 'COMPLETE', value);
}

describe('Trial suggestions', () => {
  it('returns values inside the distributions and stores them with it', async () => {
    const { trial, storage } = await setup();
    const lr = trial.suggestFloat('lr', 1e-4, 1e-1, { log: true });
    const drop = trial.suggestFloat('dropout', 0, 0.5, { step: 0.1 });
    const depth = trial.suggestInt('depth', 1, 4);
    const width = trial.suggestInt('width', 16, 256, { log: true });
    const opt = trial.suggestCategorical('optimizer', ['adam', 'sgd']);
    assert.ok(lr >= 1e-4 && lr <= 0.1);
    assert.ok(contains({ type: 'float', low: 0, high: 0.5, log: false, step: 0.1 }, drop));
    assert.ok(Number.isInteger(depth) && depth >= 1 && depth <= 4);
    assert.ok(Number.isInteger(width) && width >= 16 && width <= 256);
    assert.ok(opt === 'adam' || opt === 'sgd');
    await trial.flush();
    const stored = await storage.getTrial(trial.id);
    assert.deepEqual(stored.params, { lr, dropout: drop, depth, width, optimizer: opt });
    assert.deepEqual(stored.distributions.lr, { type: 'float', low: 1e-4, high: 0.1, log: true });
    assert.deepEqual(stored.distributions.depth, { type: 'int', low: 1, high: 4, log: false, step: 1 });
    assert.deepEqual(trial.params, stored.params);
  });

  it('samples each parameter from its own stream of (seed, trial number, name)', async () => {
    const seen: { name: string; first: number; number: number }[] = [];
    const sampler: Sampler = {
      name: 'spy',
      seed: 99,
      sampleIndependent(ctx: SamplingContext, name: string) {
        seen.push({ name, first: ctx.rng.next(), number: ctx.trial.number });
        return 0.5;
      },
    };
    const { trial } = await setup({ sampler });
    trial.suggestFloat('a', 0, 1);
    trial.suggestFloat('b', 0, 1);
    assert.deepEqual(
      seen.map((s) => s.first),
      ['a', 'b'].map((n) => trialRandom(99, trial.number, n).next()),
    );
  });

  it('returns the same value when a name is suggested again, without sampling again', async () => {
    const { trial, sampler } = await setup();
    const s = sampler as UniformTestSampler;
    const x = trial.suggestFloat('x', -1, 1);
    const c = trial.suggestCategorical('c', [1, 2, 3]);
    assert.equal(trial.suggestFloat('x', -1, 1), x);
    assert.equal(trial.suggestCategorical('c', [1, 2, 3]), c);
    assert.equal(s.calls.length, 2);
  });

  it('refuses another distribution under a name already suggested', async () => {
    const { trial } = await setup();
    trial.suggestFloat('x', 0, 1);
    trial.suggestCategorical('c', ['a', 'b']);
    const conflict = (f: () => unknown) =>
      assert.throws(f, (e: unknown) => e instanceof UsageError && /'x'|'c'/.test(e.message) && /one name, one distribution/.test(e.message));
    conflict(() => trial.suggestFloat('x', 0, 2));
    conflict(() => trial.suggestFloat('x', 0, 1, { step: 0.5 }));
    conflict(() => trial.suggestInt('x', 0, 1));
    conflict(() => trial.suggestCategorical('c', ['b', 'a']));
  });

  it('refuses invalid distributions with the parameter name', async () => {
    const { trial } = await setup();
    assert.throws(() => trial.suggestFloat('lr', 0.1, 0.01), /parameter 'lr': low \(0.1\) is greater than high \(0.01\)/);
    assert.throws(() => trial.suggestFloat('lr', 0, 1, { log: true }), UsageError);
    assert.throws(() => trial.suggestInt('n', 1, 10, { log: true, step: 2 }), UsageError);
    assert.throws(() => trial.suggestCategorical('c', []), /parameter 'c'/);
    assert.deepEqual(trial.params, {});
  });

  it('uses enqueued fixed params when they fit the distribution', async () => {
    const { trial } = await setup({ template: { systemAttrs: { fixedParams: { lr: 0.01, opt: 'sgd', n: 3, out: 7, wrongType: 'x' } } } });
    assert.equal(trial.suggestFloat('lr', 1e-4, 1, { log: true }), 0.01);
    assert.equal(trial.suggestCategorical('opt', ['adam', 'sgd']), 'sgd');
    assert.equal(trial.suggestInt('n', 1, 5), 3);
    const out = trial.suggestInt('out', 1, 5);
    assert.ok(out >= 1 && out <= 5, 'a fixed value outside the range is sampled instead');
    assert.equal(typeof trial.suggestFloat('wrongType', 0, 1), 'number');
  });

  it('uses the relative proposal for the intersection space, once per trial', async () => {
    const xd: Distribution = { type: 'float', low: 0, high: 10, log: false };
    const cd: Distribution = { type: 'categorical', choices: ['a', 'b'] };
    let relativeCalls = 0;
    let relativeSpace: string[] = [];
    let relativeTrials: number[] = [];
    const sampler: Sampler = {
      name: 'joint',
      seed: 5,
      sampleIndependent: (_ctx, _name, d) => (d.type === 'categorical' ? d.choices[0]! : d.low),
      sampleRelative(ctx, space) {
        relativeCalls++;
        relativeSpace = Object.keys(space);
        relativeTrials = ctx.trials.map((t) => t.number);
        return { x: 7.5, c: 'zzz' };
      },
    };
    const { trial } = await setup({
      sampler,
      before: async (s, id) => {
        await completed(s, id, [['x', xd, 1], ['c', cd, 'a']], 1);
        await completed(s, id, [['x', xd, 2], ['c', cd, 'b'], ['y', xd, 3]], 2);
        await s.createTrial(id);
      },
    });
    assert.equal(relativeCalls, 1);
    assert.deepEqual(relativeSpace, ['c', 'x']);
    assert.deepEqual(relativeTrials, [0, 1, 2]);
    assert.equal(trial.suggestFloat('x', 0, 10), 7.5);
    assert.equal(trial.suggestCategorical('c', ['a', 'b']), 'a', 'an invalid relative value falls back to sampleIndependent');
    assert.equal(relativeCalls, 1);
  });

  it('does not use the relative proposal for a parameter now asked with another distribution', async () => {
    const xd: Distribution = { type: 'float', low: 0, high: 10, log: false };
    const sampler: Sampler = { name: 'joint', seed: 5, sampleIndependent: () => 0.25, sampleRelative: () => ({ x: 7.5 }) };
    const { trial } = await setup({ sampler, before: (s, id) => completed(s, id, [['x', xd, 1]], 1) });
    assert.equal(trial.suggestFloat('x', 0, 1), 0.25);
  });

  it('does not call sampleRelative before any trial completed', async () => {
    let called = false;
    const sampler: Sampler = {
      name: 'joint',
      seed: 1,
      sampleIndependent: () => 0,
      sampleRelative: () => {
        called = true;
        return {};
      },
    };
    await setup({ sampler });
    assert.equal(called, false);
  });

  it('shows the sampler the other trials as they were when the trial started', async () => {
    const sampler = new UniformTestSampler();
    const { trial, storage, studyId } = await setup({ sampler, before: async (s, id) => void (await s.createTrial(id)) });
    await storage.createTrial(studyId);
    trial.suggestFloat('x', 0, 1);
    assert.deepEqual(sampler.calls[0]!.others, [0]);
    assert.equal(sampler.calls[0]!.trial, 1);
  });

  it('refuses a sampler value outside the distribution', async () => {
    const sampler: Sampler = { name: 'broken', seed: 0, sampleIndependent: () => 5 };
    const { trial } = await setup({ sampler });
    assert.throws(() => trial.suggestFloat('x', 0, 1), /sampler broken returned 5 for 'x'/);
  });
});

describe('Trial reports and pruning', () => {
  it('records reports by step, the first report of a step winning', async () => {
    const { trial, storage } = await setup();
    trial.report(0.5, 0);
    trial.report(0.4, 1);
    trial.report(9, 1);
    trial.report(Number.NaN, 2);
    assert.deepEqual(trial.intermediateValues, { 0: 0.5, 1: 0.4, 2: Number.NaN });
    assert.ok(Number.isNaN(trial.lastReportedValue()!));
    await trial.flush();
    assert.deepEqual((await storage.getTrial(trial.id)).intermediate, { 0: 0.5, 1: 0.4, 2: Number.NaN });
    assert.throws(() => trial.report(1, -1), UsageError);
    assert.throws(() => trial.report(1, 1.5), UsageError);
    assert.throws(() => trial.report('1' as unknown as number, 3), UsageError);
  });

  it('never prunes without a pruner', async () => {
    const { trial } = await setup();
    trial.report(1e9, 0);
    assert.equal(trial.shouldPrune(), false);
  });

  it('shows the pruner this trial and the other trials, refreshed after a report', async () => {
    const pruner = new RecordingPruner((ctx) => (ctx.trial.intermediate[1] ?? 0) > 1);
    const { trial, storage, studyId } = await setup({ pruner, before: async (s, id) => void (await s.createTrial(id)) });
    trial.report(0.5, 0);
    assert.equal(trial.shouldPrune(), false);
    assert.deepEqual(pruner.seen[0]!.trials.map((t) => t.number), [0]);
    assert.equal(pruner.seen[0]!.studyName, 't');
    assert.deepEqual(pruner.seen[0]!.trial.intermediate, { 0: 0.5 });
    assert.equal(pruner.seen[0]!.trial.number, 1);

    await storage.createTrial(studyId);
    trial.report(2, 1);
    await trial.flush();
    assert.equal(trial.shouldPrune(), true);
    assert.deepEqual(pruner.seen[1]!.trials.map((t) => t.number), [0, 2]);
  });
});

describe('Trial writes', () => {
  it('writes in order even when the storage answers out of order', async () => {
    class Jittery extends InMemoryStorage {
      override async setTrialUserAttr(trialId: number, key: string, value: unknown): Promise<void> {
        await sleep(value === 1 ? 30 : 0);
        return super.setTrialUserAttr(trialId, key, value);
      }
    }
    const { trial, storage } = await setup({ storage: new Jittery() });
    trial.setUserAttr('k', 1);
    trial.setUserAttr('k', 2);
    await trial.flush();
    assert.deepEqual((await storage.getTrial(trial.id)).userAttrs, { k: 2 });
  });

  it('keeps a copy of user attributes', async () => {
    const { trial, storage } = await setup();
    const value = { list: [1] };
    trial.setUserAttr('v', value);
    value.list.push(2);
    await trial.flush();
    assert.deepEqual((await storage.getTrial(trial.id)).userAttrs, { v: { list: [1] } });
    assert.deepEqual(trial.userAttrs, { v: { list: [1] } });
  });

  it('surfaces a write error at the next report or flush, and skips the writes after it', async () => {
    class Failing extends InMemoryStorage {
      paramWrites = 0;
      override async setTrialParam(...args: Parameters<InMemoryStorage['setTrialParam']>): Promise<void> {
        this.paramWrites++;
        if (args[1] === 'bad') throw new Error('disk full');
        return super.setTrialParam(...args);
      }
    }
    const storage = new Failing();
    const { trial } = await setup({ storage });
    const x = trial.suggestFloat('bad', 0, 1);
    assert.equal(trial.params.bad, x, 'the value is the trial’s at once');
    trial.suggestFloat('after', 0, 1);
    await assert.rejects(trial.flush(), /disk full/);
    assert.throws(() => trial.report(1, 0), /disk full/);
    assert.equal(storage.paramWrites, 1);
    assert.deepEqual((await storage.getTrial(trial.id)).params, {});
  });

  it('takes nothing more once finished', async () => {
    const { trial } = await setup();
    trial.suggestFloat('x', 0, 1);
    trial.markFinished();
    assert.throws(() => trial.suggestFloat('y', 0, 1), /trial 0 has finished/);
    assert.throws(() => trial.report(1, 0), UsageError);
    assert.throws(() => trial.setUserAttr('k', 1), UsageError);
  });

  it('reads back as a RUNNING frozen trial with what it has so far', async () => {
    const { trial } = await setup({ template: { userAttrs: { u: 1 } } });
    trial.suggestInt('n', 0, 3);
    trial.report(1, 0);
    const frozen: FrozenTrial = trial.frozen();
    assert.equal(frozen.state, 'RUNNING');
    assert.deepEqual(Object.keys(frozen.params), ['n']);
    assert.deepEqual(frozen.userAttrs, { u: 1 });
    assert.deepEqual(frozen.intermediate, { 0: 1 });
    await trial.flush();
  });
});
