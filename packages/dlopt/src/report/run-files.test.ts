import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataError } from '../errors.js';
import { epochLines, writePruningRun, writeTrainingRun } from '../test-support/report-fixtures.js';
import { tempDir } from '../test-support/fixtures.js';
import { parseMetrics, readRun, readRuns } from './run-files.js';

const FILE = '/runs/a/metrics.jsonl';

function jsonl(lines: readonly object[]): string {
  return lines.map((l) => JSON.stringify(l)).join('\n');
}

/** Asserts `fn` throws a DataError whose message contains every one of `parts`. */
function throwsData(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DataError, `expected a DataError, got ${String(error)}`);
    for (const part of parts) assert.ok(error.message.includes(part), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(part)}`);
    return true;
  });
}

async function rejectsData(promise: Promise<unknown>, ...parts: string[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DataError, `expected a DataError, got ${String(error)}`);
    for (const part of parts) assert.ok(error.message.includes(part), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(part)}`);
    return true;
  });
}

describe('parseMetrics', () => {
  it('reads every epoch of a good file, a blank trailing line included', () => {
    const lines = epochLines(3);
    const metrics = parseMetrics(jsonl(lines) + '\n', FILE);
    assert.equal(metrics.length, 3);
    assert.deepEqual(metrics, lines);
    assert.deepEqual(parseMetrics(jsonl(lines) + '\n\n', FILE), lines);
  });

  it('reads nulls for unmeasured validation and learning rate, and the optional step', () => {
    const line = { ...epochLines(1)[0]!, val_loss: null, val_accuracy: null, lr: null, step: 2 };
    const [m] = parseMetrics(JSON.stringify(line), FILE);
    assert.equal(m!.val_loss, null);
    assert.equal(m!.val_accuracy, null);
    assert.equal(m!.lr, null);
    assert.equal(m!.step, 2);
  });

  it('an empty file is no epochs', () => {
    assert.deepEqual(parseMetrics('', FILE), []);
    assert.deepEqual(parseMetrics('\n', FILE), []);
  });

  it('a line that is not JSON names the file and its line number', () => {
    const [a, b, c] = epochLines(3).map((l) => JSON.stringify(l));
    throwsData(() => parseMetrics([a, b, '{"epoch": 3, "loss":', c].join('\n'), FILE), FILE, 'line 3', 'not valid JSON');
    throwsData(() => parseMetrics(['garbage', a].join('\n'), FILE), 'line 1');
  });

  it('counts blank lines when numbering', () => {
    const [a, b] = epochLines(2).map((l) => JSON.stringify(l));
    throwsData(() => parseMetrics([a, '', b, 'oops'].join('\n'), FILE), `${FILE} line 4`);
  });

  it('a line missing a field names the field', () => {
    const lines = epochLines(2);
    const { val_loss: _, ...missing } = lines[1]!;
    throwsData(() => parseMetrics(jsonl([lines[0]!, missing]), FILE), FILE, 'line 2', '"val_loss"');
  });

  it('a field of the wrong type names the field', () => {
    const bad = { ...epochLines(1)[0]!, accuracy: '0.5' };
    throwsData(() => parseMetrics(JSON.stringify(bad), FILE), 'line 1', '"accuracy"');
    const badEpoch = { ...epochLines(1)[0]!, epoch: 0 };
    throwsData(() => parseMetrics(JSON.stringify(badEpoch), FILE), '"epoch"');
  });

  it('a line that is JSON but not an object is an error for that line', () => {
    throwsData(() => parseMetrics('[1, 2]', FILE), 'line 1');
    throwsData(() => parseMetrics('null', FILE), 'line 1');
  });
});

describe('readRuns', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await tempDir('dlopt-report-runs-'));
  });
  after(() => cleanup());

  it('reads a run directory: config, metrics and summary', async () => {
    const path = await writeTrainingRun(join(dir, 'single'), { epochs: 3 });
    const runs = await readRuns([path]);
    assert.equal(runs.length, 1);
    const [r] = runs;
    assert.equal(r!.path, path);
    assert.equal(r!.name, 'single');
    assert.equal(r!.kind, 'train');
    assert.equal(r!.metrics.length, 3);
    assert.deepEqual(r!.metrics, epochLines(3));
    assert.ok(r!.summary);
    assert.equal(r!.summary.model, 'seed-cnn');
    assert.deepEqual(r!.config.config, { model: 'seed-cnn', epochs: 3 });
  });

  it('expands a folder of run directories in name order, skipping what is not a run', async () => {
    const folder = join(dir, 'folder');
    for (const name of ['charlie', 'alpha', 'bravo']) await writeTrainingRun(join(folder, name), { epochs: 2 });
    await mkdir(join(folder, 'aaa-not-a-run'), { recursive: true });
    await writeFile(join(folder, 'notes.txt'), 'hello');
    const runs = await readRuns([folder]);
    assert.deepEqual(
      runs.map((r) => r.name),
      ['alpha', 'bravo', 'charlie'],
    );
    assert.deepEqual(
      runs.map((r) => r.path),
      ['alpha', 'bravo', 'charlie'].map((n) => join(folder, n)),
    );
  });

  it('gives same-named directories distinct names', async () => {
    const a = await writeTrainingRun(join(dir, 'same', 'x', 'run'));
    const b = await writeTrainingRun(join(dir, 'same', 'y', 'run'));
    const runs = await readRuns([a, b]);
    assert.equal(runs.length, 2);
    assert.equal(new Set(runs.map((r) => r.name)).size, 2);
    assert.equal(runs[0]!.name, 'run');
    assert.match(runs[1]!.name, /^run\b.+/);
  });

  it('reads a run given twice once', async () => {
    const a = await writeTrainingRun(join(dir, 'twice'));
    const runs = await readRuns([a, join(a, '.')]);
    assert.equal(runs.length, 1);
  });

  it('a missing path is an error naming it', async () => {
    const missing = join(dir, 'does-not-exist');
    await rejectsData(readRuns([missing]), missing);
  });

  it('a file is an error naming it', async () => {
    const file = join(dir, 'a-file.json');
    await writeFile(file, '{}');
    await rejectsData(readRuns([file]), file);
  });

  it('a directory without config.json (and no runs in it) is an error naming it', async () => {
    const empty = join(dir, 'empty');
    await mkdir(join(empty, 'sub'), { recursive: true });
    await writeFile(join(empty, 'metrics.jsonl'), '');
    await rejectsData(readRuns([empty]), empty, 'config.json');
  });

  it('reads a run without summary.json with summary null', async () => {
    const path = await writeTrainingRun(join(dir, 'unfinished'), { epochs: 2, finished: false });
    const [r] = await readRuns([path]);
    assert.equal(r!.summary, null);
    assert.equal(r!.metrics.length, 2);
    assert.equal(r!.kind, 'train');
  });

  it('reads a run without metrics.jsonl as no epochs', async () => {
    const path = await writeTrainingRun(join(dir, 'no-metrics'), { epochs: 2, finished: false });
    await rm(join(path, 'metrics.jsonl'));
    const r = await readRun(path);
    assert.deepEqual(r.metrics, []);
    assert.equal(r.summary, null);
  });

  it('a corrupt metrics line fails the read, naming the file and the line', async () => {
    const path = await writeTrainingRun(join(dir, 'corrupt'), { epochs: 3 });
    const lines = epochLines(3).map((l) => JSON.stringify(l));
    lines[1] = lines[1]!.slice(0, 10);
    await writeFile(join(path, 'metrics.jsonl'), lines.join('\n') + '\n');
    await rejectsData(readRuns([path]), join(path, 'metrics.jsonl'), 'line 2');
  });

  it('a corrupt summary.json is an error naming the file', async () => {
    const path = await writeTrainingRun(join(dir, 'bad-summary'));
    await writeFile(join(path, 'summary.json'), '{"model":');
    await rejectsData(readRuns([path]), join(path, 'summary.json'));
  });

  it('detects a pruning run', async () => {
    const path = await writePruningRun(join(dir, 'prune-l1'));
    const [r] = await readRuns([path]);
    assert.equal(r!.kind, 'prune');
    assert.equal(r!.summary?.kind, 'prune');
    assert.ok(r!.metrics.every((m) => m.step !== undefined));
  });

  it('detects a pruning run from its config alone (not finished)', async () => {
    const path = await writePruningRun(join(dir, 'prune-unfinished'));
    await rm(join(path, 'summary.json'));
    const [r] = await readRuns([path]);
    assert.equal(r!.kind, 'prune');
    assert.equal(r!.summary, null);
  });

  it('mixes training and pruning runs in a folder', async () => {
    const folder = join(dir, 'mixed');
    await writeTrainingRun(join(folder, 'a-train'));
    await writePruningRun(join(folder, 'b-prune'), { method: 'magnitude' });
    const runs = await readRuns([folder]);
    assert.deepEqual(
      runs.map((r) => [r.name, r.kind]),
      [
        ['a-train', 'train'],
        ['b-prune', 'prune'],
      ],
    );
  });
});
