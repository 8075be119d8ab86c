import { appendFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DloptError, describeError } from '../errors.js';
import { writeAtomic } from '../io/model-files.js';
import type { EpochMetrics } from './fit.js';

export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
} as const;

/**
 * A training run's directory. summary.json is written last: a directory
 * without it is a run that did not finish (crashed, killed, or diverged).
 */
export class RunDir {
  private constructor(readonly path: string) {}

  /**
   * Creates `out`, or `runs/<YYYYMMDD-HHMMSS>-<model>` when no path is given.
   * An existing non-empty directory is refused rather than mixed into.
   */
  static async create(out: string | undefined, model: string, now = new Date()): Promise<RunDir> {
    let path = out;
    if (path === undefined) {
      const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
      path = join('runs', `${stamp}-${model}`);
      // Two runs started in the same second get distinct directories.
      for (let i = 2; (await listing(path)).length > 0; i++) path = join('runs', `${stamp}-${model}-${i}`);
    } else if ((await listing(path)).length > 0) {
      throw new DloptError(`output directory ${path} already exists and is not empty; choose another --out`);
    }
    try {
      await mkdir(path, { recursive: true });
    } catch (error) {
      throw new DloptError(`cannot create output directory ${path}: ${describeError(error)}`, { cause: error });
    }
    return new RunDir(path);
  }

  /** An existing run directory (to resume it). */
  static async open(path: string): Promise<RunDir> {
    const entries = await listing(path);
    if (!entries.includes(RUN_FILES.config)) {
      throw new DloptError(`${path} is not a dlopt run directory (no ${RUN_FILES.config})`);
    }
    return new RunDir(path);
  }

  file(name: string): string {
    return join(this.path, name);
  }

  async writeConfig(config: object): Promise<void> {
    await writeAtomic(this.file(RUN_FILES.config), JSON.stringify(config, null, 2) + '\n');
  }

  async appendMetrics(metrics: EpochMetrics): Promise<void> {
    await appendFile(this.file(RUN_FILES.metrics), JSON.stringify(metrics) + '\n');
  }

  /** Rewrites metrics.jsonl to exactly these epochs (a resumed run drops epochs after its checkpoint). */
  async rewriteMetrics(history: readonly EpochMetrics[]): Promise<void> {
    await writeAtomic(this.file(RUN_FILES.metrics), history.map((m) => JSON.stringify(m) + '\n').join(''));
  }

  async writeSummary(summary: object): Promise<void> {
    await writeAtomic(this.file(RUN_FILES.summary), JSON.stringify(summary, null, 2) + '\n');
  }
}

async function listing(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    if (code === 'ENOTDIR') throw new DloptError(`output path ${path} exists and is not a directory`);
    throw new DloptError(`cannot use output directory ${path}: ${describeError(error)}`, { cause: error });
  }
}
