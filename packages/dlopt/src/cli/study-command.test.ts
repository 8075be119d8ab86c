import assert from 'node:assert/strict';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DloptError } from '../errors.js';
import { tempDir } from '../test-support/fixtures.js';
import { hasStackTrace, runCli } from '../test-support/run-cli.js';
import { InMemoryStorage } from '../tune/storages/in-memory-storage.js';
import { createStudy } from '../tune/study.js';
import { TrialPruned } from '../tune/trial-pruned.js';
import { formatStudyReport, shortNames, studyReport } from './study-command.js';

/** A study of five trials in every final state (and one running), as dlopt tune records them. */
async function sampleStorage(): Promise<InMemoryStorage> {
  const storage = new InMemoryStorage();
  const study = await createStudy({ storage, name: 'cifar', direction: 'maximize' });
  await storage.setStudySystemAttr(study.id, 'tune', { metric: 'val_accuracy', samplerSeed: 1, sampler: 'tpe' });
  const values = [0.41, 0.63, Number.NaN, 0.55, -1];
  for (const [i, value] of values.entries()) {
    await study.optimize(
      (trial) => {
        trial.suggestFloat('optimizer.lr', 1e-4, 1e-1, { log: true });
        trial.suggestCategorical('batchSize', [32, 64]);
        trial.setUserAttr('epochs', 2);
        if (value === -1) {
          trial.report(0.2, 1);
          throw new TrialPruned();
        }
        if (Number.isNaN(value)) throw new DloptError(`trial ${i} broke`);
        return value;
      },
      { nTrials: 1, catch: true },
    );
  }
  await study.ask();
  await createStudy({ storage, name: 'other' });
  return storage;
}

describe('dlopt study show', () => {
  it('reports trials by number, their durations and the best trial (maximize)', async () => {
    const report = await studyReport(await sampleStorage(), 'cifar');
    assert.equal(report.study, 'cifar');
    assert.equal(report.direction, 'maximize');
    assert.equal(report.metric, 'val_accuracy');
    assert.deepEqual(report.trials.map((t) => [t.number, t.state, t.value]), [
      [0, 'COMPLETE', 0.41],
      [1, 'COMPLETE', 0.63],
      [2, 'FAIL', null],
      [3, 'COMPLETE', 0.55],
      [4, 'PRUNED', 0.2],
      [5, 'RUNNING', null],
    ]);
    assert.equal(report.bestTrial?.number, 1);
    assert.deepEqual(Object.keys(report.bestTrial!.params), ['optimizer.lr', 'batchSize']);
    assert.equal(report.trials[2]!.failReason, 'trial 2 broke');
    assert.equal(report.trials[4]!.intermediate[1], 0.2);
    assert.equal(report.trials[1]!.userAttrs.epochs, 2);
    for (const t of report.trials) assert.ok(t.duration !== null && t.duration >= 0 && t.startedAt !== null);
    assert.equal(report.trials[5]!.completedAt, null);
    // JSON-safe all the way.
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });

  it('prints a table, the failures and the best trial', async () => {
    // Bold headings may carry escape codes (when stdout is a terminal or FORCE_COLOR is set).
    const lines = formatStudyReport(await studyReport(await sampleStorage(), 'cifar')).map((l) => stripVTControlCharacters(l));
    const text = lines.join('\n');
    assert.match(lines[0]!, /^Study 'cifar': maximize val_accuracy; 6 trials \(3 complete, 1 pruned, 1 failed, 1 running\)$/);
    assert.match(text, /#\s+state\s+val_accuracy\s+optimizer\.lr\s+batchSize\s+duration/);
    assert.match(text, /\n1\s+COMPLETE\s+0\.6300\s+\d/);
    assert.match(text, /\n2\s+FAIL\s+—/);
    assert.match(text, /Failed trials:\n {2}#2: trial 2 broke/);
    assert.match(text, /Best trial: #1, val_accuracy 0\.6300\n {2}optimizer\.lr: [\d.e-]+\n {2}batchSize: (32|64)/);
  });

  it('picks the lowest value when minimizing, and says when nothing completed', async () => {
    const storage = new InMemoryStorage();
    const study = await createStudy({ storage, name: 'loss', direction: 'minimize' });
    for (const v of [0.9, 0.3, 0.5]) await study.optimize(() => v, { nTrials: 1 });
    assert.equal((await studyReport(storage, 'loss')).bestTrial?.value, 0.3);
    await createStudy({ storage, name: 'empty' });
    const empty = await studyReport(storage, 'empty');
    assert.equal(empty.bestTrial, null);
    assert.match(formatStudyReport(empty).join('\n'), /0 trials\n\nNo completed trial yet\./);
  });

  it('names an unknown study and lists those in the storage (exit 1)', async () => {
    const storage = await sampleStorage();
    await assert.rejects(studyReport(storage, 'cifra'), (e: unknown) => {
      assert.ok(e instanceof DloptError);
      assert.equal(e.exitCode, 1);
      assert.equal(e.message, "no study named 'cifra' in this storage (it has 'cifar', 'other')");
      return true;
    });
    await assert.rejects(studyReport(new InMemoryStorage(), 'x'), /no study named 'x' in this storage \(it has none\)/);
  });

  it('shortens parameter names only as far as they stay unambiguous', () => {
    const short = shortNames(['optimizer.lr', 'batchSize', 'optimizer.name', 'schedule.name', 'augment.crop.padding', 'regularization.l2', 'l2']);
    assert.deepEqual(Object.fromEntries(short), {
      'optimizer.lr': 'lr',
      batchSize: 'batchSize',
      'optimizer.name': 'optimizer',
      'schedule.name': 'schedule',
      'augment.crop.padding': 'padding',
      'regularization.l2': 'regularization.l2',
      l2: 'l2',
    });
  });

  describe('on the command line', () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    before(async () => ({ dir, cleanup } = await tempDir()));
    after(() => cleanup());

    it('refuses a memory storage (exit 2): there is nothing to show from another process', async () => {
      const r = await runCli(['study', 'show', '--storage', 'memory', '--study', 'x']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /a memory storage lives only inside the process that ran the study/);
      assert.ok(!hasStackTrace(r.stderr), r.stderr);
    });

    it('fails (exit 1) on a storage file that does not exist, without creating it', async () => {
      const path = join(dir, 'missing.db');
      const r = await runCli(['study', 'show', '--storage', `sqlite:${path}`, '--study', 'x']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`no study storage at ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(the file does not exist\\)`));
      assert.ok(!hasStackTrace(r.stderr), r.stderr);
    });

    it('needs --storage and --study (exit 2)', async () => {
      const r = await runCli(['study', 'show', '--study', 'x']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /required option '--storage <url>' not specified/);
    });
  });
});
