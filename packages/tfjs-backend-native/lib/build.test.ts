import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { addon } from './addon.js';
import { nativeBackendInfo, setIsa } from './index.js';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const ADDON_PATH = join(PACKAGE_DIR, 'build', 'Release', 'dlopt_native.node');
const INDEX_URL = new URL('./index.ts', import.meta.url).href;

// ---------------------------------------------------------------------------
// (a) ISA audit of the built addon.
//
// The addon is loaded on any x86-64 CPU. Only the kernels compiled with
// -mavx512* / -mavx2 (src/isa_avx512.cc, src/isa_avx2.cc, each wrapping the
// kernels in its own namespace) may contain AVX instructions, because
// dispatch.cc calls into them only after checking that the CPU (and OS)
// support them. An AVX instruction anywhere else (the N-API glue, the thread
// pool, dispatch itself, or an inline function / template from a header that
// the linker happened to take from an ISA object) would run unconditionally
// and kill the process with SIGILL on a CPU without AVX-512 or AVX2.

interface Fn {
  name: string;
  instructions: string[];
}

function disassemble(): Fn[] | string {
  const r = spawnSync('objdump', ['-d', '--no-show-raw-insn', '-C', ADDON_PATH], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) return `objdump is not available (${r.error.message})`;
  if (r.status !== 0) return `objdump failed: ${r.stderr}`;
  const fns: Fn[] = [];
  let current: Fn | undefined;
  for (const line of r.stdout.split('\n')) {
    const header = /^[0-9a-f]+ <(.*)>:$/.exec(line);
    if (header) {
      current = { name: header[1]!, instructions: [] };
      fns.push(current);
      continue;
    }
    const insn = /^\s+[0-9a-f]+:\s+(.*)$/.exec(line);
    if (insn && current) current.instructions.push(insn[1]!.replace(/\s+#.*$/, '').trim());
  }
  return fns;
}

/** The qualified name of a demangled function, without return type, template arguments or parameters. */
function qualifiedName(demangled: string): string {
  let out = '';
  let depth = 0;
  for (const ch of demangled.replace(/ \[clone [^\]]*\]/g, '')) {
    if (ch === '<' || ch === '(') depth++;
    else if (ch === '>' || ch === ')') depth--;
    else if (depth === 0) out += ch;
  }
  // "void dlopt::isa_avx2::foo" → "dlopt::isa_avx2::foo"; "operator new" kept as is.
  const parts = out.trim().split(' ');
  return parts.length > 1 && !out.includes('operator') ? parts.at(-1)! : out.trim();
}

const MNEMONIC = (insn: string): string => insn.split(/\s+/)[0] ?? '';
/** Legacy (non-VEX) instructions whose mnemonic starts with 'v'. */
const LEGACY_V = /^(verr|verw|vmcall|vmlaunch|vmresume|vmxoff|vmxon|vmread|vmwrite|vmptrld|vmptrst|vmclear|vmfunc|vmrun|vmload|vmsave|vmmcall)$/;

/** VEX- or EVEX-encoded: any AVX instruction, whatever the register width (vmovq %rcx,%xmm1 needs AVX too). */
function isAvx(insn: string): boolean {
  const m = MNEMONIC(insn);
  return (m.startsWith('v') && !LEGACY_V.test(m)) || /%[yz]mm\d|%k[0-7]\b/.test(insn) || /^(kmov|kand|kor|kxor|knot|kshift|kunpck|kortest|ktest|kadd)/.test(m);
}

/** AVX-512 only (EVEX): zmm or mask registers, registers 16-31, embedded broadcast/masking, or AVX-512-only mnemonics. */
function isAvx512(insn: string): boolean {
  const m = MNEMONIC(insn);
  return /%zmm\d|%k[0-7]\b|%[xy]mm(1[6-9]|2\d|3[01])\b|\{%k|\{1to\d+\}|\{z\}/.test(insn) ||
    /^(k[a-z]+|vpternlog|vpermt2|vpermi2|vrndscale|vscalef|vgetexp|vgetmant|vrange|vfixupimm|vreduce|valign[dq]|vcompress|vexpand|vpcompress|vpexpand|vpmov[a-z]*2m|vpmovm2|vcvtt?ps2u|vcvtt?pd2u|vcvtu|vpabsq|vpmaxsq|vpminsq|vpmaxuq|vpminuq|vpsraq|vpsravq|vpsrav[wq]|vpsllvw|vpsrlvw|vpermw|vpbroadcastm|vpconflict|vplzcnt|vrcp14|vrsqrt14|vextract[fi](32x8|64x[24])|vinsert[fi](32x8|64x[24])|vshuf[fi](32|64)x)/.test(m);
}

const AVX_NAMESPACES = ['dlopt::isa_avx512::', 'dlopt::isa_avx2::'];
/**
 * Functions outside those namespaces allowed to use AVX: the ISA files' entry
 * points, which copy function pointers into the kernel table (the compiler uses
 * vector moves for that) and are called by dispatch.cc's select_isa only after
 * the CPU check (has_avx512 / has_avx2).
 */
const ENTRY_POINTS: Record<string, 'avx512' | 'avx2'> = {
  'dlopt::fill_table_avx512': 'avx512',
  'dlopt::fill_table_avx2': 'avx2',
};

describe('ISA audit of build/Release/dlopt_native.node (objdump)', () => {
  const fns = process.arch === 'x64' && existsSync(ADDON_PATH) ? disassemble() : `not an x86-64 build with the addon present (${process.arch})`;

  it('AVX instructions (VEX/EVEX, ymm, zmm, mask registers) appear only in dlopt::isa_avx512 / dlopt::isa_avx2 and their table fillers', (t) => {
    if (typeof fns === 'string') return t.skip(fns);
    const offenders: string[] = [];
    for (const fn of fns) {
      const avx = fn.instructions.filter(isAvx);
      if (avx.length === 0) continue;
      const name = qualifiedName(fn.name);
      if (AVX_NAMESPACES.some((ns) => name.startsWith(ns)) || ENTRY_POINTS[name]) continue;
      offenders.push(`${fn.name}: ${avx.length} AVX instructions, e.g. ${avx.slice(0, 3).join(' | ')}`);
    }
    assert.deepEqual(offenders, [], `AVX code outside the ISA tables (would SIGILL on older CPUs):\n${offenders.join('\n')}`);
  });

  it('the AVX2 kernels (and their table filler) use no AVX-512 instruction', (t) => {
    if (typeof fns === 'string') return t.skip(fns);
    const offenders: string[] = [];
    for (const fn of fns) {
      const name = qualifiedName(fn.name);
      if (!name.startsWith('dlopt::isa_avx2::') && ENTRY_POINTS[name] !== 'avx2') continue;
      const bad = fn.instructions.filter(isAvx512);
      if (bad.length > 0) offenders.push(`${fn.name}: ${bad.slice(0, 3).join(' | ')}`);
    }
    assert.deepEqual(offenders, [], `AVX-512 code in the AVX2 table (would SIGILL on AVX2-only CPUs):\n${offenders.join('\n')}`);
  });

  it('the generic kernels, the glue and the C runtime use no AVX at all', (t) => {
    if (typeof fns === 'string') return t.skip(fns);
    const generic = fns.filter((fn) => qualifiedName(fn.name).startsWith('dlopt::isa_generic::'));
    assert.ok(generic.length > 0, 'no dlopt::isa_generic:: functions found: did the namespaces change?');
    // Implied by the first test; stated on its own for the baseline table.
    const bad = generic.filter((fn) => fn.instructions.some(isAvx)).map((fn) => fn.name);
    assert.deepEqual(bad, []);
  });

  it('the audit sees the ISA tables: AVX-512 kernels use zmm, AVX2 kernels use ymm', (t) => {
    if (typeof fns === 'string') return t.skip(fns);
    const uses = (ns: string, re: RegExp) => fns.some((fn) => qualifiedName(fn.name).startsWith(ns) && fn.instructions.some((i) => re.test(i)));
    assert.ok(uses('dlopt::isa_avx512::', /%zmm\d/), 'no zmm instruction in dlopt::isa_avx512 (is the AVX-512 table built?)');
    assert.ok(uses('dlopt::isa_avx2::', /%ymm\d/), 'no ymm instruction in dlopt::isa_avx2 (is the AVX2 table built?)');
    // FtzScope/CallScope reads MXCSR with _mm_getcsr: plain SSE stmxcsr, not AVX's vstmxcsr.
    const glue = fns.filter((fn) => !AVX_NAMESPACES.some((ns) => qualifiedName(fn.name).startsWith(ns)) && !ENTRY_POINTS[qualifiedName(fn.name)]);
    assert.ok(glue.some((fn) => fn.instructions.some((i) => MNEMONIC(i) === 'stmxcsr')), 'expected stmxcsr (SSE) in the glue code');
    assert.ok(!glue.some((fn) => fn.instructions.some((i) => MNEMONIC(i) === 'vstmxcsr')), 'vstmxcsr (AVX) in the glue code');
  });
});

// ---------------------------------------------------------------------------
// (b) The addon missing: one loud warning, and tfjs stays usable on cpu.

describe('addon unavailable (DLOPT_NATIVE_DISABLE=1)', () => {
  it('warns once on stderr, reports unavailable, and tfjs runs on cpu', () => {
    const code = `
      const tf = await import('@tensorflow/tfjs-core');
      const m = await import(${JSON.stringify(INDEX_URL)});
      await import(${JSON.stringify(new URL('./register.ts', import.meta.url).href)}).then((r) => r.registerNativeBackend());
      tf.env().set('IS_TEST', true);
      await tf.ready();
      const info = m.nativeBackendInfo();
      const sum = Array.from(tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync());
      console.log('RESULT ' + JSON.stringify({ available: info.available, error: info.error, backend: tf.getBackend(), sum, images: m.imagesToTensor(new Uint8Array(4), new Uint32Array([0]), [1, 4], 1) === undefined, setIsa: m.setIsa('generic') }));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: PACKAGE_DIR, encoding: 'utf8', env: { ...process.env, DLOPT_NATIVE_DISABLE: '1' }, timeout: 60_000,
    });
    assert.equal(r.status, 0, `child failed: ${r.stderr}`);
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    assert.ok(line, `no result: ${r.stdout}`);
    const result = JSON.parse(line.slice(7)) as { available: boolean; error?: string; backend: string; sum: number[]; images: boolean; setIsa: boolean };
    assert.equal(result.available, false);
    assert.match(result.error ?? '', /DLOPT_NATIVE_DISABLE/);
    assert.equal(result.backend, 'cpu');
    assert.deepEqual(result.sum, [4, 6]);
    assert.equal(result.images, true, 'imagesToTensor must return undefined without the addon');
    assert.equal(result.setIsa, false, 'setIsa must return false without the addon');

    // Exactly one block: a ruler line, the message, a ruler line (registerNativeBackend was called twice).
    const ruler = '='.repeat(78);
    const lines = r.stderr.split('\n');
    assert.equal(lines.filter((l) => l === ruler).length, 2, `expected one warning block, stderr:\n${r.stderr}`);
    assert.equal(r.stderr.split('@dlopt/tfjs-backend-native is not active').length - 1, 1, `stderr:\n${r.stderr}`);
    const start = lines.indexOf(ruler);
    const end = lines.indexOf(ruler, start + 1);
    const block = lines.slice(start + 1, end).join('\n');
    assert.match(block, /DLOPT_NATIVE_DISABLE/);
    assert.match(block, /cpu/);
    // Nothing else on stderr.
    assert.deepEqual(lines.filter((l, i) => (i < start || i > end) && l.trim() !== ''), [], `other output on stderr:\n${r.stderr}`);
  });
});

// ---------------------------------------------------------------------------
// (c) build-addon.mjs never fails an install. Run from a copy: it writes
// build/BUILD_FAILED.txt next to its own scripts/ folder.

describe('scripts/build-addon.mjs with DLOPT_NATIVE_SKIP_BUILD=1', () => {
  it('exits 0, warns, and writes build/BUILD_FAILED.txt with the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dlopt-build-'));
    try {
      mkdirSync(join(dir, 'scripts'));
      copyFileSync(join(PACKAGE_DIR, 'scripts', 'build-addon.mjs'), join(dir, 'scripts', 'build-addon.mjs'));
      const r = spawnSync(process.execPath, [join(dir, 'scripts', 'build-addon.mjs')], {
        cwd: dir, encoding: 'utf8', env: { ...process.env, DLOPT_NATIVE_SKIP_BUILD: '1' }, timeout: 60_000,
      });
      assert.equal(r.status, 0, `exit status ${r.status}; stderr: ${r.stderr}`);
      assert.match(r.stderr, /the native addon was NOT built: DLOPT_NATIVE_SKIP_BUILD=1 was set/);
      assert.match(r.stderr, /cpu backend/);
      const failed = join(dir, 'build', 'BUILD_FAILED.txt');
      assert.ok(existsSync(failed), 'build/BUILD_FAILED.txt was not written');
      assert.equal(readFileSync(failed, 'utf8').split('\n')[0], 'DLOPT_NATIVE_SKIP_BUILD=1 was set');
      assert.ok(r.stderr.includes(failed), 'the warning points at BUILD_FAILED.txt');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------
// (d) fmaPeak: FLOPs = 2 (mul + add) * 12 accumulators * floats per vector * iterations * threads.

describe('addon.fmaPeak', () => {
  const WIDTH: Record<string, number> = { avx512: 16, avx2: 8, generic: 4 };

  it('returns 2 * 12 * vector width * iterations * threads on every ISA', () => {
    assert.ok(addon, 'addon not loaded');
    const info = nativeBackendInfo();
    const threads = addon.numThreads();
    try {
      for (const isa of info.isas!) {
        assert.ok(setIsa(isa));
        const width = WIDTH[isa];
        assert.ok(width, `unknown ISA ${isa}`);
        assert.equal(addon.fmaPeak(1000), 2 * 12 * width * 1000 * threads, `[${isa}] fmaPeak(1000)`);
        assert.equal(addon.fmaPeak(1), 2 * 12 * width * threads, `[${isa}] fmaPeak(1)`);
        // Fewer than one iteration is one.
        assert.equal(addon.fmaPeak(0), addon.fmaPeak(1), `[${isa}] fmaPeak(0)`);
      }
    } finally {
      setIsa(info.isa!);
    }
  });
});
