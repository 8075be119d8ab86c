import { backend_util } from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { allFloat32, f32, sizeOf, type NativeKernel } from './kernel.js';

const MAX_RANK = 6;

/** Binary op codes (src/kernels.h `BinaryOp`) by tfjs kernel name. */
export const BINARY_OPS: Record<string, number> = {
  Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, Pow: 6, SquaredDifference: 7,
};
const OP_RELU_GRAD = 8;
const OP_ELU_GRAD = 9;

/**
 * Strides of `shape` read as `outShape` (right-aligned, numpy broadcasting):
 * 0 along dimensions that are broadcast.
 */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = new Array<number>(outShape.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1, o = outShape.length - 1; i >= 0; i--, o--) {
    strides[o] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i]!;
  }
  return strides;
}

/** Merges neighbouring dimensions that both operands walk the same way, so the inner loop is long. */
function mergeDims(shape: number[], sa: number[], sb: number[]): [number[], number[], number[]] {
  const s: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = s.length - 1;
    if (last >= 0 && a[last] === sa[d]! * shape[d]! && b[last] === sb[d]! * shape[d]!) {
      s[last]! *= shape[d]!;
      a[last] = sa[d]!;
      b[last] = sb[d]!;
    } else {
      s.push(shape[d]!);
      a.push(sa[d]!);
      b.push(sb[d]!);
    }
  }
  if (s.length === 0) return [[1], [0], [0]];
  return [s, a, b];
}

/** Runs binary op `op` on two float32 tensors with broadcasting; undefined when unsupported. */
export function runBinary(call: Parameters<NativeKernel>[0], op: number, a: TensorInfo, b: TensorInfo): TensorInfo | undefined {
  const { backend, addon } = call;
  if (!allFloat32(a, b)) return undefined;
  const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  if (outShape.length > MAX_RANK) return undefined;
  const out = backend.makeOutputFloat32(outShape);
  if (out.values.length === 0) return out.info;
  const [shape, sa, sb] = mergeDims(outShape, broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape));
  if (shape.length > MAX_RANK) return undefined;
  addon.binary(op, f32(backend, a), f32(backend, b), out.values, Int32Array.from(shape), Int32Array.from(sa), Int32Array.from(sb));
  return out.info;
}

export function binaryKernel(op: number): NativeKernel {
  return (call) => {
    const { a, b } = call.args.inputs as { a: TensorInfo; b: TensorInfo };
    return runBinary(call, op, a, b) ?? call.fallback();
  };
}

/** tfjs's EluGrad {dy, y}. */
export const eluGrad: NativeKernel = (call) => {
  const { dy, y } = call.args.inputs as { dy: TensorInfo; y: TensorInfo };
  return runBinary(call, OP_ELU_GRAD, dy, y) ?? call.fallback();
};

/** dy where x > 0, else 0: relu's gradient in one pass (see gradients.ts). */
export const reluGrad: NativeKernel = (call) => {
  const { dy, x } = call.args.inputs as { dy: TensorInfo; x: TensorInfo };
  return runBinary(call, OP_RELU_GRAD, dy, x) ?? call.fallback();
};

/** Unary op codes (src/kernels.h `UnaryOp`) and how each reads its attributes. */
const UNARY_OPS: Record<string, { op: number; params?: (attrs: Record<string, unknown>) => [number, number] }> = {
  Abs: { op: 0 },
  Neg: { op: 1 },
  Relu: { op: 2 },
  Relu6: { op: 3 },
  Step: { op: 4, params: (a) => [Number(a.alpha ?? 0), 0] },
  Square: { op: 5 },
  Sqrt: { op: 6 },
  Rsqrt: { op: 7 },
  Exp: { op: 8 },
  Log: { op: 9 },
  Sigmoid: { op: 10 },
  Tanh: { op: 11 },
  LeakyRelu: { op: 12, params: (a) => [Number(a.alpha ?? 0.2), 0] },
  Elu: { op: 13 },
  Reciprocal: { op: 14 },
  Floor: { op: 15 },
  Ceil: { op: 16 },
  Round: { op: 17 },
  Sign: { op: 18 },
  Log1p: { op: 19 },
  Expm1: { op: 20 },
  Softplus: { op: 21 },
  Sin: { op: 22 },
  Cos: { op: 23 },
  ClipByValue: { op: 24, params: (a) => [Number(a.clipValueMin), Number(a.clipValueMax)] },
};

export const UNARY_KERNEL_NAMES = Object.keys(UNARY_OPS);

export function unaryKernel(name: string): NativeKernel {
  const spec = UNARY_OPS[name];
  if (!spec) throw new Error(`no native unary kernel ${name}`);
  return ({ args, backend, addon, fallback }) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (!allFloat32(x)) return fallback();
    const [p0, p1] = spec.params ? spec.params((args.attrs ?? {}) as Record<string, unknown>) : [0, 0];
    const out = backend.makeOutputFloat32(x.shape);
    if (sizeOf(x.shape) > 0) addon.unary(spec.op, f32(backend, x), out.values, p0, p1);
    return out.info;
  };
}
