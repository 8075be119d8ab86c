import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/backend.js';
import { loadModel } from '../io/model-files.js';
import { loadSparseModel } from '../io/sparse-weights.js';
import { cifarFixture, tempDir, writeTarGz } from '../test-support/fixtures.js';
import { hasStackTrace, runCli } from '../test-support/run-cli.js';
import { classChangeLine } from './prune-command.js';

interface Summary {
  method: string;
  original: { params: number; nonzeroParams: number; flops: number; images_per_s: number; val_accuracy: number; files: { weights: number; sparse_weights: number } };
  pruned: { params: number; nonzeroParams: number; flops: number; images_per_s: number; val_accuracy: number; files: { weights: number; sparse_weights: number } };
  steps: { step: number; target: number; achieved: number; val_accuracy: number; pruned_accuracy: number | null }[];
  layers: { layer: string; before?: number; after?: number; size?: number; zeros?: number }[];
  speedup: number;
  class_names: string[];
  confusion: { original: number[][]; pruned: number[][] | null };
}

describe('dlopt prune (end to end)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let data: string;
  let run: string;

  before(async () => {
    await initBackend();
    ({ dir, cleanup } = await tempDir());
    data = await writeTarGz(join(dir, 'cifar.tar.gz'), cifarFixture(16, null).files);
    run = join(dir, 'run');
    const r = await runCli(['train', '--data', data, '--epochs', '1', '--val-size', '20', '--batch-size', '16', '--out', run]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => cleanup());

  it('magnitude pruning in two steps writes a run directory whose model has the sparsity, in a compact file too', async () => {
    const out = join(dir, 'magnitude');
    const r = await runCli(['prune', '--model', run, '--method', 'magnitude', '--sparsity', '0.8', '--steps', '2', '--fine-tune-epochs', '1', '--speed-images', '64', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Step 1\/2: weights removed 40\.00% \(target 40\.00%\)/);
    assert.match(r.stderr, /Step 2\/2: weights removed 80\.00% \(target 80\.00%\)/);
    assert.match(r.stdout, /nonzero parameters/);
    assert.match(r.stdout, /Validation accuracy \d+\.\d\d% → \d+\.\d\d%/);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as Summary;
    assert.deepEqual(summary.steps.map((s) => s.target), [0.4, 0.8]);
    assert.equal(summary.pruned.params, summary.original.params);
    // Both confusion matrices count the 20 validation images, their diagonals the accuracy reported.
    assert.match(r.stdout, /^Per class(, largest drops: \w+ −\d+\.\d pt \(\d+\.\d\d% → \d+\.\d\d%\)|: no class lost validation accuracy\.)/m);
    assert.equal(summary.class_names.length, 10);
    for (const [which, m] of [['original', summary.confusion.original], ['pruned', summary.confusion.pruned!]] as const) {
      assert.equal(m.flat().reduce((a, b) => a + b, 0), 20, which);
      assert.equal(m.reduce((k, row, i) => k + row[i]!, 0), Math.round(summary[which].val_accuracy * 20), which);
    }
    assert.deepEqual(summary.confusion.original.map((row) => row.reduce((a, b) => a + b, 0)), summary.confusion.pruned!.map((row) => row.reduce((a, b) => a + b, 0)), 'the same images');
    const kernels = summary.layers.reduce((n, l) => n + l.size!, 0);
    assert.ok(summary.pruned.nonzeroParams <= summary.pruned.params - Math.round(0.8 * kernels));
    assert.ok(summary.pruned.files.sparse_weights < summary.pruned.files.weights / 3);
    const files = await readdir(out);
    for (const f of ['model.json', 'weights.bin', 'weights.sparse.bin', 'metrics.jsonl', 'config.json', 'summary.json']) assert.ok(files.includes(f), f);
    const metrics = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(metrics.map((m) => [m.step, m.epoch]), [[1, 1], [2, 2]]);
    // The saved model is the pruned one, dense and sparse files alike.
    const { model } = await loadModel(out);
    const sparse = await loadSparseModel(out);
    const x = tf.randomUniform([2, 32, 32, 3]);
    const a = model.predict(x) as tf.Tensor;
    const b = sparse.predict(x) as tf.Tensor;
    assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! < 1e-6);
    const zeros = model.getLayer('conv2').getWeights()[0]!.dataSync().filter((v) => v === 0).length;
    assert.ok(Math.abs(zeros / (3 * 3 * 32 * 64) - 0.8) < 0.01, `conv2 sparsity ${zeros / 18432}`);
    tf.dispose([x, a, b]);
    model.dispose();
    sparse.dispose();
  });

  it('structured L1 pruning shrinks the saved model: fewer filters, parameters and FLOPs', async () => {
    const out = join(dir, 'l1');
    const r = await runCli(['prune', '--model', run, '--method', 'l1', '--sparsity', '0.5', '--fine-tune-epochs', '0', '--speed-images', '64', '--json', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as Summary;
    assert.deepEqual(
      summary.layers.map((l) => [l.layer, l.before, l.after]),
      [['conv1', 32, 16], ['conv2', 64, 32], ['dense', 10, 10]],
    );
    assert.ok(summary.pruned.params < summary.original.params / 2);
    assert.ok(summary.pruned.flops < summary.original.flops / 2);
    assert.ok(summary.pruned.files.weights < summary.original.files.weights / 2);
    assert.ok(summary.speedup > 0 && summary.pruned.images_per_s > 0);
    assert.equal(typeof summary.steps[0]!.pruned_accuracy, 'number');
    const { model } = await loadModel(out);
    assert.deepEqual(model.getLayer('conv2').getWeights()[0]!.shape, [3, 3, 16, 32]);
    assert.ok((await stat(join(out, 'weights.bin'))).size === summary.pruned.files.weights);
    model.dispose();
  });

  it('APoZ ranks filters on data; bn refuses a model without batch norm, naming the layer', async () => {
    const ok = await runCli(['prune', '--model', run, '--method', 'apoz', '--sparsity', '0.25', '--fine-tune-epochs', '0', '--speed-images', '32', '--calibration-images', '50', '--json', '--out', join(dir, 'apoz')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((JSON.parse(ok.stdout) as Summary).layers.map((l) => l.after), [24, 48, 10]);
    const bn = await runCli(['prune', '--model', run, '--method', 'bn', '--sparsity', '0.5', '--out', join(dir, 'bn')]);
    assert.equal(bn.code, 1);
    assert.match(bn.stderr, /layer 'conv1' is not followed by batch normalization/);
    assert.ok(!hasStackTrace(bn.stderr));
  });

  it('a 2:4 pattern keeps 2 of every 4 weights and says which layer it cannot apply to', async () => {
    const out = join(dir, 'pattern');
    const r = await runCli(['prune', '--model', run, '--method', 'magnitude', '--pattern', '2:4', '--fine-tune-epochs', '0', '--speed-images', '32', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /layer 'conv1' is left dense: its input axis has 3 entries, not a multiple of 4/);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as Summary;
    assert.deepEqual(summary.layers.map((l) => [l.layer, l.zeros! / l.size!]), [['conv1', 0], ['conv2', 0.5], ['dense', 0.5]]);
  });

  it('bad requests fail with a message and no stack trace', async () => {
    const cases: [string[], RegExp, number][] = [
      [['--method', 'l1', '--sparsity', '1'], /expected a number from 0 up to \(not including\) 1/, 2],
      [['--method', 'l1', '--sparsity', '0.99', '--fine-tune-epochs', '0'], /would leave layer 'conv1' with no channels/, 1],
      [['--method', 'l1'], /give --sparsity/, 1],
      [['--method', 'l1', '--pattern', '2:4'], /N:M pattern applies to magnitude pruning only/, 1],
      [['--method', 'magnitude', '--pattern', '4:2'], /expected N:M/, 2],
      [['--method', 'l1', '--sparsity', '0.5', '--layers', 'dense'], /layer 'dense' cannot be pruned: .*model output/, 1],
      [['--method', 'nope', '--sparsity', '0.5'], /Allowed choices are magnitude, l1, l2, bn, apoz, mean-activation/, 2],
    ];
    for (const [args, message, code] of cases) {
      const r = await runCli(['prune', '--model', run, ...args, '--out', join(dir, `bad-${args.join('-')}`)]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.ok(!hasStackTrace(r.stderr), r.stderr);
    }
    const missing = await runCli(['prune', '--model', join(dir, 'nowhere'), '--method', 'l1', '--sparsity', '0.5']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read model .*nowhere/);
  });
});

describe('classChangeLine', () => {
  const c = (name: string, before: number, after: number) => ({ name, images: 100, before, after, change: after - before });

  it('names the three largest drops, worst first, with before and after', () => {
    const line = classChangeLine([c('cat', 0.5, 0.4), c('dog', 0.6, 0.58), c('ship', 0.9, 0.92), c('bird', 0.5, 0.45), c('frog', 0.7, 0.69)]);
    assert.equal(line, 'Per class, largest drops: cat −10.0 pt (50.00% → 40.00%), bird −5.0 pt (50.00% → 45.00%), dog −2.0 pt (60.00% → 58.00%)');
  });

  it('says so when no class lost accuracy; classes without images are skipped', () => {
    assert.equal(classChangeLine([c('cat', 0.5, 0.5), { name: 'dog', images: 0, before: null, after: null, change: null }]), 'Per class: no class lost validation accuracy.');
  });
});
