import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cifarFixture, tempDir, writeTarGz } from '../test-support/fixtures.js';
import { hasStackTrace, runCli } from '../test-support/run-cli.js';

describe('dlopt train --config, technique flags and --resume (end to end)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let data: string;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    data = await writeTarGz(join(dir, 'cifar.tar.gz'), cifarFixture(6, 6).files);
  });
  after(() => cleanup());

  const base = () => ['--data', data, '--limit', '16', '--val-size', '8', '--batch-size', '8'];
  const record = async (out: string) => JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
  const metrics = async (out: string) =>
    (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

  it('reads a YAML config, lets flags override it, and records the resolved settings', async () => {
    const config = join(dir, 'train.yaml');
    await writeFile(config, [
      'epochs: 3',
      'seed: 4',
      'optimizer: { name: sgdw, lr: 0.05 }',
      'schedule: { name: cosine, warmupEpochs: 1 }',
      'augment:',
      '  flip: true',
      '  crop: { padding: 2, mode: zero }',
      '  cutout: { size: 4 }',
      '  mixup: 0.4',
      'labelSmoothing: 0.1',
      'regularization: { l2: 0.0001 }',
      'earlyStopping: { patience: 4 }',
      'ema: 0.9',
    ].join('\n'));
    const out = join(dir, 'run-config');
    const r = await runCli(['train', '--config', config, '--epochs', '2', ...base(), '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Training: sgdw, lr 0\.05 \(cosine schedule\).*augmentation: crop → flip → cutout → mixup, label smoothing 0\.1, EMA 0\.9, early stopping/);
    const c = (await record(out)).config;
    assert.equal(c.epochs, 2); // the flag wins
    assert.equal(c.seed, 4);
    assert.deepEqual(c.optimizer, { name: 'sgdw', lr: 0.05 });
    assert.deepEqual(c.schedule, { name: 'cosine', warmupEpochs: 1, minLr: 0, per: 'step' });
    assert.deepEqual(c.augment.crop, { padding: 2, mode: 'zero' });
    assert.equal(c.regularization.l2, 0.0001);
    assert.deepEqual(c.earlyStopping, { monitor: 'val_loss', patience: 4, minDelta: 0, restoreBestWeights: true });
    const m = await metrics(out);
    assert.equal(m.length, 2);
    // Cosine with one warm-up epoch of 2 steps: the full rate at the end of warm-up; the last step of
    // epoch 2 sits half-way through the decay (1.5 of 2 epochs), at half the rate.
    assert.ok(Math.abs(m[0]!.lr! - 0.05) < 1e-9, String(m[0]!.lr));
    assert.ok(Math.abs(m[1]!.lr! - 0.025) < 1e-9, String(m[1]!.lr));
  });

  const bad: [string, string[], string | null, RegExp][] = [
    ['an unknown key, with its path', [], 'augment:\n  flipp: true\n', /invalid .*train-bad\.yaml:\n  augment: unknown key "flipp"/],
    ['a bad value, with its path', [], 'optimizer:\n  lr: -1\n', /optimizer\.lr: Too small/],
    ['an empty range', [], 'augment:\n  resizedCrop: { scale: [0.9, 0.2] }\n', /augment\.resizedCrop\.scale: low must be <= high/],
    ['broken YAML, with the line', [], 'epochs: [1, 2\n', /not valid YAML \(line \d+, column \d+\)/],
    ['a list instead of settings', [], '- 1\n- 2\n', /must hold a mapping of settings/],
    ['an unknown augmentation flag', ['--augment', 'flip,zoom'], null, /--augment: unknown augmentation "zoom"/],
    ['a schedule option without a schedule', ['--warmup-epochs', '2'], null, /need --schedule/],
    ['a step schedule without its step size', ['--schedule', 'step'], null, /schedule\.stepSize/],
    ['label smoothing of 1', ['--label-smoothing', '1'], null, /--label-smoothing.*up to \(not including\) 1/],
  ];
  for (const [name, flags, yaml, message] of bad) {
    it(`rejects ${name} (exit 2, no stack trace)`, async () => {
      const args = ['train', ...base(), '--out', join(dir, `bad-${name}`), ...flags];
      if (yaml !== null) {
        const file = join(dir, 'train-bad.yaml');
        await writeFile(file, yaml);
        args.push('--config', file);
      }
      const r = await runCli(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.ok(!hasStackTrace(r.stderr), r.stderr);
    });
  }

  it('a run killed after an epoch resumes to exactly the uninterrupted result', async () => {
    const args = ['train', ...base(), '--epochs', '3', '--augment', 'flip,crop', '--mixup', '0.3', '--schedule', 'cosine', '--ema', '0.9', '--dropout', '0.3', '--spatial-dropout', '0.1', '--seed', '7'];
    const whole = join(dir, 'run-whole');
    const cut = join(dir, 'run-cut');
    assert.equal((await runCli([...args, '--out', whole])).code, 0);
    const crashed = await runCli([...args, '--out', cut], { env: { DLOPT_CRASH_AFTER_EPOCH: '1' } });
    assert.notEqual(crashed.code, 0);
    assert.ok(!existsSync(join(cut, 'summary.json')), 'a crashed run must not look complete');
    const resumed = await runCli(['train', '--resume', cut]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /Resuming after epoch 1 of 3/);
    const [a, b] = [await metrics(whole), await metrics(cut)];
    assert.equal(b.length, 3);
    for (let i = 0; i < 3; i++) {
      for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'lr']) assert.equal(b[i]![key], a[i]![key], `epoch ${i + 1} ${key}`);
    }
    assert.deepEqual(await readFile(join(cut, 'weights.bin')), await readFile(join(whole, 'weights.bin')));
  });

  it('resume refuses changed settings, finished runs and runs without a checkpoint', async () => {
    const done = join(dir, 'run-whole');
    let r = await runCli(['train', '--resume', done, '--lr', '0.1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--lr cannot be changed \(only --epochs\)/);
    r = await runCli(['train', '--resume', done]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already completed 3 of 3 epochs; pass --epochs N/);
    const noCheckpoint = join(dir, 'run-no-checkpoint');
    assert.equal((await runCli(['train', ...base(), '--epochs', '1', '--no-checkpoint', '--out', noCheckpoint])).code, 0);
    assert.ok(!existsSync(join(noCheckpoint, 'checkpoint')));
    r = await runCli(['train', '--resume', noCheckpoint, '--epochs', '2']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has no checkpoint to resume from/);
    r = await runCli(['train', '--resume', join(dir, 'nowhere')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a dlopt run directory/);
  });

  it('--resume --epochs N trains a finished run further', async () => {
    const r = await runCli(['train', '--resume', join(dir, 'run-whole'), '--epochs', '4']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await metrics(join(dir, 'run-whole'))).length, 4);
  });
});
