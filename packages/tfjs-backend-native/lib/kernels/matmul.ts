import { backend_util } from '@tensorflow/tfjs-core';
import type { BatchMatMulAttrs, _FusedMatMulAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { ACTIVATIONS, allFloat32, f32, isPerColumn, sizeOf, type NativeKernel } from './kernel.js';

/**
 * BatchMatMul and _FusedMatMul (bias + activation in the GEMM epilogue).
 * Batch dimensions must match or one side must have a single matrix
 * (broadcast); other broadcasting falls back to the cpu kernel.
 */
export const batchMatMul: NativeKernel = ({ args, backend, addon, fallback }) => {
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs as unknown as _FusedMatMulAttrs & BatchMatMulAttrs;
  const act = ACTIVATIONS[attrs.activation ?? 'linear'];
  if (!a || !b || act === undefined || preluActivationWeights || !allFloat32(a, b, bias)) return fallback();
  if (a.shape.length < 2 || b.shape.length < 2) return fallback();
  const ta = attrs.transposeA, tb = attrs.transposeB;
  const aRows = a.shape.at(-2)!, aCols = a.shape.at(-1)!;
  const bRows = b.shape.at(-2)!, bCols = b.shape.at(-1)!;
  const m = ta ? aCols : aRows;
  const k = ta ? aRows : aCols;
  const n = tb ? bRows : bCols;
  if ((tb ? bCols : bRows) !== k) return fallback(); // let tfjs report the mismatch
  const aBatchShape = a.shape.slice(0, -2);
  const bBatchShape = b.shape.slice(0, -2);
  const aBatch = sizeOf(aBatchShape);
  const bBatch = sizeOf(bBatchShape);
  // Native batching covers equal batch shapes and one side being a single matrix.
  if (!(aBatchShape.join() === bBatchShape.join() || aBatch === 1 || bBatch === 1)) return fallback();
  const batchShape = backend_util.assertAndGetBroadcastShape(aBatchShape, bBatchShape);
  if (bias && !isPerColumn(bias.shape, n)) return fallback();
  const batch = Math.max(aBatch, bBatch);
  const out = backend.makeOutputFloat32([...batchShape, m, n]);
  const dims = Int32Array.from([
    m, n, k,
    ta ? 1 : aCols, ta ? aCols : 1,
    tb ? 1 : bCols, tb ? bCols : 1,
    n,
    batch, aBatch === 1 ? 0 : m * k, bBatch === 1 ? 0 : k * n, m * n,
  ]);
  addon.gemm(f32(backend, a), f32(backend, b), out.values, bias ? f32(backend, bias) : null, dims, act, attrs.leakyreluAlpha ?? 0.2, false);
  return out.info;
};
