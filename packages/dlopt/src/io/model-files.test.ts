import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { DloptError } from '../errors.js';
import { tempDir } from '../test-support/fixtures.js';
import { Random } from '../util/random.js';
import { MODEL_JSON, WEIGHTS_BIN, loadModel, resolveModelJson, saveModel, writeAtomic } from './model-files.js';

let root: string;
let cleanup: () => Promise<void>;
let counter = 0;

before(async () => {
  assert.ok(await tf.setBackend('cpu'));
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
  ({ dir: root, cleanup } = await tempDir('dlopt-model-files-'));
});

after(async () => {
  await cleanup();
});

async function freshDir(): Promise<string> {
  const dir = join(root, `m${counter++}`);
  await mkdir(dir);
  return dir;
}

/** A tiny conv net (4-D, 2-D and 1-D weights) with seeded, non-trivial weights. */
function tinyModel(seed: number): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: seed * 10 + s });
  const model = tfl.sequential({ name: 'tiny' });
  model.add(tfl.layers.conv2d({ name: 'c', inputShape: [5, 5, 2], filters: 3, kernelSize: 3, activation: 'relu', kernelInitializer: init(0), biasInitializer: init(1) }));
  model.add(tfl.layers.flatten({ name: 'f' }));
  model.add(tfl.layers.dense({ name: 'd', units: 4, activation: 'softmax', kernelInitializer: init(2), biasInitializer: init(3) }));
  return model;
}

/** 27·2·3 + 3 conv, 27·4 + 4 dense. */
const TINY_PARAMS = 3 * 3 * 2 * 3 + 3 + 3 * 3 * 3 * 4 + 4;

function inputs(): tf.Tensor4D {
  const rng = new Random(123);
  const values = Float32Array.from({ length: 3 * 5 * 5 * 2 }, () => rng.next() * 2 - 1);
  return tf.tensor4d(values, [3, 5, 5, 2]);
}

function predict(model: tfl.LayersModel): Float32Array {
  return tf.tidy(() => (model.predict(inputs()) as tf.Tensor).dataSync() as Float32Array);
}

function assertClosePredictions(actual: Float32Array, expected: Float32Array): void {
  assert.equal(actual.length, expected.length);
  assert.equal(actual.length, 12);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= 1e-6, `prediction ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DloptError, `a DloptError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('saveModel', () => {
  it('writes model.json and weights.bin, and nothing else', async () => {
    const dir = await freshDir();
    const result = await saveModel(tinyModel(1), dir);
    assert.equal(result.modelJson, join(dir, MODEL_JSON));
    assert.equal(result.weightBytes, TINY_PARAMS * 4);
    assert.deepEqual((await readdir(dir)).sort(), [MODEL_JSON, WEIGHTS_BIN]);
    assert.equal((await stat(join(dir, WEIGHTS_BIN))).size, TINY_PARAMS * 4);
  });

  it("writes TensorFlow.js's layers-model format with one weights file", async () => {
    const dir = await freshDir();
    const model = tinyModel(1);
    await saveModel(model, dir);
    const json = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
    assert.equal(json.format, 'layers-model');
    assert.equal(json.generatedBy, `TensorFlow.js tfjs-layers v${tfl.version_layers}`);
    assert.equal(json.convertedBy, null);
    assert.equal((json.modelTopology as { class_name?: string }).class_name, 'Sequential');
    assert.equal(json.weightsManifest.length, 1);
    assert.deepEqual(json.weightsManifest[0]!.paths, ['weights.bin']);
    assert.deepEqual(
      json.weightsManifest[0]!.weights.map((w) => [w.name, w.shape, w.dtype]),
      [
        ['c/kernel', [3, 3, 2, 3], 'float32'],
        ['c/bias', [3], 'float32'],
        ['d/kernel', [27, 4], 'float32'],
        ['d/bias', [4], 'float32'],
      ],
    );
    assert.equal('userDefinedMetadata' in json, false);
    assert.equal('trainingConfig' in json, false, 'an uncompiled model has no training config');
    // The bytes are the weights, in manifest order, little-endian float32.
    const bytes = await readFile(join(dir, WEIGHTS_BIN));
    const stored = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const expected = model.getWeights().flatMap((w) => [...w.dataSync()]);
    assert.deepEqual([...stored], expected);
  });

  it('records userDefinedMetadata, which loading gives back', async () => {
    const dir = await freshDir();
    const model = tinyModel(2);
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const metadata = { dlopt: { preprocessing: 'scale-255', class_names: ['a', 'b', 'c', 'd'] } };
    await saveModel(model, dir, metadata);
    const json = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
    assert.deepEqual(json.userDefinedMetadata, metadata);
    const loaded = await loadModel(dir);
    assert.deepEqual(loaded.modelJson.userDefinedMetadata, metadata);
    assert.deepEqual(loaded.model.getUserDefinedMetadata(), metadata);
  });

  it("keeps a model's own metadata when none is given (re-saving a loaded model loses nothing)", async () => {
    const first = await freshDir();
    const metadata = { dlopt: { preprocessing: 'scale-255', class_names: ['a', 'b', 'c', 'd'] } };
    await saveModel(tinyModel(2), first, metadata);
    const { model } = await loadModel(first);
    const second = await freshDir();
    await saveModel(model, second);
    const json = JSON.parse(await readFile(join(second, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
    assert.deepEqual(json.userDefinedMetadata, metadata);
    // Metadata passed explicitly replaces the model's own.
    const third = await freshDir();
    await saveModel(model, third, { other: 1 });
    const replaced = JSON.parse(await readFile(join(third, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
    assert.deepEqual(replaced.userDefinedMetadata, { other: 1 });
  });

  it('leaves no temporary files and replaces an earlier save in place', async () => {
    const dir = await freshDir();
    await saveModel(tinyModel(1), dir);
    const second = tinyModel(3);
    await saveModel(second, dir);
    const names = await readdir(dir);
    assert.deepEqual(names.sort(), [MODEL_JSON, WEIGHTS_BIN]);
    assert.ok(!names.some((n) => n.endsWith('.tmp')));
    assertClosePredictions(predict((await loadModel(dir)).model), predict(second));
  });

  it('writeAtomic writes the whole file under its final name only', async () => {
    const dir = await freshDir();
    await writeAtomic(join(dir, 'a.txt'), 'hello');
    await writeAtomic(join(dir, 'b.bin'), new Uint8Array([1, 2, 3]));
    assert.deepEqual((await readdir(dir)).sort(), ['a.txt', 'b.bin']);
    assert.equal(await readFile(join(dir, 'a.txt'), 'utf8'), 'hello');
    assert.deepEqual([...(await readFile(join(dir, 'b.bin')))], [1, 2, 3]);
  });
});

describe('loadModel', () => {
  let dir: string;
  let original: tfl.LayersModel;

  before(async () => {
    dir = await freshDir();
    original = tinyModel(4);
    await saveModel(original, dir, { note: 'round trip' });
  });

  it('round-trips: same architecture, weights and predictions', async () => {
    const { model, modelJson, file } = await loadModel(dir);
    assert.equal(file, join(dir, MODEL_JSON));
    assert.deepEqual(modelJson, JSON.parse(await readFile(file, 'utf8')));
    assert.deepEqual(
      model.layers.map((l) => [l.name, l.getClassName()]),
      [
        ['c', 'Conv2D'],
        ['f', 'Flatten'],
        ['d', 'Dense'],
      ],
    );
    const a = original.getWeights().map((w) => [...w.dataSync()]);
    const b = model.getWeights().map((w) => [...w.dataSync()]);
    assert.deepEqual(b, a);
    assertClosePredictions(predict(model), predict(original));
  });

  it('accepts the model.json path as well as its directory', async () => {
    const viaFile = await loadModel(join(dir, MODEL_JSON));
    assert.equal(viaFile.file, join(dir, MODEL_JSON));
    assertClosePredictions(predict(viaFile.model), predict(original));
    assert.equal(await resolveModelJson(dir), join(dir, MODEL_JSON));
    assert.equal(await resolveModelJson(join(dir, MODEL_JSON)), join(dir, MODEL_JSON));
  });

  it('loads a model whose variables were renamed because an earlier model used the same layer names', async () => {
    // Building the same named layers twice makes tfjs name the second model's
    // variables "c/kernel_1" etc.; the saved names must not depend on that.
    tinyModel(5);
    const again = tinyModel(5);
    const d = await freshDir();
    await saveModel(again, d);
    const json = JSON.parse(await readFile(join(d, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
    assert.deepEqual(
      json.weightsManifest[0]!.weights.map((w) => w.name),
      ['c/kernel', 'c/bias', 'd/kernel', 'd/bias'],
    );
    assertClosePredictions(predict((await loadModel(d)).model), predict(again));
  });

  it('a missing path is a DloptError naming it', async () => {
    const missing = join(root, 'does-not-exist');
    await rejectsWith(loadModel(missing), /cannot read model .*does-not-exist.*ENOENT/);
  });

  it('a directory without model.json says so', async () => {
    const empty = await freshDir();
    await rejectsWith(loadModel(empty), /has no model\.json/);
  });

  it('invalid JSON names the file', async () => {
    const d = await freshDir();
    await writeFile(join(d, MODEL_JSON), '{"modelTopology": ');
    await rejectsWith(loadModel(d), new RegExp(`${escape(join(d, MODEL_JSON))} is not valid JSON`));
  });

  it('JSON without modelTopology is not a layers model', async () => {
    const d = await freshDir();
    await writeFile(join(d, MODEL_JSON), JSON.stringify({ format: 'layers-model', weightsManifest: [] }));
    await rejectsWith(loadModel(d), /is not a TensorFlow\.js layers model \(no modelTopology\)/);
    await writeFile(join(d, MODEL_JSON), 'null');
    await rejectsWith(loadModel(d), /no modelTopology/);
  });

  it('JSON without weightsManifest is reported', async () => {
    const d = await copyOf(dir);
    await editJson(d, (json) => {
      delete (json as Partial<tf.io.ModelJSON>).weightsManifest;
    });
    await rejectsWith(loadModel(d), /has no weightsManifest/);
  });

  it('a truncated weights.bin reports both byte counts', async () => {
    const d = await copyOf(dir);
    await truncate(join(d, WEIGHTS_BIN), TINY_PARAMS * 4 - 8);
    await rejectsWith(
      loadModel(d),
      new RegExp(`weights of .* are ${TINY_PARAMS * 4 - 8} bytes but its manifest describes ${TINY_PARAMS * 4}`),
    );
  });

  it('a missing weights file is reported with its path', async () => {
    const d = await copyOf(dir);
    await editJson(d, (json) => {
      json.weightsManifest[0]!.paths = ['other.bin'];
    });
    await rejectsWith(loadModel(d), /cannot read weight file .*other\.bin listed in/);
  });

  it('refuses weight paths outside the model directory', async () => {
    const d = await copyOf(dir);
    // A file that exists there, so only the path check can stop the read.
    await writeFile(join(root, 'x.bin'), await readFile(join(dir, WEIGHTS_BIN)));
    for (const bad of ['../x.bin', 'sub/../../x.bin', join(root, 'x.bin')]) {
      await editJson(d, (json) => {
        json.weightsManifest[0]!.paths = [bad];
      });
      await rejectsWith(loadModel(d), /refers to weight file ".*x\.bin" outside its directory/);
    }
  });

  it('accepts a weight path that stays inside the directory after normalising', async () => {
    const d = await copyOf(dir);
    await editJson(d, (json) => {
      json.weightsManifest[0]!.paths = ['sub/../weights.bin'];
    });
    assertClosePredictions(predict((await loadModel(d)).model), predict(original));
  });
});

describe('browser compatibility', () => {
  it('tf.loadLayersModel over HTTP reads what saveModel wrote, with the same predictions', async () => {
    const dir = await freshDir();
    const model = tinyModel(6);
    await saveModel(model, dir, { dlopt: { class_names: ['a', 'b', 'c', 'd'] } });
    const requested: string[] = [];
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      requested.push(path);
      const name = basename(path);
      readFile(join(dir, name)).then(
        (body) => {
          res.writeHead(200, { 'content-type': name.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
          res.end(body);
        },
        () => {
          res.writeHead(404);
          res.end();
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const loaded = await tfl.loadLayersModel(`http://127.0.0.1:${port}/model/model.json`);
      assert.deepEqual(requested, ['/model/model.json', '/model/weights.bin']);
      assertClosePredictions(predict(loaded), predict(model));
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function copyOf(dir: string): Promise<string> {
  const d = await freshDir();
  for (const name of [MODEL_JSON, WEIGHTS_BIN]) await writeFile(join(d, name), await readFile(join(dir, name)));
  return d;
}

async function editJson(dir: string, edit: (json: tf.io.ModelJSON) => void): Promise<void> {
  const json = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
  edit(json);
  await writeFile(join(dir, MODEL_JSON), JSON.stringify(json));
}
