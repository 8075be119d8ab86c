import { Command } from '@commander-js/extra-typings';
import { existsSync } from 'node:fs';
import { DloptError, UsageError } from '../errors.js';
import { readStudy } from '../report/build-report.js';
import type { ParamValue } from '../tune/distributions.js';
import { openStorage } from '../tune/storages/open-storage.js';
import { sqlitePathFromUrl } from '../tune/storages/sqlite-storage.js';
import type { StudyStorage } from '../tune/storages/storage.js';
import { bestTrial, countStates, type Direction, type FrozenTrial, type TrialState } from '../tune/trial-state.js';
import { formatDuration, formatParam } from '../util/format.js';
import { out, style } from './console.js';
import { textTable } from './text-table.js';

export function studyCommand() {
  const study = new Command('study').description('inspect hyperparameter studies (what dlopt tune records)');
  study
    .command('show')
    .description('print the trials of a study and its best trial')
    .requiredOption('--storage <url>', 'storage the study is in: sqlite:PATH or postgresql://user@host/db')
    .requiredOption('--study <name>', 'study name')
    .option('--json', 'print one JSON object on stdout: { study, direction, metric, bestTrial, trials }')
    .action(async (opts) => {
      const storage = await openStudyStorage(opts.storage, { purpose: 'show' });
      try {
        const report = await studyReport(storage, opts.study);
        if (opts.json) out.result(JSON.stringify(report, null, 2));
        else for (const line of formatStudyReport(report)) out.result(line);
      } finally {
        await storage.close();
      }
    });
  return study;
}

/**
 * A storage from its URL. A memory storage lives only inside one process, so
 * there is nothing to show from it; nor from an SQLite file that does not
 * exist (opening it would create it).
 */
export async function openStudyStorage(url: string, options: { purpose: 'show' | 'tune' }): Promise<StudyStorage> {
  if (options.purpose === 'show') {
    if (url === 'memory' || url === '') {
      throw new UsageError(
        'a memory storage lives only inside the process that ran the study, so there is nothing to show; ' +
          'run dlopt tune with --storage sqlite:FILE (or postgresql://…) to keep a study',
      );
    }
    if (url.startsWith('sqlite:')) {
      const path = sqlitePathFromUrl(url);
      if (!existsSync(path)) throw new DloptError(`no study storage at ${path} (the file does not exist)`);
    }
  }
  return openStorage(url);
}

/** One trial as `study show --json` prints it. */
export interface TrialReport {
  number: number;
  state: TrialState;
  value: number | null;
  params: Record<string, ParamValue>;
  /** Seconds from start to end (to now, for a running trial), or null. */
  duration: number | null;
  /** Values reported per epoch. */
  intermediate: Record<number, number>;
  userAttrs: Record<string, unknown>;
  failReason?: string;
  startedAt: string | null;
  completedAt: string | null;
}

export interface StudyReport {
  study: string;
  direction: Direction;
  /** What the values measure (null for a study dlopt tune did not create). */
  metric: string | null;
  bestTrial: TrialReport | null;
  trials: TrialReport[];
}

/** A study's trials and its best trial, from any storage; an unknown study is an error that lists the storage's studies. */
export async function studyReport(storage: StudyStorage, name: string): Promise<StudyReport> {
  const study = await readStudy(storage, name);
  const best = bestTrial(study.trials, study.direction);
  const now = Date.now();
  return {
    study: study.name,
    direction: study.direction,
    metric: study.metric,
    bestTrial: best ? trialReport(best, now) : null,
    trials: study.trials.map((t) => trialReport(t, now)),
  };
}

function trialReport(t: FrozenTrial, now: number): TrialReport {
  const end = t.completedAt ?? (t.state === 'RUNNING' ? now : null);
  const failReason = t.systemAttrs.failReason;
  return {
    number: t.number,
    state: t.state,
    value: t.value,
    params: { ...t.params },
    duration: t.startedAt !== null && end !== null ? (end - t.startedAt) / 1000 : null,
    intermediate: { ...t.intermediate },
    userAttrs: { ...t.userAttrs },
    ...(typeof failReason === 'string' && { failReason }),
    startedAt: t.startedAt === null ? null : new Date(t.startedAt).toISOString(),
    completedAt: t.completedAt === null ? null : new Date(t.completedAt).toISOString(),
  };
}

/** The trials table (by number) and the best trial, as lines. */
export function formatStudyReport(report: StudyReport): string[] {
  const metric = report.metric ?? 'value';
  const names = [...new Set(report.trials.flatMap((t) => Object.keys(t.params)))];
  const header = ['#', 'state', metric, ...names, 'duration'];
  const rows = report.trials.map((t) => [
    String(t.number),
    t.state,
    t.value === null ? '—' : formatMetric(t.value),
    ...names.map((n) => (n in t.params ? formatParam(t.params[n]!) : '—')),
    t.duration === null ? '—' : formatDuration(t.duration),
  ]);
  const counts = countStates(report.trials);
  const lines = [
    `Study '${report.study}': ${report.direction} ${metric}; ${report.trials.length} trial${report.trials.length === 1 ? '' : 's'}` +
      (report.trials.length ? ` (${counts})` : ''),
  ];
  if (rows.length > 0) {
    lines.push('');
    const [head, ...body] = textTable(header, rows, (i) => i === 0 || i === 2 || i === header.length - 1);
    lines.push(style.bold(head!), ...body);
  }
  const failed = report.trials.filter((t) => t.state === 'FAIL' && t.failReason !== undefined);
  if (failed.length > 0) {
    lines.push('', 'Failed trials:');
    for (const t of failed) lines.push(`  #${t.number}: ${t.failReason}`);
  }
  lines.push('');
  const best = report.bestTrial;
  if (best) {
    lines.push(style.bold(`Best trial: #${best.number}, ${metric} ${formatMetric(best.value!)}`));
    for (const [name, value] of Object.entries(best.params)) lines.push(`  ${name}: ${formatParam(value)}`);
  } else lines.push('No completed trial yet.');
  return lines;
}

/** Each dotted name by its shortest unambiguous ending (optimizer.lr → lr, unless another name also ends in lr; optimizer.name → optimizer). */
export function shortNames(names: readonly string[]): Map<string, string> {
  const result = new Map<string, string>();
  // A group's `name` stands for the group: optimizer.name → optimizer.
  const stem = (name: string) => (name.endsWith('.name') ? name.slice(0, -'.name'.length) : name);
  const stems = names.map(stem);
  for (const name of names) {
    const parts = stem(name).split('.');
    for (let k = 1; k <= parts.length; k++) {
      const suffix = parts.slice(-k).join('.');
      const clash = stems.some((other) => other !== stem(name) && (other === suffix || other.endsWith('.' + suffix)));
      if (!clash || k === parts.length) {
        result.set(name, suffix);
        break;
      }
    }
  }
  return result;
}


export function formatMetric(value: number): string {
  return value.toFixed(4);
}
