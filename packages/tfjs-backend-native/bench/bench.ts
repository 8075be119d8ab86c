/**
 * Kernel benchmarks of the native backend: `npm run bench` (here or at the
 * repository root). Prints one JSON line per figure, then a table. `--quick`
 * runs fewer repetitions. Figures are medians. The machine's FMA peak is
 * measured in the same run (a shared VM's speed drifts), and every GFLOP/s
 * figure also says what fraction of that peak it is.
 */
import { addon } from '../lib/addon.js';
import { nativeBackendInfo } from '../lib/index.js';

const quick = process.argv.includes('--quick');
const info = nativeBackendInfo();
if (!addon || !info.available) {
  console.error(`native backend unavailable: ${info.error}`);
  process.exit(1);
}
const native = addon;

interface Figure {
  name: string;
  value: number;
  unit: string;
  note?: string;
}
const figures: Figure[] = [];
let peak = 0;
function report(f: Figure): void {
  if (f.unit === 'GFLOP/s' && peak > 0) f.note = `${((100 * f.value) / peak).toFixed(0)}% of peak; ${f.note ?? ''}`;
  figures.push(f);
  console.log(JSON.stringify({ bench: f.name, value: Number(f.value.toPrecision(4)), unit: f.unit, isa: info.isa, threads: info.threads, ...(f.note && { note: f.note }) }));
}

/** Median seconds per call of fn over `reps` calls (after warm-up), spending at most ~budget seconds. */
function time(fn: () => void, reps = quick ? 5 : 20): number {
  fn();
  const samples: number[] = [];
  const start = performance.now();
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    samples.push((performance.now() - t) / 1000);
    if (performance.now() - start > (quick ? 1500 : 5000) && samples.length >= 3) break;
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() - 0.5;
  return a;
}

// The FMA peak of all pool threads (independent vector FMAs, no memory traffic). A shared VM's speed
// drifts, so this is the best of several short runs, taken again at the end; the larger is used.
function measurePeak(): number {
  const iters = 1e7;
  const flops = native.fmaPeak(1) * iters;
  let best = 0;
  for (let i = 0; i < (quick ? 3 : 8); i++) {
    const t = performance.now();
    native.fmaPeak(iters);
    best = Math.max(best, flops / ((performance.now() - t) / 1000) / 1e9);
  }
  return best;
}
peak = measurePeak();

// SGEMM, row-major C[m x n] = A[m x k] B[k x n].
function gemm(name: string, m: number, n: number, k: number): void {
  const a = random(m * k);
  const b = random(k * n);
  const c = new Float32Array(m * n);
  const dims = Int32Array.from([m, n, k, k, 1, n, 1, n, 1, 0, 0, 0]);
  const s = time(() => native.gemm(a, b, c, null, dims, 0, 0, false));
  report({ name, value: (2 * m * n * k) / s / 1e9, unit: 'GFLOP/s', note: `${m}x${n}x${k}, ${(s * 1e3).toFixed(3)} ms` });
}

for (const size of [256, 512, 1024, 2048]) gemm(`sgemm ${size}^3`, size, size, size);
// The seed CNN's convolutions at batch 64, as the GEMMs they amount to.
gemm('sgemm conv1 fwd shape', 57600, 32, 27);
gemm('sgemm conv2 fwd shape', 10816, 64, 288);
gemm('sgemm dense fwd shape', 64, 10, 2304);

// Convolutions of the seed CNN at batch 64: 32x32x3 → 30x30x32 and 15x15x32 → 13x13x64, 3x3 valid.
for (const [name, n, h, w, c, k] of [['conv1', 64, 32, 32, 3, 32], ['conv2', 64, 15, 15, 32, 64]] as const) {
  const oh = h - 2, ow = w - 2;
  const geom = Int32Array.from([n, h, w, c, oh, ow, k, 3, 3, 1, 1, 1, 1, 0, 0]);
  const x = random(n * h * w * c);
  const filter = random(9 * c * k);
  const bias = random(k);
  const y = new Float32Array(n * oh * ow * k);
  const dy = random(y.length);
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(filter.length);
  const flops = 2 * n * oh * ow * 9 * c * k;
  const cases: [string, () => void][] = [
    ['forward (bias+relu fused)', () => native.conv2d(x, filter, bias, y, geom, 1, 0)],
    ['backward-data', () => native.conv2dBackpropInput(dy, filter, dx, geom)],
    ['backward-filter', () => native.conv2dBackpropFilter(x, dy, dw, geom)],
  ];
  for (const [what, fn] of cases) {
    const s = time(fn);
    report({ name: `${name} ${what} batch 64`, value: flops / s / 1e9, unit: 'GFLOP/s', note: `${(s * 1e3).toFixed(3)} ms` });
  }
}

// Memory-bound kernels on a conv1-sized activation (64x30x30x32 floats, 7.4 MB).
{
  const size = 64 * 30 * 30 * 32;
  const a = random(size);
  const b = random(size);
  const out = new Float32Array(size);
  const shape = Int32Array.from([size]);
  const ones = Int32Array.from([1]);
  let s = time(() => native.binary(0, a, b, out, shape, ones, ones));
  report({ name: 'add 7.4 MB', value: (3 * size * 4) / s / 1e9, unit: 'GB/s', note: `${(s * 1e3).toFixed(3)} ms` });
  s = time(() => native.unary(2, a, out, 0, 0));
  report({ name: 'relu 7.4 MB', value: (2 * size * 4) / s / 1e9, unit: 'GB/s', note: `${(s * 1e3).toFixed(3)} ms` });
  const pooled = new Float32Array(64 * 15 * 15 * 32);
  const pg = Int32Array.from([64, 30, 30, 32, 15, 15, 2, 2, 2, 2, 1, 1, 0, 0]);
  s = time(() => native.maxPool(a, pooled, pg));
  report({ name: 'maxPool 2x2 on conv1 output', value: (size * 4 + pooled.length * 4) / s / 1e9, unit: 'GB/s', note: `${(s * 1e3).toFixed(3)} ms` });
  const dyp = random(pooled.length);
  s = time(() => native.maxPoolGrad(a, dyp, out, pg));
  report({ name: 'maxPoolGrad 2x2 on conv1 output', value: (2 * size * 4 + pooled.length * 4) / s / 1e9, unit: 'GB/s', note: `${(s * 1e3).toFixed(3)} ms` });
}

peak = Math.max(peak, measurePeak());
report({ name: 'FMA peak (all threads, best of runs)', value: peak, unit: 'GFLOP/s peak', note: `${info.threads} threads, ${info.isa}` });
for (const f of figures) {
  if (f.unit === 'GFLOP/s') f.note = f.note?.replace(/^\d+% of peak/, `${((100 * f.value) / peak).toFixed(0)}% of peak`);
}

console.log(`\nnative backend: ${info.isa} (${info.isas?.join(', ')}), ${info.threads} threads`);
for (const f of figures) console.log(`${f.name.padEnd(46)} ${f.value.toFixed(1).padStart(9)} ${f.unit.padEnd(9)} ${f.note ?? ''}`);
