import { backend_util, util } from '@tensorflow/tfjs-core';
import type { ArgMaxAttrs, SoftmaxAttrs, SumAttrs, TensorInfo, TransposeAttrs } from '@tensorflow/tfjs-core';
import { allFloat32, f32, sizeOf, type NativeKernel } from './kernel.js';

/**
 * The reduction as [outer][red][inner] when the reduced axes are adjacent
 * (the common cases: bias gradients over N,H,W; losses over the last axis);
 * undefined otherwise, and the cpu kernel (which transposes) takes over.
 */
function reductionView(shape: number[], axes: number[]): { outer: number; red: number; inner: number } | undefined {
  const sorted = [...axes].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]! + 1) return undefined;
  const first = sorted[0] ?? 0;
  const last = sorted.at(-1) ?? -1;
  return {
    outer: sizeOf(shape.slice(0, first)),
    red: sorted.length === 0 ? 1 : sizeOf(shape.slice(first, last + 1)),
    inner: sizeOf(shape.slice(last + 1)),
  };
}

function outputShape(shape: number[], axes: number[], keepDims: boolean): number[] {
  if (keepDims) return backend_util.expandShapeToKeepDim(backend_util.computeOutAndReduceShapes(shape, axes)[0], axes);
  return backend_util.computeOutAndReduceShapes(shape, axes)[0];
}

/** Sum (kind 0), Max (1), Min (2) and Mean. */
export function reduceKernel(kind: 0 | 1 | 2, mean = false): NativeKernel {
  return ({ args, backend, addon, fallback }) => {
    const { x } = args.inputs as { x: TensorInfo };
    // Max names its axes `reductionIndices`; Sum, Min and Mean name them `axis`.
    const attrs = args.attrs as unknown as SumAttrs & { reductionIndices?: number | number[] };
    const axis = attrs.reductionIndices ?? attrs.axis;
    const keepDims = attrs.keepDims;
    if (!allFloat32(x) || x.shape.length === 0) return fallback();
    const axes = util.parseAxisParam(axis, x.shape);
    const view = reductionView(x.shape, axes);
    if (!view || (kind !== 0 && view.red === 0)) return fallback();
    const out = backend.makeOutputFloat32(outputShape(x.shape, axes, keepDims));
    addon.reduce(kind, f32(backend, x), out.values, view.outer, view.red, view.inner);
    if (mean) {
      const scale = 1 / view.red;
      for (let i = 0; i < out.values.length; i++) out.values[i]! *= scale;
    }
    return out.info;
  };
}

export const argMax: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { axis } = args.attrs as unknown as ArgMaxAttrs;
  if (!allFloat32(x) || x.shape.length === 0) return fallback();
  const axes = util.parseAxisParam(axis, x.shape);
  if (axes.length !== 1) return fallback();
  const view = reductionView(x.shape, axes)!;
  if (view.red === 0) return fallback();
  const shape = outputShape(x.shape, axes, false);
  const values = new Int32Array(sizeOf(shape));
  addon.argMax(f32(backend, x), values, view.outer, view.red, view.inner);
  return backend.makeTensorInfo(shape, 'int32', values);
};

export const softmax: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { logits } = args.inputs as { logits: TensorInfo };
  const { dim } = args.attrs as unknown as SoftmaxAttrs;
  const rank = logits.shape.length;
  if (!allFloat32(logits) || rank === 0 || (dim !== -1 && dim !== rank - 1)) return fallback();
  const cols = logits.shape[rank - 1]!;
  if (cols === 0) return fallback();
  const out = backend.makeOutputFloat32(logits.shape);
  addon.softmax(f32(backend, logits), out.values, sizeOf(logits.shape) / cols, cols);
  return out.info;
};

export const transpose: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { perm } = args.attrs as unknown as TransposeAttrs;
  if (!allFloat32(x) || x.shape.length === 0 || x.shape.length > 6) return fallback();
  const out = backend.makeOutputFloat32(perm.map((p) => x.shape[p]!));
  if (out.values.length > 0) addon.transpose(f32(backend, x), out.values, Int32Array.from(x.shape), Int32Array.from(perm));
  return out.info;
};
