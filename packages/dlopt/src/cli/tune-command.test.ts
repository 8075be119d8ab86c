import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cifarFixture, tempDir, writeTarGz } from '../test-support/fixtures.js';
import { hasStackTrace, runCli } from '../test-support/run-cli.js';
import { openStorage } from '../tune/storages/open-storage.js';
import type { StudyReport } from './study-command.js';

describe('dlopt tune and dlopt study show (end to end)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let data: string;
  /** Why SQLite storages cannot be used here, if they cannot. */
  let noSqlite: string | undefined;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    data = await writeTarGz(join(dir, 'cifar.tar.gz'), cifarFixture(10, null).files);
    try {
      await (await openStorage(`sqlite:${join(dir, 'probe.db')}`)).close();
    } catch (error) {
      noSqlite = `SQLite storage unavailable: ${(error as Error).message}`;
    }
  });
  after(() => cleanup());

  const train = ['train:', '  epochs: 2', '  batchSize: 8', '  limit: 24', '  valSize: 10'];
  let configs = 0;
  /** Writes a tune config (YAML lines) and returns its path. */
  const config = async (lines: string[], name = `tune-${++configs}.yaml`) => {
    const path = join(dir, name);
    await writeFile(path, lines.join('\n') + '\n');
    return path;
  };
  const tune = (file: string, ...flags: string[]) => runCli(['tune', '--config', file, '--data', data, ...flags], { cwd: dir });
  const show = async (storage: string, study: string) => {
    const r = await runCli(['study', 'show', '--storage', storage, '--study', study, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as StudyReport;
  };

  it('runs a study of 3 trials, shows each trial and epoch, and ends with the best trial', async () => {
    const file = await config([
      'trials: 3',
      'sampler: { name: tpe, seed: 1 }',
      ...train,
      'search:',
      '  optimizer.lr: { type: float, low: 0.0001, high: 0.01, log: true }',
      '  batchSize: [8, 16]',
      '  optimizer.name: [adam, sgdw]',
    ], 'lr-search.yaml');
    const r = await tune(file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Study 'lr-search' \(memory\): maximize val_accuracy, 3 trials; sampler tpe \(seed 1\), pruner median\n {2}optimizer\.lr: float \[0\.0001, 0\.01\] log\n/);
    for (const n of [0, 1, 2]) {
      assert.match(r.stderr, new RegExp(`\\ntrial ${n} epoch 1/2 val_accuracy \\d\\.\\d{4} \\(\\d+s\\)\\ntrial ${n} epoch 2/2 val_accuracy`));
      assert.match(r.stderr, new RegExp(`\\ntrial ${n} COMPLETE val_accuracy \\d\\.\\d{4} \\(best \\d\\.\\d{4} #\\d\\) lr=[\\d.e-]+ batchSize=(8|16) optimizer=(adam|sgdw) \\d+s\\n`));
    }
    assert.match(r.stdout, /Study 'lr-search': maximize val_accuracy; 3 trials \(3 complete, 0 pruned, 0 failed\)/);
    assert.match(r.stdout, /\n0\s+COMPLETE\s+\d\.\d{4}\s+[\d.e-]+\s+(8|16)\s+(adam|sgdw)\s+\d+s\n1\s+COMPLETE/);
    assert.match(r.stdout, /Best trial: #\d, val_accuracy \d\.\d{4}\n {2}optimizer\.lr: [\d.e-]+\n {2}batchSize: (8|16)\n {2}optimizer\.name: (adam|sgdw)/);
    assert.match(r.stdout, /The study was kept in memory/);
    assert.ok(!hasStackTrace(r.stderr), r.stderr);
  });

  it('rejects a config with an unknown key, low > high, empty choices, an unknown sampler or a bad search path, naming each exact path (exit 2)', async () => {
    const file = await config([
      'trials: 2',
      'prunr: none',
      'sampler: { name: bohb }',
      ...train,
      'search:',
      '  optimizer.lr: { type: float, low: 0.1, high: 0.001 }',
      '  optimizer.name: { type: categorical, choices: [] }',
      '  optimizer.learningRate: [0.1]',
    ]);
    const r = await tune(file);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.startsWith(`dlopt: error: invalid ${file}:\n`), r.stderr);
    for (const message of [
      /\n {2}unknown key "prunr"/,
      /\n {2}search\.optimizer\.lr\.low: must be <= high \(0\.001\), got 0\.1\n/,
      /\n {2}search\.optimizer\.name\.choices: must not be empty\n/,
      /\n {2}sampler\.name: unknown sampler "bohb"; choose from random, grid, tpe, gp, evolution\n/,
      /\n {2}search\.optimizer\.learningRate: optimizer has no setting "learningRate" \(it has name, lr,/,
    ]) {
      assert.match(r.stderr, message);
    }
    assert.ok(!hasStackTrace(r.stderr), r.stderr);
  });

  it('refuses a study without an end (exit 2)', async () => {
    const r = await tune(await config([...train, 'search: { batchSize: [8] }']));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /dlopt: error: .*tune-\d+\.yaml: give trials \(or --trials N\) or timeout \(or --timeout SECONDS\): the study needs an end/);
  });

  it('prunes trials a pruner stops (state PRUNED) and fails when none completes', async () => {
    const file = await config(['trials: 2', 'sampler: { name: random, seed: 3 }', 'pruner: { name: threshold, lower: 1.1 }', ...train, 'search:', '  optimizer.lr: { type: float, low: 0.0001, high: 0.01, log: true }']);
    const r = await tune(file);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /\ntrial 0 PRUNED at epoch 1 val_accuracy \d\.\d{4} \(no complete trial yet\) lr=[\d.e-]+ \d+s\n/);
    assert.match(r.stderr, /\ntrial 1 PRUNED at epoch 1 /);
    assert.doesNotMatch(r.stderr, /epoch 2\/2/);
    assert.match(r.stdout, /\n0\s+PRUNED\s+\d\.\d{4}/);
    assert.match(r.stderr, /dlopt: error: no trial completed \(0 complete, 2 pruned, 0 failed\)/);
  });

  it('fails a trial whose parameters make the training config invalid, with the message, and goes on', async () => {
    const file = await config(['sampler: { name: grid, seed: 1 }', 'pruner: none', ...train, 'search:', '  schedule.name: [step, cosine]']);
    const r = await tune(file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /2 trials; sampler grid/);
    assert.match(r.stderr, /\ntrial \d FAIL schedule=step \d+s: these parameters make an invalid training config: schedule\.stepSize: /);
    assert.match(r.stderr, /\ntrial \d COMPLETE val_accuracy \d\.\d{4} \(best \d\.\d{4} #\d\) schedule=cosine/);
    assert.match(r.stdout, /Failed trials:\n {2}#\d: these parameters make an invalid training config: schedule\.stepSize/);
  });

  it('refuses --workers 2 with a memory storage (exit 2)', async () => {
    const r = await tune(await config(['trials: 2', ...train, 'search: { batchSize: [8] }']), '--workers', '2');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--workers 2 needs a storage the worker processes share, and a memory storage lives inside one process: use --storage sqlite:FILE/);
  });

  describe('with an SQLite storage', () => {
    const search = ['search:', '  optimizer.lr: { type: float, low: 0.0001, high: 0.01, log: true }'];

    it('keeps the study for study show, writes a run directory per trial, and continues it when run again', async (t) => {
      if (noSqlite) return t.skip(noSqlite);
      const storage = `sqlite:${join(dir, 'kept.db')}`;
      const file = await config(['study: kept', 'trials: 2', 'sampler: { name: random, seed: 5 }', 'pruner: none', 'runs: trials', ...train, ...search]);
      const r = await tune(file, '--storage', storage);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Study 'kept': 2 trials \(2 complete, 0 pruned, 0 failed\)\nBest trial: #\d, val_accuracy/);
      assert.ok(r.stdout.includes(`All trials: dlopt study show --storage ${storage} --study kept`), r.stdout);
      assert.ok(r.stdout.includes(`Report: dlopt report --storage ${storage} --study kept --out kept-report.html`), r.stdout);
      for (const n of [0, 1]) assert.ok(existsSync(join(dir, 'trials', `trial-${n}`, 'summary.json')), `trial-${n}`);
      const record = JSON.parse(await readFile(join(dir, 'trials', 'trial-0', 'config.json'), 'utf8'));
      assert.equal(record.trial.study, 'kept');

      const report = await show(storage, 'kept');
      assert.equal(report.direction, 'maximize');
      assert.equal(report.metric, 'val_accuracy');
      assert.deepEqual(report.trials.map((x) => [x.number, x.state]), [[0, 'COMPLETE'], [1, 'COMPLETE']]);
      assert.equal(report.bestTrial!.value, Math.max(...report.trials.map((x) => x.value!)));
      assert.equal(report.trials[0]!.userAttrs.epochs, 2);
      assert.deepEqual(Object.keys(report.trials[0]!.intermediate), ['1', '2']);

      const table = await runCli(['study', 'show', '--storage', storage, '--study', 'kept']);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^Study 'kept': maximize val_accuracy; 2 trials \(2 complete, 0 pruned, 0 failed\)\n\n#\s+state\s+val_accuracy\s+optimizer\.lr\s+duration\n0\s+COMPLETE/);

      const unknown = await runCli(['study', 'show', '--storage', storage, '--study', 'kep']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /no study named 'kep' in this storage \(it has 'kept'\)/);

      // The same command again: the study already has its 2 trials.
      const again = await tune(file, '--storage', storage);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /continuing after 2 trials \(2 complete, 0 pruned, 0 failed\)/);
      assert.doesNotMatch(again.stderr, /\ntrial \d/);
      // More trials extend it, numbered on.
      const more = await tune(file, '--storage', storage, '--trials', '3');
      assert.equal(more.code, 0, more.stderr);
      assert.match(more.stderr, /\ntrial 2 COMPLETE/);
    });

    it('shares the study between --workers 2 processes: the total number of trials holds', async (t) => {
      if (noSqlite) return t.skip(noSqlite);
      const storage = `sqlite:${join(dir, 'workers.db')}`;
      const file = await config(['study: w', 'trials: 6', 'sampler: { name: random, seed: 5 }', 'pruner: none', ...train, ...search]);
      const r = await tune(file, '--storage', storage, '--workers', '2');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /6 trials, 2 workers/);
      const report = await show(storage, 'w');
      assert.deepEqual(report.trials.map((x) => [x.number, x.state]), [0, 1, 2, 3, 4, 5].map((n) => [n, 'COMPLETE']));
      for (const n of [0, 1, 2, 3, 4, 5]) assert.match(r.stderr, new RegExp(`\\ntrial ${n} COMPLETE`));
    });

    it('stops every worker and exits 1 when a worker dies', async (t) => {
      if (noSqlite) return t.skip(noSqlite);
      const storage = `sqlite:${join(dir, 'crash.db')}`;
      const file = await config(['study: c', 'trials: 40', 'sampler: { name: random, seed: 5 }', 'pruner: none', ...train, ...search]);
      const r = await runCli(['tune', '--config', file, '--data', data, '--storage', storage, '--workers', '2'], { cwd: dir, env: { DLOPT_TUNE_CRASH_WORKER_AFTER_EPOCH: '1' } });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /warning: worker 1 \(pid \d+\) was killed by SIGKILL: stopping this study's other workers/);
      assert.match(r.stderr, /dlopt: error: worker 1 \(pid \d+\) was killed by SIGKILL; the study's other workers were stopped/);
      const report = await show(storage, 'c');
      assert.ok(report.trials.length < 40);
      assert.ok(!report.trials.some((x) => x.state === 'RUNNING'), 'no trial is left RUNNING');
      assert.ok(report.trials.some((x) => x.state === 'FAIL' && /^stopped: worker 1 \(pid \d+\) was killed by SIGKILL$/.test(x.failReason ?? '')));
    });
  });
});
