import { spawn, type ChildProcess } from 'node:child_process';

export interface WorkerPoolOptions {
  /** Arguments after the node executable (script and its arguments); worker k (from 1) gets args(k). */
  args: (worker: number) => string[];
  count: number;
  env?: NodeJS.ProcessEnv;
  /** Called once, for the first worker that ends badly (a non-zero exit or a signal this pool did not send). */
  onFailure?(message: string): void;
  /** After stop(), workers still running this long are killed outright (default 15 s). */
  killAfterMs?: number;
}

interface Worker {
  id: number;
  process: ChildProcess;
  exited: Promise<void>;
  running: boolean;
}

/**
 * Worker processes of `dlopt tune --workers N`: the same node executable,
 * sharing this process's stdout and stderr (their progress lines appear with
 * the parent's). A worker that ends badly is reported once through
 * onFailure; stop() ends the others (SIGTERM, then SIGKILL after a grace
 * period), and wait() resolves when all have exited.
 */
export class WorkerPool {
  /** The first failure, in words, if any. */
  failure: string | undefined;
  private readonly workers: Worker[] = [];
  private stopping = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: WorkerPoolOptions) {
    for (let id = 1; id <= options.count; id++) this.start(id);
  }

  get pids(): number[] {
    return this.workers.flatMap((w) => (w.process.pid === undefined ? [] : [w.process.pid]));
  }

  /** Ends every running worker: `signal` now, SIGKILL for those still running after the grace period. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.stopping = true;
    for (const w of this.workers) if (w.running) w.process.kill(signal);
    if (!this.killTimer && signal !== 'SIGKILL') {
      this.killTimer = setTimeout(() => this.stop('SIGKILL'), this.options.killAfterMs ?? 15_000);
      this.killTimer.unref();
    }
  }

  /** Resolves when every worker has exited. */
  async wait(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.exited));
    clearTimeout(this.killTimer);
  }

  private start(id: number): void {
    const child = spawn(process.execPath, this.options.args(id), {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: this.options.env ?? process.env,
    });
    const worker: Worker = { id, process: child, running: true, exited: Promise.resolve() };
    worker.exited = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        worker.running = false;
        this.fail(`worker ${id} could not start: ${error.message}`);
        resolve();
      });
      child.once('exit', (code, signal) => {
        worker.running = false;
        // Once stopping, a worker ending with an error code or a signal is only saying that it was stopped.
        if (code !== 0 && !this.stopping) {
          this.fail(`worker ${id} (pid ${child.pid}) ${signal !== null ? `was killed by ${signal}` : `exited with code ${code}`}`);
        }
        resolve();
      });
    });
    this.workers.push(worker);
  }

  private fail(message: string): void {
    if (this.failure !== undefined) return;
    this.failure = message;
    this.options.onFailure?.(message);
  }
}
