import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/backend.js';
import { Random } from '../util/random.js';

type Layer = tfl.layers.Layer;

export interface LayerCase {
  /** Shown in test names, e.g. 'groups 2, same padding'. */
  name: string;
  /** A fresh, unbuilt layer. */
  create: () => Layer;
  /** Input shape(s) without the batch dimension; several for layers taking a list. */
  inputShape: number[] | number[][];
  batch?: number;
  /** Options of the finite-difference check (defaults: eps 1e-2, tolerance 2e-2 relative to the largest gradient). */
  gradient?: { eps?: number; tolerance?: number; training?: boolean; skip?: string };
}

/**
 * The checks every dlopt layer passes, each the same way (call it from the
 * layer's own test file with a few configurations):
 * - the output's shape is what computeOutputShape says;
 * - getConfig → fromConfig rebuilds a layer that, given the same weights,
 *   computes the same outputs; the config survives JSON;
 * - a model holding the layer goes through model.save and
 *   tf.loadLayersModel (the JSON a browser would load) with the same
 *   predictions, and the registered class name is the layer's own;
 * - gradients with respect to the input and every trainable weight match
 *   central finite differences of a random projection of the output.
 */
export function describeLayerConformance(className: string, cases: LayerCase[]): void {
  describe(`${className} (layer conformance)`, () => {
    before(async () => {
      await initBackend('native');
    });

    for (const c of cases) {
      describe(c.name, () => {
        it('output shape matches computeOutputShape', () => {
          const layer = c.create();
          const inputs = randomInputs(c, 1);
          const out = tf.tidy(() => layer.apply(inputs) as tf.Tensor | tf.Tensor[]);
          const expected = layer.computeOutputShape(withBatch(c));
          const outs = Array.isArray(out) ? out : [out];
          const shapes = (Array.isArray(expected[0]) || expected[0] === undefined ? expected : [expected]) as tfl.Shape[];
          assert.equal(outs.length, shapes.length);
          outs.forEach((o, i) => assert.deepEqual(o.shape, shapes[i]!.map((d, j) => d ?? o.shape[j]), `output ${i}`));
          assert.equal(layer.getClassName(), className);
          tf.dispose([...outs, ...[inputs].flat()]);
        });

        it('getConfig → fromConfig gives the same layer (through JSON)', () => {
          const layer = c.create();
          const inputs = randomInputs(c, 2);
          const before = tf.tidy(() => layer.apply(inputs) as tf.Tensor);
          const config = JSON.parse(JSON.stringify(layer.getConfig())) as tf.serialization.ConfigDict;
          const cls = tf.serialization.SerializationMap.getMap().classNameMap[className];
          assert.ok(cls, `${className} is registered for deserialization`);
          // fromConfig may add keys to the object it is given: give it a copy.
          const copy = cls[1](cls[0], structuredClone(config)) as Layer;
          const again = tf.tidy(() => {
            copy.apply(inputs); // builds it
            copy.setWeights(layer.getWeights());
            return copy.apply(inputs) as tf.Tensor;
          });
          assert.deepEqual(JSON.parse(JSON.stringify(copy.getConfig())), config);
          assertClose(again, before, 1e-5);
          tf.dispose([before, again, ...[inputs].flat()]);
        });

        it('a model using it saves and loads with tf.loadLayersModel', async () => {
          const shapes = Array.isArray(c.inputShape[0]) ? (c.inputShape as number[][]) : [c.inputShape as number[]];
          const ins = shapes.map((s) => tfl.input({ shape: s }));
          const out = c.create().apply(ins.length === 1 ? ins[0]! : ins) as tfl.SymbolicTensor;
          const model = tfl.model({ inputs: ins, outputs: out });
          const { loaded, topology } = await reloadThroughJson(model);
          assert.ok(JSON.stringify(topology).includes(`"class_name":"${className}"`), 'model.json names the layer class');
          const inputs = randomInputs(c, 3);
          const a = model.predict(inputs) as tf.Tensor;
          const b = loaded.predict(inputs) as tf.Tensor;
          assertClose(b, a, 1e-5);
          tf.dispose([a, b, ...[inputs].flat()]);
        });

        const g = c.gradient ?? {};
        it('gradients match finite differences', { skip: g.skip ?? false }, () => {
          const layer = c.create();
          const inputs = [randomInputs(c, 4)].flat();
          tf.tidy(() => layer.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: g.training ?? false }) as tf.Tensor);
          checkGradients(layer, inputs, { eps: g.eps ?? 1e-2, tolerance: g.tolerance ?? 2e-2, training: g.training ?? false });
          tf.dispose(inputs);
        });
      });
    }
  });
}

/**
 * What a browser does with a saved model: model.save's artifacts, the
 * topology through JSON text, then tf.loadLayersModel.
 */
export async function reloadThroughJson(model: tfl.LayersModel): Promise<{ loaded: tfl.LayersModel; topology: unknown }> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const topology = JSON.parse(JSON.stringify(saved!.modelTopology));
  return { loaded: await tfl.loadLayersModel(tf.io.fromMemory({ ...saved!, modelTopology: topology })), topology };
}

function withBatch(c: LayerCase): tfl.Shape | tfl.Shape[] {
  const b = c.batch ?? 2;
  return Array.isArray(c.inputShape[0]) ? (c.inputShape as number[][]).map((s) => [b, ...s]) : [b, ...(c.inputShape as number[])];
}

function randomInputs(c: LayerCase, seed: number): tf.Tensor | tf.Tensor[] {
  const rng = new Random(seed);
  const shapes = withBatch(c);
  const make = (shape: tfl.Shape) => {
    const s = shape as number[];
    const n = s.reduce((a, b) => a * b, 1);
    return tf.tensor(Float32Array.from({ length: n }, () => rng.normal()), s);
  };
  return Array.isArray(shapes[0]) ? (shapes as tfl.Shape[]).map(make) : make(shapes as tfl.Shape);
}

function assertClose(actual: tf.Tensor, expected: tf.Tensor, tolerance: number): void {
  assert.deepEqual(actual.shape, expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - e[i]!) <= tolerance * (1 + Math.abs(e[i]!)), `element ${i}: ${a[i]} vs ${e[i]}`);
  }
}

/**
 * Checks a built layer's gradients against central differences of
 * f = Σ R ⊙ layer(inputs), R a fixed random projection (so no gradient is
 * trivially 1). Checks up to 12 coordinates of each input and trainable
 * weight. All weights (moving statistics included) are restored before each
 * evaluation, so layers that update state while training stay comparable.
 */
export function checkGradients(layer: Layer, inputs: tf.Tensor[], options: { eps: number; tolerance: number; training: boolean }): void {
  const rng = new Random(99);
  const saved = layer.getWeights().map((w) => w.clone());
  const restore = () => layer.setWeights(saved);
  const arg = () => (inputs.length === 1 ? inputs[0]! : inputs);
  const outShape = tf.tidy(() => (layer.apply(arg(), { training: options.training }) as tf.Tensor).shape);
  const projection = tf.tensor(Float32Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => rng.normal()), outShape);
  const f = (): tf.Scalar => tf.sum(tf.mul(layer.apply(arg(), { training: options.training }) as tf.Tensor, projection));
  const value = (): number => {
    restore();
    return tf.tidy(() => f().dataSync()[0]!);
  };

  const variables = layer.trainableWeights.map((w) => w.read() as tf.Variable);
  restore();
  const inputVars = inputs.map((x) => tf.variable(x.clone(), true));
  const grads = tf.tidy(() => {
    const realArg = () => (inputVars.length === 1 ? inputVars[0]! : inputVars);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(realArg(), { training: options.training }) as tf.Tensor, projection)), [
      ...inputVars,
      ...variables,
    ]);
    return grads;
  });
  const targets: { name: string; tensor: tf.Tensor; grad: tf.Tensor; set: (v: tf.Tensor) => void }[] = [
    ...inputs.map((x, i) => ({ name: `input ${i}`, tensor: x, grad: grads[inputVars[i]!.name]!, set: (v: tf.Tensor) => (inputs[i] = v) })),
    ...layer.trainableWeights.map((w, i) => ({
      name: w.originalName,
      tensor: variables[i]!,
      grad: grads[variables[i]!.name]!,
      set: (v: tf.Tensor) => {
        const index = layer.weights.indexOf(w);
        saved[index]!.dispose();
        saved[index] = v;
      },
    })),
  ];
  for (const t of targets) {
    assert.ok(t.grad, `no gradient for ${t.name}`);
    const analytic = t.grad.dataSync();
    const scale = Math.max(1e-3, ...Array.from(analytic, Math.abs));
    const base = t.tensor.dataSync().slice();
    const picks = new Set<number>();
    for (let k = 0; k < Math.min(12, base.length); k++) picks.add(Math.floor(rng.next() * base.length));
    for (const i of picks) {
      const at = (delta: number) => {
        const data = base.slice();
        data[i] = base[i]! + delta;
        const v = tf.tensor(data, t.tensor.shape);
        const original = t.name.startsWith('input') ? inputs[Number(t.name.slice(6))]! : null;
        t.set(v);
        const y = value();
        if (original) inputs[Number(t.name.slice(6))] = original;
        else t.set(tf.tensor(base, t.tensor.shape));
        if (original) v.dispose();
        return y;
      };
      const numeric = (at(options.eps) - at(-options.eps)) / (2 * options.eps);
      assert.ok(
        Math.abs(numeric - analytic[i]!) <= options.tolerance * scale,
        `${t.name}[${i}]: analytic ${analytic[i]} vs finite difference ${numeric} (largest gradient ${scale})`,
      );
    }
  }
  restore();
  tf.dispose([projection, ...inputVars, ...saved, ...Object.values(grads)]);
}
