import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CIFAR10 } from '../data/cifar10-format.js';
import { CLASS_NAMES, cifarFixture, tempDir, writeCifarDirectory, writeTarGz } from '../test-support/fixtures.js';
import { hasStackTrace, runCli } from '../test-support/run-cli.js';

describe('dlopt evaluate (end to end)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let data: string;
  let run: string;
  let summary: {
    final: { test: { accuracy: number; loss: number; confusion: number[][] }; val: { accuracy: number; confusion: number[][] } };
    class_names: string[];
  };

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    data = await writeTarGz(join(dir, 'cifar.tar.gz'), cifarFixture(6, 12).files);
    run = join(dir, 'run');
    const r = await runCli(['train', '--data', data, '--epochs', '1', '--limit', '8', '--val-size', '10', '--batch-size', '8', '--out', run]);
    assert.equal(r.code, 0, r.stderr);
    summary = JSON.parse(await readFile(join(run, 'summary.json'), 'utf8'));
  });
  after(() => cleanup());

  it('--json prints one object with the test split metrics matching training\'s own evaluation', async () => {
    const r = await runCli(['evaluate', '--model', run, '--data', data, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(result), ['split', 'n', 'loss', 'accuracy', 'images_per_s', 'per_class', 'class_names', 'confusion']);
    assert.equal(result.split, 'test');
    assert.equal(result.n, 12);
    assert.equal(result.accuracy, summary.final.test.accuracy);
    assert.ok(Math.abs(result.loss - summary.final.test.loss) < 1e-5);
    assert.ok(result.images_per_s > 0);
    // The confusion matrix: 10×10 counts of every test image, its diagonal the correct ones, as training recorded it.
    const confusion = result.confusion as number[][];
    assert.deepEqual(result.class_names, [...CLASS_NAMES]);
    assert.equal(confusion.length, 10);
    assert.equal(confusion.flat().reduce((a, b) => a + b, 0), 12);
    assert.equal(confusion.reduce((n, row, i) => n + row[i]!, 0), Math.round(result.accuracy * 12));
    assert.deepEqual(confusion, summary.final.test.confusion);
    assert.deepEqual(summary.class_names, result.class_names);
    const perClass = result.per_class as { class: string; images: number; accuracy: number | null }[];
    assert.deepEqual(perClass.map((c) => c.class), result.class_names);
    assert.deepEqual(perClass.map((c) => c.images), confusion.map((row) => row.reduce((a, b) => a + b, 0)));
    for (const [i, c] of perClass.entries()) assert.equal(c.accuracy, c.images === 0 ? null : confusion[i]![i]! / c.images);
  });

  it('prints a per-class table under the accuracy line', async () => {
    const r = await runCli(['evaluate', '--model', run, '--data', data]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^test accuracy: /);
    assert.match(lines[2]!, /^class\s+images\s+accuracy\s+precision\s+most often mistaken for$/);
    assert.equal(lines.length, 3 + 10);
    for (const [i, name] of CLASS_NAMES.entries()) assert.match(lines[3 + i]!, new RegExp(`^${name}\\s+\\d+\\s+(\\d+\\.\\d%|—)\\s+(\\d+\\.\\d%|—)\\s+`));
  });

  it('evaluates the validation split the run held out (its --val-size), given model.json', async () => {
    const r = await runCli(['evaluate', '--model', join(run, 'model.json'), '--data', data, '--split', 'val', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.split, 'val');
    assert.equal(result.n, 10);
    assert.equal(result.accuracy, summary.final.val.accuracy);
  });

  it('uses the run\'s data when --data is not given, and the train split excludes validation', async () => {
    const r = await runCli(['evaluate', '--model', run, '--split', 'train', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).n, 30 - 10);
  });

  it('--split test needs only test_batch.bin and batches.meta.txt', async () => {
    const files = cifarFixture(6, 12).files;
    for (const name of CIFAR10.trainFiles) files.delete(name);
    const testOnly = await writeCifarDirectory(join(dir, 'test-only'), files);
    const r = await runCli(['evaluate', '--model', run, '--data', testOnly, '--split', 'test']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /test accuracy: \d+\.\d\d% \(loss \d\.\d{4}\) on 12 images/);
  });

  it('--split test on data without a test split fails clearly', async () => {
    const trainOnly = await writeTarGz(join(dir, 'train-only.tar.gz'), cifarFixture(6, null).files);
    const r = await runCli(['evaluate', '--model', run, '--data', trainOnly, '--split', 'test']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /missing test_batch\.bin/);
    assert.ok(!hasStackTrace(r.stderr));
  });

  it('bad input: missing --model, bad split, missing model, corrupt model.json', async () => {
    let r = await runCli(['evaluate', '--data', data]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /required option '--model <path>' not specified/);
    r = await runCli(['evaluate', '--model', run, '--split', 'holdout']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Allowed choices are test, val, train/);
    r = await runCli(['evaluate', '--model', join(dir, 'nope'), '--data', data]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read model .*nope/);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"modelTopology": ');
    r = await runCli(['evaluate', '--model', broken, '--data', data]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broken\.json is not valid JSON/);
    assert.ok(!hasStackTrace(r.stderr));
  });

  it('refuses data whose classes do not match the model', async () => {
    const sharp = (await import('sharp')).default;
    const root = join(dir, 'two-classes');
    for (const name of ['a', 'b']) {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(root, name), { recursive: true });
      await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 1, g: 2, b: 3 } } })
        .png()
        .toFile(join(root, name, 'x.png'));
    }
    const r = await runCli(['evaluate', '--model', run, '--data', root, '--split', 'train', '--val-size', '0']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /predicts 10 classes, but the data has 2/);
  });
});
