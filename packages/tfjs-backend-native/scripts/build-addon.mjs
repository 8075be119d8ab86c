#!/usr/bin/env node
// Builds the native addon with node-gyp at install time. It never fails the
// install: if the build fails, the reason is written to build/BUILD_FAILED.txt
// and the backend, when imported, warns once and leaves tfjs on its cpu
// backend. DLOPT_NATIVE_SKIP_BUILD=1 skips the build (to exercise that path).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, 'build');
const failedFile = join(buildDir, 'BUILD_FAILED.txt');
const verbose = process.argv.includes('--verbose');

function fail(reason, log = '') {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(failedFile, `${reason}\n${log.split('\n').slice(-40).join('\n')}\n`);
  const line = '='.repeat(78);
  console.warn(`${line}\n@dlopt/tfjs-backend-native: the native addon was NOT built: ${reason}\n` +
    `TensorFlow.js will run on its (much slower) JavaScript cpu backend. Details: ${failedFile}\n${line}`);
  process.exit(0);
}

if (process.env.DLOPT_NATIVE_SKIP_BUILD === '1') fail('DLOPT_NATIVE_SKIP_BUILD=1 was set');

/** npm's own node-gyp (npm sets npm_config_node_gyp for scripts), else one beside this node, else a dependency. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

/** Headers shipped with this Node.js, so node-gyp need not download them (it cannot, offline). */
function findNodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

const gyp = findNodeGyp();
if (!gyp) fail('node-gyp was not found (it ships with npm; is npm installed?)');
const nodedir = findNodeDir();
const common = [gyp, ...(nodedir ? [`--nodedir=${nodedir}`] : []), '--release'];
rmSync(failedFile, { force: true });
for (const step of [['configure'], ['build', '-j', 'max']]) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [...common.slice(0, 1), ...step, ...common.slice(1)], {
    cwd: root,
    encoding: 'utf8',
    stdio: verbose ? 'inherit' : 'pipe',
    env: { ...process.env, JOBS: 'max' },
  });
  const log = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  if (r.error) fail(`node-gyp ${step[0]} could not run: ${r.error.message}`, log);
  if (r.status !== 0) {
    const hint = /node_api\.h|common\.gypi|headers/.test(log) && !nodedir
      ? ' (Node.js headers not found: set npm_config_nodedir to your Node.js install prefix)'
      : '';
    fail(`node-gyp ${step[0]} failed with exit code ${r.status}${hint}`, log);
  }
  if (verbose) console.log(`node-gyp ${step[0]}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
