/**
 * Conformance helpers for the native kernels: run the same tfjs computation on
 * the stock `cpu` backend (the oracle) and on `native` under every kernel set
 * (ISA) this machine can run, with identical input data, and compare.
 *
 * Test-only: imported by *.test.ts files.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { addon } from '../addon.js';
import { nativeBackendInfo, setIsa } from '../index.js';

// tfjs-backend-cpu prints a "use tfjs-node" banner on first use unless IS_TEST is set.
tf.env().set('IS_TEST', true);

/** Default relative tolerance: |a - b| <= TOLERANCE * max(1, |b|). */
export const TOLERANCE = 1e-4;

export type Rng = () => number;

/** mulberry32: a small, fast, seeded generator of floats in [0, 1). */
export function makeRng(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi] (both inclusive). */
export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/** One element of `items`, chosen by `rng`. */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** A random permutation of 0..n-1. */
export function permutation(rng: Rng, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export type InputDtype = 'float32' | 'int32' | 'bool';

/** One input tensor: its shape, and either explicit values or a range to draw them from. */
export interface InputSpec {
  shape: number[];
  dtype?: InputDtype;
  /** Explicit values (row-major); otherwise uniform in [min, max) (integers for int32, 0/1 for bool). */
  values?: ArrayLike<number>;
  min?: number;
  max?: number;
}

/** An input with its values materialised: created once, used on every backend. */
export interface InputData {
  shape: number[];
  dtype: InputDtype;
  values: Float32Array | Int32Array | Uint8Array;
}

/** Draws the values of every input once, from a generator seeded with `seed`. */
export function makeInputs(seed: number, specs: readonly InputSpec[]): InputData[] {
  const rng = makeRng(seed);
  return specs.map((spec) => {
    const dtype = spec.dtype ?? 'float32';
    const size = sizeOf(spec.shape);
    const min = spec.min ?? -1;
    const max = spec.max ?? 1;
    const values = dtype === 'float32' ? new Float32Array(size) : dtype === 'int32' ? new Int32Array(size) : new Uint8Array(size);
    if (spec.values) {
      assert.equal(spec.values.length, size, `values for shape [${spec.shape}]`);
      for (let i = 0; i < size; i++) values[i] = spec.values[i]!;
    } else {
      for (let i = 0; i < size; i++) {
        const u = rng();
        values[i] = dtype === 'float32' ? min + (max - min) * u : dtype === 'int32' ? Math.floor(min + (max - min + 1) * u) : u < 0.5 ? 0 : 1;
      }
    }
    return { shape: [...spec.shape], dtype, values };
  });
}

/** A tensor holding `input`'s values on the current backend. */
export function toTensor(input: InputData): tf.Tensor {
  return tf.tensor(input.values, input.shape, input.dtype);
}

/** What one run produced, copied out of tfjs. */
export interface Output {
  shape: number[];
  dtype: string;
  values: Float64Array;
}

type OpFn = (...inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;

function collect(result: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap): tf.Tensor[] {
  if (result instanceof tf.Tensor) return [result];
  if (Array.isArray(result)) return result;
  return Object.keys(result).sort().map((k) => result[k]!);
}

/** Runs `fn` on `backend` with fresh tensors of `inputs`; every tensor it makes is disposed. */
export async function runOn(backend: string, fn: OpFn, inputs: readonly InputData[]): Promise<Output[]> {
  await tf.setBackend(backend);
  assert.equal(tf.getBackend(), backend);
  const before = tf.memory().numTensors;
  const tensors = tf.tidy(() => collect(fn(...inputs.map(toTensor))));
  let outputs: Output[];
  try {
    outputs = tensors.map((t) => ({ shape: [...t.shape], dtype: t.dtype, values: Float64Array.from(t.dataSync() as ArrayLike<number>) }));
  } finally {
    tf.dispose(tensors);
  }
  assert.equal(tf.memory().numTensors, before, `${backend}: the computation leaked tensors`);
  return outputs;
}

// ---------------------------------------------------------------------------
// Addon call counting: tells a test whether the native path ran or the kernel
// fell back to the cpu implementation.

const KERNEL_FUNCTIONS = new Set(['isa', 'availableIsas', 'selectIsa', 'numThreads']);
const calls = new Map<string, number>();
let counting = false;

function installCounters(): void {
  if (counting || !addon) return;
  counting = true;
  const target = addon as unknown as Record<string, unknown>;
  for (const name of Object.keys(target)) {
    const fn = target[name];
    if (typeof fn !== 'function' || KERNEL_FUNCTIONS.has(name)) continue;
    target[name] = (...args: unknown[]) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return (fn as (...a: unknown[]) => unknown)(...args);
    };
  }
}

/** Runs `body` and returns how often each addon kernel function was called meanwhile. */
export async function countAddonCalls<T>(body: () => Promise<T> | T): Promise<{ result: T; calls: Map<string, number> }> {
  installCounters();
  calls.clear();
  const result = await body();
  return { result, calls: new Map(calls) };
}

// ---------------------------------------------------------------------------
// ISAs.

/** Kernel sets this CPU can run, fastest first (the first is the default). */
export function isas(): string[] {
  const info = nativeBackendInfo();
  assert.ok(info.available, `native backend unavailable: ${info.error}`);
  assert.ok(info.isas && info.isas.length > 0, 'no ISAs reported');
  return info.isas;
}

/** Runs `body` once per ISA, with that ISA selected; the best one is selected again afterwards. */
export async function forEachIsa(body: (isa: string) => Promise<void> | void): Promise<void> {
  const all = isas();
  try {
    for (const isa of all) {
      assert.ok(setIsa(isa), `setIsa(${isa}) failed`);
      assert.equal(nativeBackendInfo().isa, isa);
      await body(isa);
    }
  } finally {
    setIsa(all[0]!);
  }
}

// ---------------------------------------------------------------------------
// Comparison.

export interface CompareOptions {
  /** Relative tolerance (default 1e-4). */
  tolerance?: number;
  /**
   * 'abs': the error allowed for each element is scaled by the magnitude of the
   * terms summed into it: `fn` is rerun on the cpu backend with the absolute
   * values of the float inputs (for sums, matmuls and convolutions, whose
   * results can be small differences of large terms).
   */
  scale?: 'value' | 'abs';
  /** Addon functions the native run must call (checks that the native path ran, not the fallback). */
  native?: readonly string[];
  /** The native run must call no addon kernel at all (a fallback case). */
  fallback?: boolean;
  /** Only these ISAs (default: all). */
  isas?: readonly string[];
  /** What to run on the native backend when it must differ from the oracle's `fn` (to step around a cpu bug). */
  nativeFn?: OpFn;
}

function indexToLoc(index: number, shape: readonly number[]): number[] {
  const loc = new Array<number>(shape.length).fill(0);
  let rem = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    loc[d] = n > 0 ? rem % n : 0;
    rem = n > 0 ? Math.floor(rem / n) : 0;
  }
  return loc;
}

/** The worst element of `got` against `expected`, and whether every element is within tolerance. */
export function worstMismatch(
  got: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, magnitude?: ArrayLike<number>,
): { ok: boolean; index: number; got: number; expected: number; error: number; allowed: number; ratio: number } {
  let worst = { ok: true, index: -1, got: 0, expected: 0, error: 0, allowed: 0, ratio: 0 };
  for (let i = 0; i < expected.length; i++) {
    const a = got[i]!;
    const b = expected[i]!;
    let ratio: number;
    let error: number;
    let allowed: number;
    if (Number.isNaN(b) || Number.isNaN(a)) {
      const same = Number.isNaN(a) && Number.isNaN(b);
      error = same ? 0 : Infinity;
      allowed = 0;
      ratio = same ? 0 : Infinity;
    } else if (!Number.isFinite(b) || !Number.isFinite(a)) {
      error = a === b ? 0 : Infinity;
      allowed = 0;
      ratio = a === b ? 0 : Infinity;
    } else {
      error = Math.abs(a - b);
      allowed = tolerance * Math.max(1, Math.abs(b), magnitude ? Math.abs(magnitude[i]!) : 0);
      ratio = error / allowed;
    }
    if (ratio > worst.ratio || worst.index < 0) worst = { ok: worst.ok && ratio <= 1, index: i, got: a, expected: b, error, allowed, ratio };
    else if (ratio > 1) worst.ok = false;
  }
  return worst;
}

/** Asserts that `got` matches `expected` (shape, dtype, values); `what` labels the failure. */
export function assertClose(got: Output, expected: Output, what: string, tolerance = TOLERANCE, magnitude?: ArrayLike<number>): void {
  assert.deepEqual(got.shape, expected.shape, `${what}: shape [${got.shape}] != cpu's [${expected.shape}]`);
  assert.equal(got.dtype, expected.dtype, `${what}: dtype ${got.dtype} != cpu's ${expected.dtype}`);
  assert.equal(got.values.length, expected.values.length, `${what}: ${got.values.length} values != cpu's ${expected.values.length}`);
  const w = worstMismatch(got.values, expected.values, tolerance, magnitude);
  if (!w.ok) {
    const loc = indexToLoc(w.index, expected.shape);
    assert.fail(
      `${what}: worst element [${loc}] (flat ${w.index}) of shape [${expected.shape}]: got ${w.got}, expected ${w.expected} ` +
      `(|diff| ${w.error.toExponential(3)} > allowed ${w.allowed.toExponential(3)})`,
    );
  }
}

/**
 * Computes `fn(...inputs)` on the cpu backend, then on the native backend under
 * each ISA, and asserts every output matches. Returns the cpu outputs.
 */
export async function compareWithCpu(label: string, fn: OpFn, inputs: readonly InputData[], options: CompareOptions = {}): Promise<Output[]> {
  const tolerance = options.tolerance ?? TOLERANCE;
  const expected = await runOn('cpu', fn, inputs);
  let magnitudes: (Float64Array | undefined)[] = [];
  if (options.scale === 'abs') {
    const absInputs = inputs.map((x) => (x.dtype === 'float32' ? { ...x, values: x.values.map(Math.abs) } : x));
    magnitudes = (await runOn('cpu', fn, absInputs)).map((o) => o.values);
  }
  const only = options.isas;
  try {
    await forEachIsa(async (isa) => {
      if (only && !only.includes(isa)) return;
      const { result: got, calls: used } = await countAddonCalls(() => runOn('native', options.nativeFn ?? fn, inputs));
      assert.equal(got.length, expected.length, `${label} [${isa}]: ${got.length} outputs, cpu gave ${expected.length}`);
      for (let i = 0; i < got.length; i++) {
        const what = `${label} [${isa}]${got.length > 1 ? ` output ${i}` : ''}`;
        assertClose(got[i]!, expected[i]!, what, tolerance, magnitudes[i]);
      }
      for (const name of options.native ?? []) {
        assert.ok((used.get(name) ?? 0) > 0, `${label} [${isa}]: addon.${name} was not called (the kernel fell back to cpu); calls: ${[...used.keys()]}`);
      }
      if (options.fallback) {
        assert.equal(used.size, 0, `${label} [${isa}]: expected a cpu fallback, but the addon ran ${[...used.keys()]}`);
      }
    });
  } finally {
    await tf.setBackend('native');
  }
  return expected;
}

/** compareWithCpu with inputs drawn from `specs` with `seed`. */
export function check(label: string, seed: number, specs: readonly InputSpec[], fn: OpFn, options?: CompareOptions): Promise<Output[]> {
  return compareWithCpu(`${label} (seed ${seed})`, fn, makeInputs(seed, specs), options);
}
