// The recurrent layers the article names (tfjs's SimpleRNN, LSTM, GRU) trained on the native
// backend on a small sequence task, next to dlopt's AttentionPooling with far fewer parameters.
//
// Task ("marked sum"): each sequence has T steps of [value ∈ U(−1, 1), marker ∈ {0, 1}] with
// exactly two marked steps; the class is whether the two marked values sum to more than 0.
// The model must find the marked steps anywhere in the sequence and combine them.
//
//   node --import tsx packages/dlopt/bench/sequence.ts [--steps 30] [--epochs 20]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../src/backend/backend.js';
import { AttentionPooling } from '../src/layers/attention-pooling.js';
import { Random } from '../src/util/random.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' }, steps: { type: 'string', default: '30' }, epochs: { type: 'string', default: '20' }, train: { type: 'string', default: '4000' } },
});
const T = Number(values.steps);
const EPOCHS = Number(values.epochs);
const backend = await initBackend();

function markedSum(count: number, seed: number): { x: tf.Tensor3D; y: tf.Tensor2D } {
  const rng = new Random(seed);
  const x = new Float32Array(count * T * 2);
  const y = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) {
    const a = Math.floor(rng.next() * T);
    let b = Math.floor(rng.next() * (T - 1));
    if (b >= a) b++;
    let sum = 0;
    for (let t = 0; t < T; t++) {
      const v = rng.next() * 2 - 1;
      const marked = t === a || t === b;
      x[(i * T + t) * 2] = v;
      x[(i * T + t) * 2 + 1] = marked ? 1 : 0;
      if (marked) sum += v;
    }
    y[i * 2 + (sum > 0 ? 1 : 0)] = 1;
  }
  return { x: tf.tensor3d(x, [count, T, 2]), y: tf.tensor2d(y, [count, 2]) };
}

const MODELS: Record<string, () => tfl.layers.Layer[]> = {
  SimpleRNN: () => [tfl.layers.simpleRNN({ units: 16, inputShape: [T, 2] })],
  LSTM: () => [tfl.layers.lstm({ units: 16, inputShape: [T, 2] })],
  GRU: () => [tfl.layers.gru({ units: 16, inputShape: [T, 2] })],
  AttentionPooling: () => [new AttentionPooling({ units: 8, inputShape: [T, 2], seed: 1 })],
  // A per-step embedding first, so the pooled vector can carry more than the raw mean of [value, marker].
  'Dense+AttnPool': () => [
    tfl.layers.dense({ units: 8, activation: 'tanh', inputShape: [T, 2], kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
    new AttentionPooling({ units: 8, seed: 1 }),
  ],
};

const train = markedSum(Number(values.train), 1);
const test = markedSum(2000, 2);
const rows: string[] = [];
for (const [name, layers] of Object.entries(MODELS).filter(([n]) => !values.only || values.only.split(',').includes(n))) {
  const model = tfl.sequential();
  for (const layer of layers()) model.add(layer);
  model.add(tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const start = performance.now();
  await model.fit(train.x, train.y, { epochs: EPOCHS, batchSize: 64, shuffle: true, verbose: 0 });
  const seconds = (performance.now() - start) / 1000;
  const [loss, acc] = (model.evaluate(test.x, test.y, { batchSize: 500 }) as tf.Scalar[]).map((t) => t.dataSync()[0]!);
  const row = `${name.padEnd(17)} ${String(model.countParams()).padStart(7)} params   test accuracy ${(acc! * 100).toFixed(1).padStart(5)}%   loss ${loss!.toFixed(4)}   ${seconds.toFixed(1)} s`;
  console.log(row);
  rows.push(row);
}
console.log(`\nmarked-sum task, T = ${T}, ${values.train} training / 2,000 test sequences, ${EPOCHS} epochs, batch 64, Adam 0.01, backend ${backend.name}`);
