import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { imagesToTensor, NativeBackend } from './index.js';
import { countAddonCalls, forEachIsa } from './test-support/oracle.js';

/** Five 2x2 RGB "images" (12 bytes each): image i, byte k holds a value that tells both apart, 0 and 255 included. */
const IMAGE_SHAPE = [2, 2, 3];
const IMAGE_SIZE = 12;
const COUNT = 5;
const IMAGES = Uint8Array.from({ length: COUNT * IMAGE_SIZE }, (_, j) => {
  const image = Math.floor(j / IMAGE_SIZE), k = j % IMAGE_SIZE;
  return k === 0 ? 255 : k === 1 ? 0 : (image * 50 + k * 7) % 256;
});

/** What imagesToTensor must give: float32(byte) * float32(scale), computed in float32 like the addon. */
function expected(index: readonly number[], scale: number): Float32Array {
  const s = Math.fround(scale);
  const out = new Float32Array(index.length * IMAGE_SIZE);
  for (const [r, i] of index.entries()) {
    for (let k = 0; k < IMAGE_SIZE; k++) out[r * IMAGE_SIZE + k] = Math.fround(IMAGES[i * IMAGE_SIZE + k]! * s);
  }
  return out;
}

function nativeBackend(): NativeBackend {
  const backend = tf.findBackend('native');
  assert.ok(backend instanceof NativeBackend);
  return backend;
}

describe('imagesToTensor', () => {
  for (const scale of [1 / 255, 0.5, 1]) {
    it(`gathers rows by index (out of order, repeated) and scales by ${scale}, exactly (every ISA)`, async () => {
      await tf.setBackend('native');
      const index = [3, 0, 4, 3, 1, 3, 2, 0];
      await forEachIsa(async (isa) => {
        const before = tf.memory().numTensors;
        const { result: t, calls } = await countAddonCalls(() => imagesToTensor(IMAGES, Uint32Array.from(index), [index.length, ...IMAGE_SHAPE], scale));
        assert.ok(t, `[${isa}] imagesToTensor returned undefined on the native backend`);
        assert.equal(calls.get('gatherU8'), 1, `[${isa}] addon.gatherU8 calls`);
        assert.deepEqual(t.shape, [index.length, ...IMAGE_SHAPE]);
        assert.equal(t.dtype, 'float32');
        assert.deepEqual(Array.from(t.dataSync()), Array.from(expected(index, scale)), `[${isa}] values`);
        // A usable tensor: an op on it gives the right result.
        const sum = tf.sum(t);
        assert.ok(Math.abs(sum.dataSync()[0]! - expected(index, scale).reduce((a, b) => a + b, 0)) <= 1e-3, `[${isa}] sum`);
        tf.dispose([t, sum]);
        assert.equal(tf.memory().numTensors, before, `[${isa}] leaked tensors`);
      });
    });
  }

  it('spot values: byte 255 at scale 1/255 is float32(1/255) * 255; byte 0 is 0', async () => {
    await tf.setBackend('native');
    const t = imagesToTensor(IMAGES, Uint32Array.from([2]), [1, ...IMAGE_SHAPE], 1 / 255);
    assert.ok(t);
    const v = t.dataSync();
    assert.equal(v[0], Math.fround(255 * Math.fround(1 / 255)));
    assert.equal(v[1], 0);
    assert.equal(v[2], Math.fround(((2 * 50 + 2 * 7) % 256) * Math.fround(1 / 255)));
    t.dispose();
  });

  it('an empty index gives an empty tensor', async () => {
    await tf.setBackend('native');
    const t = imagesToTensor(IMAGES, new Uint32Array(0), [0, ...IMAGE_SHAPE], 1 / 255);
    assert.ok(t);
    assert.deepEqual(t.shape, [0, ...IMAGE_SHAPE]);
    assert.equal(t.dataSync().length, 0);
    t.dispose();
  });

  it('returns undefined when the active backend is cpu', async () => {
    try {
      await tf.setBackend('cpu');
      const { result, calls } = await countAddonCalls(() => imagesToTensor(IMAGES, Uint32Array.from([0, 1]), [2, ...IMAGE_SHAPE], 1 / 255));
      assert.equal(result, undefined);
      assert.equal(calls.size, 0, `the addon ran: ${[...calls.keys()]}`);
    } finally {
      await tf.setBackend('native');
    }
  });

  it('rejects an index past the last image with a clear error', async () => {
    await tf.setBackend('native');
    for (const bad of [COUNT, COUNT + 100, 0xffffffff]) {
      assert.throws(() => imagesToTensor(IMAGES, Uint32Array.from([0, bad, 1]), [3, ...IMAGE_SHAPE], 1), /out of range/, `index ${bad}`);
    }
  });

  it('rejects an index into a trailing partial image', async () => {
    await tf.setBackend('native');
    // 2.5 images' worth of bytes: index 2 would read past the end.
    const partial = IMAGES.subarray(0, IMAGE_SIZE * 2 + IMAGE_SIZE / 2);
    assert.throws(() => imagesToTensor(partial, Uint32Array.from([2]), [1, ...IMAGE_SHAPE], 1), /out of range/);
    const ok = imagesToTensor(partial, Uint32Array.from([1]), [1, ...IMAGE_SHAPE], 1);
    assert.ok(ok);
    ok.dispose();
  });

  it('rejects a shape with fewer rows than indices (the output would overflow)', async () => {
    await tf.setBackend('native');
    assert.throws(() => imagesToTensor(IMAGES, Uint32Array.from([0, 1, 2]), [2, ...IMAGE_SHAPE], 1), /shape\[0\] is 2 but there are 3 indices/);
  });

  it('rejects a shape with more rows than indices (rows nobody writes)', async () => {
    await tf.setBackend('native');
    // Put a recognisable array of the output's size into the pool.
    tf.tidy(() => tf.neg(tf.fill([3, IMAGE_SIZE], -7)));
    assert.throws(() => {
      const t = imagesToTensor(IMAGES, Uint32Array.from([1]), [3, ...IMAGE_SHAPE], 1);
      const values = t?.dataSync();
      t?.dispose();
      assert.fail(`no error; rows 1 and 2 hold ${values?.slice(IMAGE_SIZE)}`);
    }, /gatherU8|index|shape/);
  });

  it('a rejected call leaves no output array registered in the backend', async () => {
    await tf.setBackend('native');
    const backend = nativeBackend();
    const before = backend.numDataIds();
    assert.throws(() => imagesToTensor(IMAGES, Uint32Array.from([COUNT]), [1, ...IMAGE_SHAPE], 1), /out of range/);
    assert.equal(backend.numDataIds(), before, 'the failed call left a data entry in the backend');
  });
});
