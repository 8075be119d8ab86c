import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { DloptError } from '../errors.js';
import '../layers/all-layers.js';
import { LocalResponseNormalization } from '../layers/local-response-normalization.js';
import { buildResNetSmall } from '../models/resnet-small.js';
import { syntheticImages } from '../test-support/fixtures.js';
import { Random } from '../util/random.js';
import { traceChannels } from './channel-graph.js';
import { cloneModel, maskModel, shrinkModel } from './shrink-model.js';
import { pruneStructured } from './structured-pruning.js';

type Tensor = tfl.SymbolicTensor;

/** Gives every weight random values (batch-norm statistics too), so silenced channels really matter. */
function randomize(model: tfl.LayersModel, seed = 1): tfl.LayersModel {
  const rng = new Random(seed);
  model.setWeights(
    model.weights.map((w) => {
      const shape = w.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const variance = w.name.includes('variance');
      const values = Float32Array.from({ length: n }, () => (variance ? 0.5 + rng.next() : (rng.next() - 0.5) * 0.8));
      return tf.tensor(values, shape);
    }),
  );
  return model;
}

function seedLike(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ name: 'conv1', inputShape: [10, 10, 3], filters: 8, kernelSize: 3, activation: 'relu' }));
  m.add(tfl.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
  m.add(tfl.layers.conv2d({ name: 'conv2', filters: 12, kernelSize: 2, activation: 'relu' }));
  m.add(tfl.layers.flatten({ name: 'flatten' }));
  m.add(tfl.layers.dense({ name: 'dense', units: 5, activation: 'softmax' }));
  return randomize(m);
}

function concatModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [6, 6, 3] });
  const a = tfl.layers.conv2d({ name: 'a', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(input) as Tensor;
  const b = tfl.layers.conv2d({ name: 'b', filters: 6, kernelSize: 1, activation: 'relu' }).apply(input) as Tensor;
  let x = tfl.layers.concatenate({ name: 'cat' }).apply([a, b]) as Tensor;
  x = tfl.layers.batchNormalization({ name: 'bn' }).apply(x) as Tensor;
  x = tfl.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x) as Tensor;
  x = tfl.layers.separableConv2d({ name: 'sep', filters: 8, kernelSize: 3, depthMultiplier: 2, activation: 'relu' }).apply(x) as Tensor;
  x = tfl.layers.flatten({ name: 'flat' }).apply(x) as Tensor;
  const out = tfl.layers.dense({ name: 'out', units: 3 }).apply(x) as Tensor;
  return randomize(tfl.model({ inputs: input, outputs: out }), 2);
}

function resnet(): tfl.LayersModel {
  return randomize(buildResNetSmall({ inputShape: [8, 8, 3], numClasses: 4, seed: 3 }, { widths: [4, 8, 8], blocksPerStage: 2 }), 3);
}

function widths(model: tfl.LayersModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of model.layers) {
    const c = l.getConfig() as { filters?: number; units?: number };
    const w = c.filters ?? c.units;
    if (w !== undefined) out[l.name] = w;
  }
  return out;
}

async function roundTrip(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  return tfl.loadLayersModel(tf.io.fromMemory(saved!));
}

function maxDiff(a: tfl.LayersModel, b: tfl.LayersModel, x: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a.predict(x) as tf.Tensor, b.predict(x) as tf.Tensor))).dataSync()[0]!);
}

describe('structured pruning', () => {
  before(async () => {
    await initBackend();
  });

  it('traces a plain CNN: each conv is a group, flatten and the output layer are handled', () => {
    const graph = traceChannels(seedLike());
    const named = Object.fromEntries(graph.groups.map((g) => [g.name, g]));
    assert.equal(named.conv1!.size, 8);
    assert.ok(named.conv1!.prunable && named.conv2!.prunable);
    assert.ok(!named.dense!.prunable, 'the classifier keeps its classes');
    assert.match(named.dense!.frozen.join(), /model output/);
    // conv2's group is consumed by the dense kernel through the flatten: 3·3 positions.
    const denseRows = named.conv2!.slices.find((s) => s.layer.name === 'dense')!;
    assert.equal(denseRows.layout.positions, 9);
  });

  it('halves every conv of a CNN by L1 norm, keeping exactly the largest filters, and the result equals the masked model', async () => {
    const model = seedLike();
    const norms = tf.tidy(() => Array.from(tf.sum(tf.abs(model.getLayer('conv1').getWeights()[0]!), [0, 1, 2]).dataSync()));
    const result = await pruneStructured(model, { criterion: 'l1', sparsity: 0.5, scope: 'layer' });
    assert.deepEqual(widths(result.model), { conv1: 4, conv2: 6, dense: 5 });
    const expected = norms.map((n, i) => [n, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 4).map(([, i]) => i).sort((a, b) => a - b);
    const kernel = tf.tidy(() => tf.gather(model.getLayer('conv1').getWeights()[0]!, expected, 3).arraySync());
    assert.deepEqual(result.model.getLayer('conv1').getWeights()[0]!.arraySync(), kernel);
    assert.ok(result.maxDifference < 1e-5, `difference ${result.maxDifference}`);
    assert.equal(result.model.getLayer('dense').getWeights()[0]!.shape[0], 3 * 3 * 6);
    assert.ok(result.model.countParams() < model.countParams() / 2);
    result.model.dispose();
  });

  it('prunes a ResNet across its residual adds as one group, and the smaller model saves and loads', async () => {
    const model = resnet();
    const graph = traceChannels(model);
    const stage1 = graph.groups.find((g) => g.producers.some((l) => l.name === 'stem_conv'))!;
    assert.deepEqual(
      stage1.producers.map((l) => l.name),
      ['stem_conv', 'stage1_block1_conv2', 'stage1_block2_conv2'],
      'the stem and every block writing into the first stage are coupled',
    );
    assert.ok(stage1.prunable);
    const result = await pruneStructured(model, { criterion: 'bn', sparsity: 0.5, scope: 'layer' });
    const w = widths(result.model);
    assert.equal(w.stem_conv, 2);
    assert.equal(w.stage1_block1_conv2, 2);
    assert.equal(w.stage2_block1_proj, w.stage2_block2_conv2);
    assert.equal(w.stage2_block1_conv1, 4);
    assert.equal(w.classifier, 4);
    const reloaded = await roundTrip(result.model);
    const x = tf.randomUniform([3, 8, 8, 3], 0, 1, 'float32', 5);
    assert.ok(maxDiff(result.model, reloaded, x) < 1e-6);
    tf.dispose(x);
    reloaded.dispose();
    result.model.dispose();
  });

  it('slices through concatenation, batch norm, depthwise and separable convolutions', async () => {
    const model = concatModel();
    const result = await pruneStructured(model, { criterion: 'l2', sparsity: 0.5, scope: 'layer' });
    assert.deepEqual(widths(result.model), { a: 2, b: 3, sep: 4, out: 3 });
    assert.deepEqual(result.model.getLayer('bn').getWeights()[0]!.shape, [5]);
    assert.deepEqual(result.model.getLayer('sep').getWeights()[1]!.shape, [1, 1, 10, 4], 'pointwise rows: kept channels × depth multiplier');
    assert.ok(result.maxDifference < 1e-5);
    result.model.dispose();
  });

  it('prunes the units of hidden dense layers and the rows of the next one', async () => {
    const input = tfl.input({ shape: [12] });
    let x = tfl.layers.dense({ name: 'h1', units: 10, activation: 'relu' }).apply(input) as Tensor;
    x = tfl.layers.dropout({ name: 'drop', rate: 0.3 }).apply(x) as Tensor;
    x = tfl.layers.dense({ name: 'h2', units: 6, activation: 'elu' }).apply(x) as Tensor;
    const model = randomize(tfl.model({ inputs: input, outputs: tfl.layers.dense({ name: 'out', units: 3, activation: 'softmax' }).apply(x) as Tensor }));
    const result = await pruneStructured(model, { criterion: 'l2', sparsity: 0.5, scope: 'layer' });
    assert.deepEqual(widths(result.model), { h1: 5, h2: 3, out: 3 });
    assert.deepEqual(result.model.getLayer('h2').getWeights()[0]!.shape, [5, 3]);
    assert.ok(result.maxDifference < 1e-5);
    result.model.dispose();
  });

  it('the equivalence check catches a shrink that does not match the mask', async () => {
    const model = seedLike();
    const graph = traceChannels(model);
    const conv1 = graph.groups.find((g) => g.name === 'conv1')!;
    const masked = await cloneModel(model);
    maskModel(masked, graph, new Map([[conv1, [0, 1, 2, 3]]]));
    const shrunk = await shrinkModel(model, graph, new Map([[conv1, [4, 5, 6, 7]]]));
    const same = await shrinkModel(model, graph, new Map([[conv1, [0, 1, 2, 3]]]));
    const x = tf.randomUniform([4, 10, 10, 3], 0, 1, 'float32', 9);
    assert.ok(maxDiff(masked, shrunk, x) > 1e-3);
    assert.ok(maxDiff(masked, same, x) < 1e-6);
    // And masking really changes the model (the check is not comparing two copies of the original).
    assert.ok(maxDiff(masked, model, x) > 1e-3);
    tf.dispose(x);
    for (const m of [masked, shrunk, same]) m.dispose();
  });

  it('global scope removes the requested share of all channels, never below the minimum width, rounded', async () => {
    const model = resnet();
    const before = traceChannels(model).groups.filter((g) => g.prunable);
    const total = before.reduce((n, g) => n + g.size, 0);
    const result = await pruneStructured(model, { criterion: 'l1', sparsity: 0.5, scope: 'global', minWidth: 2 });
    const after = result.groups.reduce((n, g) => n + g.after, 0);
    assert.equal(after, total - Math.round(0.5 * total));
    assert.ok(result.groups.every((g) => g.after >= 2));
    assert.ok(new Set(result.groups.map((g) => g.after / g.before)).size > 1, 'global ranking prunes groups unevenly');
    result.model.dispose();
    const rounded = await pruneStructured(model, { criterion: 'l1', sparsity: 0.6, scope: 'layer', roundTo: 4 });
    assert.ok(rounded.groups.every((g) => g.after % 4 === 0 || g.after === g.before), JSON.stringify(rounded.groups));
    rounded.model.dispose();
  });

  it('APoZ and mean activation prune the channels that are dead on data first', async () => {
    const model = seedLike();
    // conv1's channels 0 and 5 never fire: a large negative bias.
    const [kernel, bias] = model.getLayer('conv1').getWeights();
    // The others always fire, so the dead ones are the only candidates.
    const b = (bias!.arraySync() as number[]).map(() => 2);
    b[0] = -100;
    b[5] = -100;
    model.getLayer('conv1').setWeights([kernel!, tf.tensor1d(b)]);
    const images = syntheticImages(40, 1, 10, 5);
    for (const criterion of ['apoz', 'mean-activation'] as const) {
      const result = await pruneStructured(model, {
        criterion,
        sparsity: 0.25,
        scope: 'layer',
        layers: ['conv1'],
        calibration: { images, numClasses: 5, batchSize: 16 },
      });
      assert.deepEqual(widths(result.model), { conv1: 6, conv2: 12, dense: 5 });
      // The kept filters are all but 0 and 5.
      const keptKernel = tf.tidy(() => tf.gather(kernel!, [1, 2, 3, 4, 6, 7], 3).arraySync());
      assert.deepEqual(result.model.getLayer('conv1').getWeights()[0]!.arraySync(), keptKernel, criterion);
      result.model.dispose();
    }
  });

  it('refuses impossible requests with the layer named', async () => {
    const model = seedLike();
    await assert.rejects(pruneStructured(model, { criterion: 'l1', sparsity: 1, scope: 'layer' }), /sparsity must be in \[0, 1\)/);
    await assert.rejects(pruneStructured(model, { criterion: 'l1', sparsity: 0.97, scope: 'layer' }), /leave layer 'conv1' with no channels/);
    await assert.rejects(pruneStructured(model, { criterion: 'bn', sparsity: 0.5, scope: 'layer' }), /layer 'conv1' is not followed by batch normalization/);
    await assert.rejects(pruneStructured(model, { criterion: 'apoz', sparsity: 0.5, scope: 'layer' }), /needs data/);
    await assert.rejects(pruneStructured(model, { criterion: 'l1', sparsity: 0.5, scope: 'layer', layers: ['dense'] }), /layer 'dense' cannot be pruned: .*model output/);
    await assert.rejects(pruneStructured(model, { criterion: 'l1', sparsity: 0.5, scope: 'layer', layers: ['nope'] }), /no layer 'nope'/);
  });

  it('keeps the channels of layers it does not understand, and says which', async () => {
    const input = tfl.input({ shape: [6, 6, 3] });
    let x = tfl.layers.conv2d({ name: 'c1', filters: 4, kernelSize: 3, activation: 'relu' }).apply(input) as Tensor;
    x = new LocalResponseNormalization({ name: 'lrn' }).apply(x) as Tensor;
    x = tfl.layers.conv2d({ name: 'c2', filters: 6, kernelSize: 3, activation: 'relu' }).apply(x) as Tensor;
    x = tfl.layers.conv2d({ name: 'c3', filters: 6, kernelSize: 1, activation: 'sigmoid' }).apply(x) as Tensor;
    x = tfl.layers.flatten().apply(x) as Tensor;
    const model = randomize(tfl.model({ inputs: input, outputs: tfl.layers.dense({ name: 'out', units: 2 }).apply(x) as Tensor }));
    await assert.rejects(
      pruneStructured(model, { criterion: 'l1', sparsity: 0.5, scope: 'layer', layers: ['c1'] }),
      (e: Error) => e instanceof DloptError && /layer 'c1' cannot be pruned: .*'lrn' \(LocalResponseNormalization\)/.test(e.message),
    );
    await assert.rejects(pruneStructured(model, { criterion: 'l1', sparsity: 0.5, scope: 'layer', layers: ['c3'] }), /activation sigmoid, which is not zero at zero/);
    const result = await pruneStructured(model, { criterion: 'l1', sparsity: 0.5, scope: 'layer' });
    assert.deepEqual(widths(result.model), { c1: 4, c2: 3, c3: 6, out: 2 });
    assert.deepEqual(result.frozen.map((f) => f.name).sort(), ['c1', 'c3', 'out']);
    result.model.dispose();
  });
});
