import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cifarFixture, tempDir, writeTarGz } from '../test-support/fixtures.js';
import { studyTrials, writePruningRun, writeStudy, writeTrainingRun } from '../test-support/report-fixtures.js';
import { hasStackTrace, runCli } from '../test-support/run-cli.js';
import { SqliteStorage } from '../tune/storages/sqlite-storage.js';

describe('dlopt report (end to end)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  after(() => cleanup());

  it('reports a run dlopt train just wrote, with the command train printed, as one offline HTML file', async () => {
    const data = await writeTarGz(join(dir, 'c.tar.gz'), cifarFixture(6, null).files);
    const run = join(dir, 'trained');
    const t = await runCli(['train', '--data', data, '--epochs', '2', '--limit', '12', '--val-size', '6', '--batch-size', '6', '--out', run]);
    assert.equal(t.code, 0, t.stderr);
    const printed = /^Report: dlopt (report .*)$/m.exec(t.stdout)?.[1];
    assert.ok(printed, t.stdout);
    const r = await runCli(printed.split(' '));
    assert.equal(r.code, 0, r.stderr);
    const file = join(run, 'report.html');
    assert.match(r.stdout, new RegExp(`Report: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(5 charts, \\d\\.\\d\\d MB, opens offline\\)`));
    const html = await readFile(file, 'utf8');
    // Loss, accuracy, learning rate, speed, and the confusion matrix train recorded for the validation split.
    assert.ok(html.includes('id="training-confusion"'), 'the run train wrote has its confusion matrix drawn');
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=["']?https?:/i, 'nothing is loaded from the network');
    for (const id of ['training-loss', 'training-accuracy', 'training-learning-rate', 'training-speed']) assert.ok(html.includes(`id="${id}"`), id);
    // The metrics the run wrote are the data the charts get.
    const metrics = (await readFile(join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(html.includes(`"value":${metrics[1].val_loss}`), 'the last validation loss is in the chart data');
  });

  it('a corrupt metrics.jsonl → exit 1 naming the file and line, and no report file', async () => {
    const run = await writeTrainingRun(join(dir, 'corrupt'), { epochs: 3 });
    await appendFile(join(run, 'metrics.jsonl'), '{"epoch": 4, "loss": 1.2, "accur');
    const out = join(dir, 'corrupt.html');
    const r = await runCli(['report', run, '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${join(run, 'metrics.jsonl').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} line 4 is not valid JSON`));
    assert.ok(!hasStackTrace(r.stderr), r.stderr);
    assert.ok(!existsSync(out));

    await writeFile(join(run, 'metrics.jsonl'), '{"epoch": 1, "loss": "x", "accuracy": 0.1, "val_loss": null, "val_accuracy": null, "seconds": 1, "images_per_s": 1, "lr": null}\n');
    const bad = await runCli(['report', run, '--out', out]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /metrics\.jsonl line 1 is not one epoch's metrics: "loss"/);
  });

  it('overlays a folder of runs, reports a pruning run, and writes every chart as a PNG', async () => {
    const runs = join(dir, 'runs');
    await writeTrainingRun(join(runs, 'a'), { epochs: 5 });
    await writeTrainingRun(join(runs, 'b'), { epochs: 3 });
    await writePruningRun(join(runs, 'pruned'));
    const png = join(dir, 'png');
    const r = await runCli(['report', runs, '--out', join(dir, 'runs.html'), '--png', png]);
    assert.equal(r.code, 0, r.stderr);
    const files = (await readdir(png)).sort();
    assert.deepEqual(files, [
      'pruning-pruned-accuracy-vs-sparsity.png',
      'pruning-pruned-classes.png',
      'pruning-pruned-fine-tuning.png',
      'pruning-pruned-layers.png',
      'training-runs-accuracy.png',
      'training-runs-confusion-a.png',
      'training-runs-confusion-b.png',
      'training-runs-learning-rate.png',
      'training-runs-loss.png',
      'training-runs-speed.png',
    ]);
    assert.match(r.stdout, /Charts as PNG: 10 files in /);
    const image = await readFile(join(png, files[0]!));
    assert.deepEqual([...image.subarray(1, 4)], [...Buffer.from('PNG')]);
    const html = await readFile(join(dir, 'runs.html'), 'utf8');
    assert.ok(html.includes('Training runs (2)') && html.includes('Pruning run pruned (l1, −50%)'));
  });

  it('reports a study from its storage (the only one there when --study is left out)', async () => {
    const db = join(dir, 'study.db');
    const storage = SqliteStorage.open(db);
    await writeStudy(storage, 'cifar', studyTrials(12));
    await storage.close();
    const out = join(dir, 'study.html');
    const r = await runCli(['report', '--storage', `sqlite:${db}`, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const html = await readFile(out, 'utf8');
    assert.match(html, /Best trial: #\d+, val_accuracy 0\.\d{4}/);
    for (const chart of ['history', 'parallel', 'importance', 'slice-optimizer-lr', 'intermediate']) assert.ok(html.includes(`id="study-cifar-${chart}"`), chart);
    assert.ok(html.includes('<table id="study-cifar-trials" class="sortable">'));

    const other = SqliteStorage.open(db);
    await writeStudy(other, 'empty', []);
    await other.close();
    const ambiguous = await runCli(['report', '--storage', `sqlite:${db}`, '--out', out]);
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /holds 2 studies \('cifar', 'empty'\): choose one with --study/);
    const empty = await runCli(['report', '--storage', `sqlite:${db}`, '--study', 'empty', '--out', out]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stderr, /note: Study 'empty' has no trials yet/);
    const unknown = await runCli(['report', '--storage', `sqlite:${db}`, '--study', 'cifra', '--out', out]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no study named 'cifra' in this storage \(it has 'cifar', 'empty'\)/);
  });

  it('bad arguments: a clear message and exit 2 (usage) or 1 (what is on disk)', async () => {
    const cases: [string[], number, RegExp][] = [
      [['report'], 2, /nothing to report: give run directories/],
      [['report', '--study', 'x'], 2, /--study needs --storage/],
      [['report', dir, '--out', join(dir, 'r.txt')], 2, /the report is an HTML file/],
      [['report', '--storage', 'memory'], 2, /a memory storage lives only inside the process/],
      [['report', join(dir, 'nope')], 1, /no run directory at .*nope \(it does not exist\)/],
      [['report', join(dir, 'c.tar.gz')], 1, /c\.tar\.gz is a file, not a run directory/],
      [['report', '--storage', `sqlite:${join(dir, 'missing.db')}`], 1, /no study storage at .*missing\.db/],
    ];
    await writeFile(join(dir, 'c.tar.gz'), 'x', { flag: 'a' });
    for (const [args, code, message] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.ok(!hasStackTrace(r.stderr), r.stderr);
    }
    // An output that cannot be written (its directory is a file) is the user's to fix, not a bug.
    const run = await writeTrainingRun(join(dir, 'for-out'), { epochs: 2 });
    const blocked = await runCli(['report', run, '--out', join(dir, 'c.tar.gz', 'r.html')]);
    assert.equal(blocked.code, 1, blocked.stderr);
    assert.match(blocked.stderr, /cannot (create the directory of|write the report to) .*c\.tar\.gz\/r\.html/);
    assert.ok(!hasStackTrace(blocked.stderr) && !/bug in dlopt/.test(blocked.stderr), blocked.stderr);
    const notRun = join(dir, 'png');
    const r = await runCli(['report', notRun]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not a dlopt run directory \(no config\.json\) and holds none/);
  });
});
