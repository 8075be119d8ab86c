#!/usr/bin/env node
// Runs every *.test.ts under packages/*/src with node's test runner through
// tsx. Node 20's `node --test` does not expand globs, so the files are listed
// here. Extra arguments are passed to node (e.g. --test-name-pattern=cifar);
// a path argument ending in .test.ts narrows the run to those files.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir, found = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, found);
    else if (name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const args = process.argv.slice(2);
const chosen = args.filter((a) => a.endsWith('.test.ts'));
const flags = args.filter((a) => !a.endsWith('.test.ts'));
const files = chosen.length > 0 ? chosen : findTests('packages').sort();
// The spec reporter ends with a list of the failing tests and their errors, so the
// tail of a CI log (all that may be kept of it) says what failed.
const reporter = flags.some((f) => f.startsWith('--test-reporter')) ? [] : ['--test-reporter=spec'];
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...reporter, ...flags, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
