import { backend_util, slice_util, type SliceAttrs, type SplitVAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeBackend } from '../backend.js';
import { f32, type NativeKernel } from './kernel.js';

/**
 * Slice and SplitV by contiguous-run copies. The cpu kernels handle a slice
 * that is not one contiguous block (any cut across an inner axis, e.g. the
 * four gates tfjs's LSTM splits off its matMul every time step) element by
 * element through TensorBuffer index arithmetic, about 5 µs per element;
 * SplitV calls that slice once per piece. A contiguous slice stays the cpu
 * kernel's (a view, no copy).
 */
export const slice: NativeKernel = ({ args, backend, fallback }) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { begin, size } = args.attrs as unknown as SliceAttrs;
  if (x.dtype !== 'float32' || x.shape.length === 0) return fallback();
  const [b, s] = slice_util.parseSliceParams(x as never, begin, size) as [number[], number[]];
  slice_util.assertParamsValid(x as never, b, s);
  if (slice_util.isSliceContinous(x.shape, b, s)) return fallback();
  return copySlice(backend, x, b, s);
};

export const splitV: NativeKernel = ({ args, backend, fallback }) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { numOrSizeSplits, axis } = args.attrs as unknown as SplitVAttrs;
  if (x.dtype !== 'float32' || x.shape.length === 0) return fallback();
  const $axis = axis < 0 ? axis + x.shape.length : axis;
  const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, $axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((n) => {
    const size = [...x.shape];
    size[$axis] = n;
    const piece = copySlice(backend, x, [...begin], size);
    begin[$axis]! += n;
    return piece;
  });
};

function copySlice(backend: NativeBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutputFloat32(size);
  if (out.values.length > 0) sliceInto(f32(backend, x), x.shape, begin, size, out.values);
  return out.info;
}

/** Copies the block [begin, begin + size) of `input` (shape `shape`) into `output`, one innermost run at a time. */
export function sliceInto(input: Float32Array, shape: readonly number[], begin: readonly number[], size: readonly number[], output: Float32Array): void {
  const rank = shape.length;
  // Merge trailing axes taken whole into the run: they are contiguous in both.
  let inner = rank - 1;
  let run = size[inner]!;
  while (inner > 0 && size[inner] === shape[inner] && begin[inner] === 0) {
    inner--;
    run *= size[inner]!;
  }
  const strides = new Array<number>(rank);
  for (let d = rank - 1, a = 1; d >= 0; d--) {
    strides[d] = a;
    a *= shape[d]!;
  }
  const index = new Array<number>(inner).fill(0);
  const runs = output.length / run;
  for (let r = 0; r < runs; r++) {
    let offset = begin[inner]! * strides[inner]!;
    for (let d = 0; d < inner; d++) offset += (begin[d]! + index[d]!) * strides[d]!;
    output.set(input.subarray(offset, offset + run), r * run);
    for (let d = inner - 1; d >= 0; d--) {
      if (++index[d]! < size[d]!) break;
      index[d] = 0;
    }
  }
}
