import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { saveModel } from '../io/model-files.js';
import { GroupedConv2D } from '../layers/grouped-conv2d.js';
import { cifarFixture, tempDir, writeTarGz } from '../test-support/fixtures.js';
import { runCli } from '../test-support/run-cli.js';

describe('dlopt summary (end to end)', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  after(() => cleanup());

  it('shows the seed CNN layer by layer with parameters and FLOPs', async () => {
    const r = await runCli(['summary']);
    assert.equal(r.code, 0, r.stderr);
    for (const row of [
      /conv1 \(Conv2D\)\s+\[30, 30, 32\]\s+896\s+1,612,800/,
      /pool1 \(MaxPooling2D\)\s+\[15, 15, 32\]\s+0/,
      /conv2 \(Conv2D\)\s+\[13, 13, 64\]\s+18,496/,
      /flatten \(Flatten\)\s+\[2304\]\s+0\s+0/,
      /dense \(Dense\)\s+\[10\]\s+23,050/,
      /Total params: 42,442/,
      /FLOPs per image: 7,948,584/,
    ]) {
      assert.match(r.stdout, row);
    }
  });

  it('summarises a saved model and prints JSON', async () => {
    const data = await writeTarGz(join(dir, 'c.tar.gz'), cifarFixture(4, null).files);
    const run = join(dir, 'run');
    const t = await runCli(['train', '--data', data, '--epochs', '1', '--limit', '4', '--val-size', '4', '--out', run]);
    assert.equal(t.code, 0, t.stderr);
    const r = await runCli(['summary', '--model', run, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.params, 42442);
    assert.equal(s.flops, 7948584);
    assert.equal(s.layers.length, 6);
  });

  it('loads a saved model that uses dlopt layers and counts their FLOPs', async () => {
    await initBackend('native');
    const input = tfl.input({ shape: [8, 8, 4] });
    const conv = new GroupedConv2D({ name: 'gconv', filters: 8, kernelSize: 3, groups: 2, padding: 'same' }).apply(input) as tfl.SymbolicTensor;
    const out = tfl.layers.globalAveragePooling2d({}).apply(conv) as tfl.SymbolicTensor;
    await saveModel(tfl.model({ inputs: input, outputs: out }), join(dir, 'grouped'));
    const r = await runCli(['summary', '--model', join(dir, 'grouped'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    const row = s.layers.find((l: { name: string }) => l.name === 'gconv');
    assert.equal(row.type, 'GroupedConv2D');
    assert.equal(row.params, 3 * 3 * 2 * 8 + 8);
    assert.equal(row.flops, 8 * 8 * 8 * (2 * 3 * 3 * 2 + 1));
    assert.equal(s.flopsComplete, true);
  });

  it('--all compares every preset', async () => {
    const r = await runCli(['summary', '--all', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { model: string; params: number; flops: number }[];
    assert.deepEqual(rows.map((x) => x.model), ['seed-cnn', 'vgg-bn', 'vgg-bn-reduced', 'resnet-small', 'resnet-small-reduced']);
    assert.equal(rows[0]!.params, 42442);
    assert.equal(rows[3]!.params, 274042);
    const text = await runCli(['summary', '--all']);
    assert.match(text.stdout, /resnet-small\s+274,042\s+82\.31M/);
  });

  it('builds a preset for another input shape and class count', async () => {
    const r = await runCli(['summary', '--input-shape', '28,28,1', '--classes', '5', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    // 26→13→11→5: 5*5*64 = 1600 features into 5 classes.
    assert.equal(s.params, (9 * 1 * 32 + 32) + (9 * 32 * 64 + 64) + (1600 * 5 + 5));
  });

  it('rejects a malformed input shape', async () => {
    const r = await runCli(['summary', '--input-shape', '32,32']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /height,width,channels/);
  });
});

describe('dlopt (top level)', () => {
  it('--help lists the commands; --version prints the version; unknown commands are usage errors', async () => {
    let r = await runCli(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['train', 'evaluate', 'summary']) assert.match(r.stdout, new RegExp(`^\\s+${c} `, 'm'));
    r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
    r = await runCli(['fly']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'fly'/);
  });
});
