import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { DataType, TensorInfo, backend_util } from '@tensorflow/tfjs-core';

type DataId = object;

/** Bytes of released arrays the pool keeps for reuse, at most. */
const POOL_LIMIT_BYTES = 512 * 1024 * 1024;

/**
 * tfjs's cpu backend with native kernels (registered separately) and a pool
 * of output arrays: a training step releases and re-creates the same tensor
 * sizes every step, and a fresh Float32Array costs a zero-fill and page
 * faults (several times the cost of reusing one).
 *
 * Only arrays this backend allocated are pooled, and an array stops being
 * pooled as soon as anything else may hold it or a view of it: user code
 * (dataSync/data return the backend's own array) or another tensor (tfjs's
 * Slice returns a subarray of its input). So reuse never changes values
 * anyone can still see.
 */
export class NativeBackend extends MathBackendCPU {
  private readonly free = new Map<number, Float32Array[]>();
  /** Buffers of arrays allocated here that nothing else references. */
  private readonly owned = new WeakSet<ArrayBufferLike>();
  /** The array makeOutputFloat32 is registering (its own write is not sharing). */
  private claiming: Float32Array | undefined;
  private pooledBytes = 0;

  /** A float32 array of `size` elements for a kernel output: recycled when possible, contents undefined. */
  allocFloat32(size: number): Float32Array {
    const list = this.free.get(size);
    const reused = list?.pop();
    let array: Float32Array;
    if (reused) {
      this.pooledBytes -= reused.byteLength;
      array = reused;
    } else {
      array = new Float32Array(size);
    }
    this.owned.add(array.buffer);
    return array;
  }

  /** A tensor of `shape` whose values the caller fills completely. */
  makeOutputFloat32(shape: number[]): { info: TensorInfo; values: Float32Array } {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = this.allocFloat32(size);
    this.claiming = values;
    try {
      return { info: this.makeTensorInfo(shape, 'float32', values), values };
    } finally {
      this.claiming = undefined;
    }
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    // Any other tensor built on one of our arrays, or a view of it, shares it: never recycle that array.
    if (values !== this.claiming && ArrayBuffer.isView(values)) this.owned.delete(values.buffer);
    return super.write(values, shape, dtype);
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (released && values instanceof Float32Array && this.owned.has(values.buffer) && !this.data.has(dataId)) {
      this.owned.delete(values.buffer);
      if (this.pooledBytes + values.byteLength <= POOL_LIMIT_BYTES) {
        let list = this.free.get(values.length);
        if (!list) this.free.set(values.length, (list = []));
        list.push(values);
        this.pooledBytes += values.byteLength;
      }
    }
    return released;
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const values = super.readSync(dataId);
    // The caller may keep this array: it must never be recycled.
    if (ArrayBuffer.isView(values)) this.owned.delete(values.buffer);
    return values;
  }

  /** Drops the pooled arrays (they are garbage-collected). */
  releasePool(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }

  override dispose(): void {
    this.releasePool();
    super.dispose();
  }
}
