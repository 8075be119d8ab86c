import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../bin/dlopt.js');

/** Runs the built `dlopt` CLI as a user would, its output passed through; rejects on a non-zero exit. */
export function runDlopt(args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`dlopt ${args.join(' ')} exited with ${code}`))));
  });
}
