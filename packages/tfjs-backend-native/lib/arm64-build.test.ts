import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CROSS = 'aarch64-linux-gnu-g++';
const hasCross = spawnSync(CROSS, ['--version']).status === 0;

/**
 * The addon must build on arm64 (portable kernels over NEON; no x86 tables).
 * CI installs Debian's cross compiler; this compiles and links the arm64
 * translation units exactly as binding.gyp selects them. Running the result
 * would need an arm64 machine.
 */
describe('arm64 build', () => {
  it('the addon compiles and links for arm64 with only the portable kernel table', { skip: hasCross ? false : `${CROSS} not installed` }, () => {
    const out = mkdtempSync(join(tmpdir(), 'dlopt-arm64-'));
    try {
      const napi = createRequire(import.meta.url)('node-addon-api').include_dir as string;
      const nodeHeaders = join(dirname(process.execPath), '..', 'include', 'node');
      const objects: string[] = [];
      for (const source of ['addon.cc', 'dispatch.cc', 'threadpool.cc', 'isa_generic.cc']) {
        const object = join(out, source.replace('.cc', '.o'));
        const r = spawnSync(CROSS, [
          '-std=gnu++17', '-O1', '-fPIC', '-Wall', '-Wno-unused-function', '-Werror',
          `-I${nodeHeaders}`, `-I${napi}`, '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS',
          '-c', join(ROOT, 'src', source), '-o', object,
        ], { encoding: 'utf8' });
        assert.equal(r.status, 0, `${source}: ${r.stderr}`);
        objects.push(object);
      }
      const lib = join(out, 'dlopt_native.node');
      const link = spawnSync(CROSS, ['-shared', '-pthread', '-o', lib, ...objects], { encoding: 'utf8' });
      assert.equal(link.status, 0, link.stderr);
      const file = spawnSync('file', [lib], { encoding: 'utf8' });
      if (file.status === 0) assert.match(file.stdout, /aarch64|ARM aarch64/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
