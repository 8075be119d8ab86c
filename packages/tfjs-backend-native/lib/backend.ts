import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { TensorInfo, backend_util } from '@tensorflow/tfjs-core';

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
 * pooled once user code may hold it (dataSync/data return the backend's own
 * array), so reuse can never change values a user kept.
 */
export class NativeBackend extends MathBackendCPU {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly owned = new WeakSet<Float32Array>();
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
    this.owned.add(array);
    return array;
  }

  /** A tensor of `shape` whose values the caller fills completely. */
  makeOutputFloat32(shape: number[]): { info: TensorInfo; values: Float32Array } {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = this.allocFloat32(size);
    return { info: this.makeTensorInfo(shape, 'float32', values), values };
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (released && values instanceof Float32Array && this.owned.has(values) && !this.data.has(dataId)) {
      this.owned.delete(values);
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
    if (values instanceof Float32Array) this.owned.delete(values);
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
