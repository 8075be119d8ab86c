import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cifarFixture, tempDir, writeTarGz } from '../test-support/fixtures.js';
import { hasStackTrace, runCli } from '../test-support/run-cli.js';

describe('dlopt train (end to end)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let withTest: string;
  let withoutTest: string;

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    withTest = await writeTarGz(join(dir, 'cifar-with-test.tar.gz'), cifarFixture(6, 12).files);
    withoutTest = await writeTarGz(join(dir, 'cifar-train-only.tar.gz'), cifarFixture(6, null).files);
  });
  after(() => cleanup());

  it('trains, writes a complete run directory, and reports test accuracy', async () => {
    const out = join(dir, 'run-test');
    const r = await runCli(['train', '--data', withTest, '--epochs', '2', '--limit', '12', '--val-size', '10',
      '--batch-size', '8', '--seed', '3', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    // The fastest registered backend: native when its addon is built, else cpu.
    const backend = /Backend: (native|cpu)\b/.exec(r.stderr)?.[1];
    assert.ok(backend, r.stderr);
    assert.match(r.stderr, /Epoch 1\/2 .*loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy/);
    assert.match(r.stdout, /Test accuracy: \d+\.\d\d% \(loss \d\.\d{4}; test_batch\.bin \(12 images\)\)/);
    assert.match(r.stdout, /Validation accuracy: .*last 10 training images, held out/);
    assert.ok(r.stdout.includes(`Report: dlopt report ${out} --out ${join(out, 'report.html')}`), r.stdout);

    assert.deepEqual((await readdir(out)).sort(), ['checkpoint', 'config.json', 'metrics.jsonl', 'model.json', 'summary.json', 'weights.bin']);
    const lines = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    for (const [i, m] of lines.entries()) {
      assert.equal(m.epoch, i + 1);
      for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'seconds', 'images_per_s', 'lr']) {
        assert.equal(typeof m[key], 'number', key);
      }
    }
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.params, 42442);
    assert.equal(summary.flops_per_image, 7948584);
    assert.equal(summary.backend, backend);
    assert.equal(summary.reported_split, 'test');
    assert.equal(summary.final.test.n, 12);
    assert.equal(summary.final.val.n, 10);
    assert.equal(summary.final.val.accuracy, lines[1].val_accuracy);
    // Confusion matrices of the final model: every image counted once, the diagonal its correct ones.
    // The validation one is the last epoch's own, not a second pass.
    for (const [split, n] of [['val', 10], ['test', 12]] as const) {
      const confusion = summary.final[split].confusion as number[][];
      assert.equal(confusion.length, 10, split);
      assert.ok(confusion.every((row) => row.length === 10));
      assert.equal(confusion.flat().reduce((a, b) => a + b, 0), n, split);
      assert.equal(confusion.reduce((k, row, i) => k + row[i]!, 0), Math.round(summary.final[split].accuracy * n), split);
    }
    assert.equal(summary.class_names.length, 10);
    assert.ok(summary.total_seconds > 0);
    const record = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    assert.equal(record.config.model, 'seed-cnn');
    assert.equal(record.config.limit, 12);
    assert.equal(record.config.optimizer.name, 'adam');
    assert.equal(lines[0].lr, 0.001);
    assert.equal(record.data.preprocessing.scale, 1 / 255);
    assert.equal(record.data.splits.train, 'first 12 training images (--limit)');
    // The printed accuracy is the one in summary.json, not rounded up.
    const printed = Number(/Test accuracy: (\d+\.\d\d)%/.exec(r.stdout)![1]);
    assert.equal(printed, Number((summary.final.test.accuracy * 100).toFixed(2)));
  });

  it('is reproducible: the same seed gives the same metrics', async () => {
    const args = (out: string) => ['train', '--data', withoutTest, '--epochs', '1', '--limit', '8', '--val-size', '6',
      '--batch-size', '4', '--seed', '9', '--out', out];
    const a = await runCli(args(join(dir, 'repro-a')));
    const b = await runCli(args(join(dir, 'repro-b')));
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const metrics = async (d: string) =>
      JSON.parse((await readFile(join(dir, d, 'metrics.jsonl'), 'utf8')).trim()) as Record<string, number>;
    const [ma, mb] = [await metrics('repro-a'), await metrics('repro-b')];
    assert.equal(ma.loss, mb.loss);
    assert.equal(ma.val_loss, mb.val_loss);
  });

  it('without a test split, says the reported figure is validation accuracy', async () => {
    const out = join(dir, 'run-val');
    const r = await runCli(['train', '--data', withoutTest, '--epochs', '1', '--limit', '8', '--val-size', '10',
      '--batch-size', '8', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Validation accuracy: \d+\.\d\d%/);
    assert.doesNotMatch(r.stdout, /Test accuracy/);
    assert.match(r.stdout, /No test split in this data/);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.reported_split, 'val');
    assert.equal(summary.final.test, undefined);
  });

  it('without the native addon: one loud warning saying why, then training on the cpu backend', async () => {
    const out = join(dir, 'run-no-native');
    const r = await runCli(['train', '--data', withoutTest, '--epochs', '1', '--limit', '8', '--val-size', '6', '--batch-size', '8', '--out', out], {
      env: { DLOPT_NATIVE_DISABLE: '1' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/@dlopt\/tfjs-backend-native is not active/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /DLOPT_NATIVE_DISABLE=1/);
    assert.match(r.stderr, /Backend: cpu;/);
    assert.equal(JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')).backend, 'cpu');
  });

  it('trains on an image folder', async () => {
    const sharp = (await import('sharp')).default;
    const root = join(dir, 'folder');
    for (const [name, colour] of [['cat', { r: 200, g: 30, b: 30 }], ['dog', { r: 30, g: 30, b: 200 }]] as const) {
      await mkdir(join(root, name), { recursive: true });
      for (let i = 0; i < 5; i++) {
        await sharp({ create: { width: 40, height: 30, channels: 3, background: colour } }).png().toFile(join(root, name, `${i}.png`));
      }
    }
    const out = join(dir, 'run-folder');
    const r = await runCli(['train', '--data', root, '--epochs', '1', '--val-size', '4', '--batch-size', '4', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /image-folder; train 10 images of 32×32×3; 2 classes/);
    const record = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    assert.deepEqual(record.data.classNames, ['cat', 'dog']);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.params, 896 + 18496 + 2304 * 2 + 2);
  });

  describe('bad input', () => {
    const cases: [string, string[], number, RegExp][] = [
      ['zero epochs', ['--epochs', '0'], 2, /--epochs.*positive integer/],
      ['non-numeric batch size', ['--batch-size', 'lots'], 2, /--batch-size.*positive integer/],
      ['negative learning rate', ['--lr', '-1'], 2, /--lr.*number > 0/],
      ['unknown flag', ['--bogus'], 2, /unknown option '--bogus'/],
      ['unknown model', ['--model', 'resnet-9000'], 2, /resnet-9000.*Allowed choices are seed-cnn, vgg-bn/],
      ['stray argument', ['extra'], 2, /too many arguments|unknown command|excess/i],
      ['missing data path', ['--data', '/nonexistent/cifar.tar.gz'], 1, /--data \/nonexistent\/cifar\.tar\.gz: no such file/],
      ['validation split as big as the data', ['--val-size', '30'], 1, /--val-size 30 leaves no training images: the training data has 30/],
    ];
    for (const [name, flags, code, message] of cases) {
      it(`${name} → exit ${code} with a clear message`, async () => {
        const hasData = flags.includes('--data');
        const r = await runCli(['train', ...(hasData ? [] : ['--data', withTest]), '--out', join(dir, `bad-${name}`), ...flags]);
        assert.equal(r.code, code, r.stderr);
        assert.match(r.stderr, message);
        assert.ok(!hasStackTrace(r.stderr), r.stderr);
      });
    }

    it('a corrupt archive → exit 1, names the file, no stack trace, no run directory left looking complete', async () => {
      const bytes = await readFile(withTest);
      const corrupt = join(dir, 'corrupt.tar.gz');
      await writeFile(corrupt, bytes.subarray(0, Math.floor(bytes.length / 2)));
      const out = join(dir, 'run-corrupt');
      const r = await runCli(['train', '--data', corrupt, '--out', out]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /corrupt\.tar\.gz.*truncated/);
      assert.ok(!hasStackTrace(r.stderr), r.stderr);
      assert.ok(!existsSync(join(out, 'summary.json')));
    });

    it('refuses to write into a non-empty output directory', async () => {
      const out = join(dir, 'occupied');
      await mkdir(out, { recursive: true });
      await writeFile(join(out, 'keep.txt'), 'x');
      const r = await runCli(['train', '--data', withTest, '--epochs', '1', '--limit', '4', '--val-size', '4', '--out', out]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /occupied already exists and is not empty/);
    });

    it('with no data anywhere and no network, says so and shows --data', async () => {
      const cache = join(dir, 'empty-cache');
      const r = await runCli(['train', '--out', join(dir, 'run-offline')], {
        env: { XDG_CACHE_HOME: cache, DLOPT_CIFAR10_URL: 'http://127.0.0.1:9/cifar-10-binary.tar.gz' },
      });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /offline|cannot reach/);
      assert.match(r.stderr, /--data PATH/);
      assert.ok(!hasStackTrace(r.stderr), r.stderr);
      assert.deepEqual(existsSync(cache) ? await readdir(join(cache, 'dlopt')).catch(() => []) : [], []);
    });
  });

  it('--help describes every flag', async () => {
    const r = await runCli(['train', '--help']);
    assert.equal(r.code, 0);
    for (const flag of ['--model', '--data', '--epochs', '--batch-size', '--lr', '--val-size', '--limit', '--seed', '--out']) {
      assert.ok(r.stdout.includes(flag), flag);
    }
  });
});
