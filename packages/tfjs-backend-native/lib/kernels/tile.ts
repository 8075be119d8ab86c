import type { TensorInfo, TileAttrs } from '@tensorflow/tfjs-core';
import { f32, type NativeKernel } from './kernel.js';

/**
 * Tile in TypeScript, by block copies: each dimension's block is written once
 * and then repeated with copyWithin, doubling the copied span each time. The
 * cpu kernel computes an index per element; batch norm's gradient tiles a
 * per-channel vector to a whole activation every step, where that took
 * longer than the convolutions. A memory-bound copy gains nothing from C++.
 */
export const tile: NativeKernel = ({ args, backend, fallback }) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { reps } = args.attrs as unknown as TileAttrs;
  if (x.dtype !== 'float32' || reps.length !== x.shape.length || x.shape.length === 0) return fallback();
  const shape = x.shape.map((d, i) => d * reps[i]!);
  const out = backend.makeOutputFloat32(shape);
  if (out.values.length > 0) tileInto(f32(backend, x), x.shape, reps, out.values);
  return out.info;
};

/** Writes `input` (shape `inShape`) tiled `reps` times into `output`. */
export function tileInto(input: Float32Array, inShape: readonly number[], reps: readonly number[], output: Float32Array): void {
  const rank = inShape.length;
  const outShape = inShape.map((d, i) => d * reps[i]!);
  const inStride = new Array<number>(rank);
  const outStride = new Array<number>(rank);
  for (let d = rank - 1, a = 1, b = 1; d >= 0; d--) {
    inStride[d] = a;
    outStride[d] = b;
    a *= inShape[d]!;
    b *= outShape[d]!;
  }
  const fill = (d: number, inOffset: number, outOffset: number): void => {
    const n = inShape[d]!;
    if (d === rank - 1) output.set(input.subarray(inOffset, inOffset + n), outOffset);
    else for (let i = 0; i < n; i++) fill(d + 1, inOffset + i * inStride[d]!, outOffset + i * outStride[d]!);
    repeat(output, outOffset, n * outStride[d]!, reps[d]!);
  };
  fill(0, 0, 0);
}

/** Repeats output[start, start + block) `times` times in place (the first copy is already there). */
function repeat(output: Float32Array, start: number, block: number, times: number): void {
  const total = block * times;
  for (let done = block; done < total; ) {
    const span = Math.min(done, total - done);
    output.copyWithin(start + done, start, start + span);
    done += span;
  }
}
