import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The C++ addon's functions (src/addon.cc). Outputs are always passed in, never returned. */
export interface NativeAddon {
  isa(): string;
  availableIsas(): string[];
  selectIsa(name: string): boolean;
  numThreads(): number;
  gemm(a: Float32Array, b: Float32Array, c: Float32Array, bias: Float32Array | null, dims: Int32Array, act: number, alpha: number, accumulate: boolean): void;
  conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, geom: Int32Array, act: number, alpha: number): void;
  /** With y: dy is the gradient of act(conv + bias), multiplied by act'(y) on the fly. */
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, geom: Int32Array, y?: Float32Array | null, act?: number, alpha?: number): void;
  /** With y: as above; with dbias: also the bias gradient. */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geom: Int32Array, y?: Float32Array | null, act?: number, alpha?: number, dbias?: Float32Array | null): void;
  depthwiseConv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, geom: Int32Array, act: number, alpha: number): void;
  depthwiseConv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, geom: Int32Array): void;
  depthwiseConv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geom: Int32Array): void;
  batchNorm(x: Float32Array, mean: Float32Array, variance: Float32Array, offset: Float32Array | null, scale: Float32Array | null, eps: number, y: Float32Array, rows: number, c: number): void;
  pad(x: Float32Array, y: Float32Array, shape: Int32Array, before: Int32Array, after: Int32Array, value: number): void;
  maxPool(x: Float32Array, y: Float32Array, geom: Int32Array): void;
  avgPool(x: Float32Array, y: Float32Array, geom: Int32Array): void;
  /** reluMask: x is a relu output; also apply that relu's gradient (drop windows whose max is not positive). */
  maxPoolGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, geom: Int32Array, reluMask?: boolean): void;
  avgPoolGrad(dy: Float32Array, dx: Float32Array, geom: Int32Array): void;
  unary(op: number, x: Float32Array, y: Float32Array, p0: number, p1: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, shape: Int32Array, aStrides: Int32Array, bStrides: Int32Array): void;
  reduce(kind: number, x: Float32Array, y: Float32Array, outer: number, red: number, inner: number): void;
  argMax(x: Float32Array, y: Int32Array, outer: number, red: number, inner: number): void;
  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void;
  transpose(x: Float32Array, y: Float32Array, shape: Int32Array, perm: Int32Array): void;
  /** params: lr, beta1, beta2, c1 = 1 - beta1, c2 = 1 - beta2, epsilon, bias1 = 1 - beta1^t, bias2 = 1 - beta2^t. */
  adam(w: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, wOut: Float32Array, mOut: Float32Array, vOut: Float32Array, params: Float64Array): void;
  /** Independent FMAs on every pool thread; returns the FLOPs done (benchmarks time it). */
  fmaPeak(iters: number): number;
  gatherU8(src: Uint8Array, index: Uint32Array, size: number, scale: number, dst: Float32Array): void;
  /** Per channel of [rows, c]: s1 = Σ a, s2 = Σ (a − ca)(b − cb) (b null: b = a, cb = ca; a null centre is 0). */
  bnSums(a: Float32Array, ca: Float32Array | null, b: Float32Array | null, cb: Float32Array | null, s1: Float32Array, s2: Float32Array, rows: number, c: number): void;
  /** out = p·dy + q·x + r per channel of [rows, c]. */
  bnAffine2(dy: Float32Array, x: Float32Array, p: Float32Array, q: Float32Array, r: Float32Array, out: Float32Array, rows: number, c: number): void;
  actGrad(act: number, alpha: number, dy: Float32Array, y: Float32Array, dx: Float32Array, dbias: Float32Array | null, rows: number, c: number): void;
}

const ADDON_PATH = fileURLToPath(new URL('../build/Release/dlopt_native.node', import.meta.url));
const FAILED_PATH = fileURLToPath(new URL('../build/BUILD_FAILED.txt', import.meta.url));

function load(): { addon?: NativeAddon; error?: string } {
  if (process.env.DLOPT_NATIVE_DISABLE === '1') return { error: 'DLOPT_NATIVE_DISABLE=1 is set' };
  if (!existsSync(ADDON_PATH)) {
    const why = existsSync(FAILED_PATH) ? readFileSync(FAILED_PATH, 'utf8').split('\n')[0] : 'it was never built';
    return { error: `the native addon is not built (${why}); rebuild it with: npm rebuild @dlopt/tfjs-backend-native` };
  }
  try {
    return { addon: createRequire(import.meta.url)(ADDON_PATH) as NativeAddon };
  } catch (error) {
    return { error: `the native addon at ${ADDON_PATH} failed to load: ${(error as Error).message}` };
  }
}

const loaded = load();

/** The addon, or undefined when it could not be built or loaded (see `addonError`). */
export const addon: NativeAddon | undefined = loaded.addon;
/** Why the addon is unavailable. */
export const addonError: string | undefined = loaded.error;
