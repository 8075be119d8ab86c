import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = dirname(fileURLToPath(import.meta.url));
const DOC = join(SRC, '..', '..', '..', 'docs', 'architecture.md');

/** module → modules it may import, read from the table in docs/architecture.md. */
function allowedImports(): Map<string, Set<string>> {
  const rows = readFileSync(DOC, 'utf8')
    .split('\n')
    .filter((l) => /^\| `[^`]+` \|/.test(l));
  const rules = new Map<string, Set<string>>();
  const all = rows.map((r) => /^\| `([^`]+)`/.exec(r)![1]!.replace(/\.ts$/, ''));
  for (const row of rows) {
    const cells = row.split('|').map((c) => c.trim());
    const name = /`([^`]+)`/.exec(cells[1]!)![1]!.replace(/\.ts$/, '');
    const may = cells[3]!;
    let allowed: string[];
    if (may === '—') allowed = [];
    else if (may.startsWith('everything above')) {
      const above = all.slice(0, all.indexOf(name));
      const except = [...may.matchAll(/except `([^`]+)`/g)].map((m) => m[1]!);
      allowed = above.filter((m) => !except.includes(m));
    } else allowed = [...may.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\.ts$/, ''));
    rules.set(name, new Set(allowed));
  }
  return rules;
}

function sourceFiles(dir: string, found: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, found);
    else if (name.endsWith('.ts')) found.push(path);
  }
  return found;
}

/** The module a source file belongs to: its top folder, or the file name for top-level files. */
function moduleOf(path: string): string {
  const rel = relative(SRC, path).split('/');
  return rel.length === 1 ? rel[0]!.replace(/\.[jt]s$/, '') : rel[0]!;
}

describe('architecture', () => {
  it('every module imports only what docs/architecture.md allows', () => {
    const rules = allowedImports();
    const violations: string[] = [];
    for (const file of sourceFiles(SRC)) {
      if (file.endsWith('.test.ts')) continue;
      const from = moduleOf(file);
      const allowed = rules.get(from);
      if (!allowed) {
        violations.push(`${relative(SRC, file)}: module "${from}" is not in docs/architecture.md`);
        continue;
      }
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)) {
        const target = moduleOf(join(dirname(file), m[1]!));
        if (target !== from && !allowed.has(target)) {
          violations.push(`${relative(SRC, file)} imports ${m[1]} (module "${target}"), not allowed for "${from}"`);
        }
      }
    }
    assert.deepEqual(violations, []);
  });

  it('the public entry point does not expose the CLI', () => {
    assert.doesNotMatch(readFileSync(join(SRC, 'index.ts'), 'utf8'), /from '\.\/cli\//);
  });
});
