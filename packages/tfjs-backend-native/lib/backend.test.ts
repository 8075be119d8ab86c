import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core alone registers no gradients; tfjs-layers registers them all.
import '@tensorflow/tfjs-layers';
import { NativeBackend, nativeBackendInfo, setIsa } from './index.js';
import { makeInputs } from './test-support/oracle.js';

/** The pool's private state, for white-box checks. */
interface PoolState {
  free: Map<number, Float32Array[]>;
  pooledBytes: number;
}

function nativeBackend(): NativeBackend {
  const backend = tf.findBackend('native');
  assert.ok(backend instanceof NativeBackend, 'the native backend is not a NativeBackend');
  return backend;
}

function pool(): PoolState {
  return nativeBackend() as unknown as PoolState;
}

function pooledArrays(): number {
  let n = 0;
  for (const list of pool().free.values()) n += list.length;
  return n;
}

/** The array a tensor's values live in on the native backend. */
function storage(t: tf.Tensor): unknown {
  return nativeBackend().data.get(t.dataId).values;
}

function random(shape: number[], seed: number): tf.Tensor {
  const [x] = makeInputs(seed, [{ shape }]);
  return tf.tensor(x!.values, shape);
}

describe('native backend registration', () => {
  // First: nothing has called setBackend yet in this process.
  it("is tfjs's default backend after tf.ready() (priority above cpu)", async () => {
    await tf.ready();
    assert.equal(tf.getBackend(), 'native');
    const registry = tf.engine().registryFactory;
    assert.ok(registry.native && registry.cpu, 'native and cpu are both registered');
    assert.ok(registry.native.priority > registry.cpu.priority, `priority ${registry.native.priority} <= cpu's ${registry.cpu.priority}`);
    assert.ok(tf.backend() instanceof NativeBackend);
  });

  it('nativeBackendInfo() reports an available backend, its ISA, the ISAs and threads', () => {
    const info = nativeBackendInfo();
    assert.equal(info.available, true, info.error);
    assert.equal(info.error, undefined);
    assert.ok(info.isas && info.isas.length >= 1);
    assert.ok(info.isa && info.isas.includes(info.isa), `isa ${info.isa} not in [${info.isas}]`);
    assert.equal(info.isa, info.isas[0], 'the fastest ISA is selected by default');
    assert.ok(info.isas.includes('generic'), 'the portable kernels are always available');
    assert.ok(Number.isInteger(info.threads) && info.threads! >= 1, `threads ${info.threads}`);
    for (const kernel of ['Conv2D', 'FusedConv2D', 'BatchMatMul', 'MaxPool', 'Add', 'Relu', 'Sum', 'Softmax', 'Transpose']) {
      assert.ok(info.kernels.includes(kernel), `${kernel} missing from [${info.kernels}]`);
    }
  });

  it('setIsa switches the kernel set and refuses unknown names', () => {
    const info = nativeBackendInfo();
    try {
      for (const isa of info.isas!) {
        assert.equal(setIsa(isa), true);
        assert.equal(nativeBackendInfo().isa, isa);
      }
      assert.equal(setIsa('no-such-isa'), false);
    } finally {
      setIsa(info.isa!);
    }
    assert.equal(nativeBackendInfo().isa, info.isa);
  });
});

describe('NativeBackend output pool', () => {
  it('reuses a released output array for the next output of the same size', async () => {
    await tf.setBackend('native');
    const a = random([1000], 1);
    const x = tf.relu(a);
    const array = storage(x);
    x.dispose();
    const y = tf.relu(a);
    assert.equal(storage(y), array, 'the released array was not reused');
    tf.dispose([a, y]);
  });

  it('an array the user holds from dataSync() keeps its values (it is never recycled)', async () => {
    await tf.setBackend('native');
    const a = random([257], 2);
    const x = tf.relu(a);
    const held = x.dataSync();
    const copy = Float32Array.from(held);
    const array = storage(x);
    x.dispose();
    // Many outputs of the same size, created and released.
    for (let i = 0; i < 20; i++) {
      const y = tf.neg(tf.tidy(() => tf.mul(a, i + 2)));
      assert.notEqual(storage(y), array, 'an array handed to the user was reused');
      y.dataSync();
      y.dispose();
    }
    tf.dispose(a);
    assert.deepEqual(held, copy);
  });

  it('an array the user holds from await data() keeps its values', async () => {
    await tf.setBackend('native');
    const a = random([4, 64], 3);
    const x = tf.sigmoid(a);
    const held = (await x.data()) as Float32Array;
    const copy = Float32Array.from(held);
    x.dispose();
    for (let i = 0; i < 20; i++) tf.tidy(() => tf.exp(tf.add(a, i)).dataSync());
    tf.dispose(a);
    assert.deepEqual(held, copy);
  });

  it('a reshape of a native output keeps its values after the original is disposed', async () => {
    await tf.setBackend('native');
    const a = random([6, 10], 4);
    const x = tf.relu(a);
    const r = tf.reshape(x, [60]);
    const expected = Float32Array.from(r.dataSync());
    x.dispose();
    for (let i = 0; i < 10; i++) tf.tidy(() => tf.relu(tf.add(a, i)));
    assert.deepEqual(r.dataSync(), expected);
    tf.dispose([a, r]);
  });

  it('a contiguous slice of a native output keeps its values after the original is disposed', async () => {
    await tf.setBackend('native');
    const a = random([8], 5);
    const x = tf.relu(tf.add(a, 2)); // all positive, so relu is the identity
    const s = tf.slice(x, [0], [4]);
    const expected = Float32Array.from(tf.tidy(() => tf.add(a, 2)).dataSync().subarray(0, 4));
    x.dispose();
    const y = tf.neg(a); // same size as x: takes x's array from the pool
    assert.deepEqual(s.dataSync(), expected);
    tf.dispose([a, s, y]);
  });

  it('tf.split of a native output keeps its values after the original is disposed', async () => {
    await tf.setBackend('native');
    const a = random([4, 6], 6);
    const x = tf.relu(tf.add(a, 2));
    const parts = tf.split(x, 2, 0);
    const expected = parts.map((p) => Float32Array.from(p.dataSync()));
    // Reading the parts hands out views into x's array, which dataSync does not un-pool: x.dispose() recycles it.
    x.dispose();
    const y = tf.neg(a);
    parts.forEach((p, i) => assert.deepEqual(p.dataSync(), expected[i]));
    tf.dispose([a, y, ...parts]);
  });

  it('a training-like loop keeps the tensor count and the pool bounded', async () => {
    await tf.setBackend('native');
    const x = random([4, 8, 8, 3], 7);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
    const w1 = tf.variable(tf.mul(random([3, 3, 3, 8], 8), 0.3));
    const b1 = tf.variable(tf.zeros([8]));
    const w2 = tf.variable(tf.mul(random([4 * 4 * 8, 3], 9), 0.1));
    const optimizer = tf.train.sgd(0.05);
    const counts: number[] = [];
    const pooled: number[] = [];
    const arrays: number[] = [];
    const losses: number[] = [];
    for (let step = 0; step < 50; step++) {
      const loss = optimizer.minimize(() => {
        const h = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same'), b1));
        const p = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
        const logits = tf.matMul(tf.reshape(p, [4, -1]), w2);
        // Cross-entropy through softmax + log (tf.losses.softmaxCrossEntropy needs Max with axes; see reduce.test.ts).
        return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.log(tf.add(tf.softmax(logits), 1e-7))), 1))) as tf.Scalar;
      }, true);
      losses.push(loss!.dataSync()[0]!);
      loss!.dispose();
      counts.push(tf.memory().numTensors);
      pooled.push(pool().pooledBytes);
      arrays.push(pooledArrays());
    }
    assert.ok(losses.every(Number.isFinite));
    assert.ok(losses.at(-1)! < losses[0]!, `loss did not fall: ${losses[0]} -> ${losses.at(-1)}`);
    // After the first steps (optimizer state created), every step ends with the same tensors and pool.
    const settled = 3;
    for (let i = settled; i < counts.length; i++) {
      assert.equal(counts[i], counts[settled], `step ${i}: ${counts[i]} tensors, step ${settled} had ${counts[settled]}`);
      assert.ok(pooled[i]! <= pooled[settled]!, `step ${i}: ${pooled[i]} bytes pooled, step ${settled} had ${pooled[settled]}`);
      assert.ok(arrays[i]! <= arrays[settled]!, `step ${i}: ${arrays[i]} arrays pooled, step ${settled} had ${arrays[settled]}`);
    }
    tf.dispose([x, labels, w1, b1, w2]);
    optimizer.dispose();
  });

  it('releasePool() empties the pool', async () => {
    await tf.setBackend('native');
    tf.tidy(() => tf.relu(random([100], 10)));
    assert.ok(pool().pooledBytes > 0);
    nativeBackend().releasePool();
    assert.equal(pool().pooledBytes, 0);
    assert.equal(pooledArrays(), 0);
  });
});
