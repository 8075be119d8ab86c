import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The installed entry point, as `npx dlopt` runs it (needs `npm run build`, which `npm test` does first). */
export const BIN = fileURLToPath(new URL('../../bin/dlopt.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the dlopt CLI in a child process with a clean, offline-safe environment. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env };
    delete env.FORCE_COLOR;
    if (!options.env || !('DLOPT_DATA' in options.env)) delete env.DLOPT_DATA;
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** True if the text looks like a JavaScript stack trace (users must never see one). */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+[:(]\d+/m.test(text);
}
