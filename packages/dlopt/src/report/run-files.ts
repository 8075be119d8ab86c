import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { DataError, describeError } from '../errors.js';
import { RUN_FILES } from '../train/run-dir.js';

/** One line of a run's metrics.jsonl (what fitModel reports per epoch; pruning runs add their step). */
const MetricsLineSchema = z.object({
  epoch: z.number().int().min(1),
  loss: z.number(),
  accuracy: z.number(),
  val_loss: z.number().nullable(),
  val_accuracy: z.number().nullable(),
  seconds: z.number().min(0),
  images_per_s: z.number().min(0),
  lr: z.number().nullable(),
  step: z.number().int().min(1).optional(),
});
export type MetricsLine = z.infer<typeof MetricsLineSchema>;

/** A run directory as a report reads it. */
export interface RunRecord {
  /** As given (or found under a folder of runs). */
  path: string;
  /** Unique among the report's runs: the directory's name, numbered if repeated. */
  name: string;
  kind: 'train' | 'prune';
  config: Record<string, unknown>;
  metrics: MetricsLine[];
  /** Null while the run has not finished (summary.json is written last). */
  summary: Record<string, unknown> | null;
}

/**
 * The runs at `paths`: each a run directory, or a folder of them (such as
 * `runs/`, read in name order). Anything else is an error naming the path.
 */
export async function readRuns(paths: readonly string[]): Promise<RunRecord[]> {
  const dirs: string[] = [];
  for (const path of paths) {
    const entries = await listDirectory(path);
    if (entries.includes(RUN_FILES.config)) {
      dirs.push(path);
      continue;
    }
    const inner: string[] = [];
    for (const name of entries.sort()) {
      const child = join(path, name);
      if ((await isDirectory(child)) && (await listDirectory(child)).includes(RUN_FILES.config)) inner.push(child);
    }
    if (inner.length === 0) {
      throw new DataError(`${path} is not a dlopt run directory (no ${RUN_FILES.config}) and holds none`);
    }
    dirs.push(...inner);
  }
  const seen = new Set<string>();
  const unique = dirs.filter((d) => !seen.has(resolve(d)) && seen.add(resolve(d)));
  const names = new Map<string, number>();
  const runs: RunRecord[] = [];
  for (const dir of unique) {
    const base = basename(resolve(dir));
    const n = (names.get(base) ?? 0) + 1;
    names.set(base, n);
    runs.push(await readRun(dir, n === 1 ? base : `${base} (${n})`));
  }
  return runs;
}

export async function readRun(path: string, name = basename(resolve(path))): Promise<RunRecord> {
  const config = await readJsonObject(join(path, RUN_FILES.config));
  if (config === undefined) throw new DataError(`${path} is not a dlopt run directory (no ${RUN_FILES.config})`);
  const summary = (await readJsonObject(join(path, RUN_FILES.summary))) ?? null;
  const metrics = await readMetrics(join(path, RUN_FILES.metrics));
  const kind = 'prune' in config || summary?.kind === 'prune' ? 'prune' : 'train';
  return { path, name, kind, config, metrics, summary };
}

/**
 * A metrics.jsonl file; missing means no epoch finished. A line that is not
 * one epoch's metrics is an error naming the file and line: a report drawn
 * from half a file would look complete and be wrong.
 */
export async function readMetrics(file: string): Promise<MetricsLine[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new DataError(`cannot read ${file}: ${describeError(error)}`, { cause: error });
  }
  return parseMetrics(text, file);
}

export function parseMetrics(text: string, file: string): MetricsLine[] {
  const lines = text.split('\n');
  const metrics: MetricsLine[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${file} line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new DataError(`${where} is not valid JSON (${describeError(error)}): the metrics file is corrupt`);
    }
    const parsed = MetricsLineSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length ? `"${issue.path.join('.')}"` : 'the line';
      throw new DataError(`${where} is not one epoch's metrics: ${field}: ${issue.message}`);
    }
    metrics.push(parsed.data);
  });
  return metrics;
}

async function readJsonObject(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DataError(`cannot read ${file}: ${describeError(error)}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DataError(`${file} is not valid JSON (${describeError(error)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DataError(`${file} does not hold a JSON object`);
  return value as Record<string, unknown>;
}

async function listDirectory(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`no run directory at ${path} (it does not exist)`);
    if (code === 'ENOTDIR') throw new DataError(`${path} is a file, not a run directory`);
    throw new DataError(`cannot read ${path}: ${describeError(error)}`, { cause: error });
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
