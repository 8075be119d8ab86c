import { hostname } from 'node:os';
import { DloptError, UsageError } from '../errors.js';
import type { StudyStorage } from '../tune/storages/storage.js';
import { createStudy, type Objective, type Study, type StudyCallback } from '../tune/study.js';
import type { FrozenTrial } from '../tune/trial-state.js';
import { buildPruner, buildSampler } from './build-tune.js';
import type { TuneConfig, TuneMetric } from './tune-config.js';

/** What `dlopt tune` records in its study (system attribute `tune`), so every worker and `study show` agree. */
export interface TuneStudyInfo {
  metric: TuneMetric;
  /** The sampler's seed: workers (and later runs) joining the study without a seed of their own take it. */
  samplerSeed: number;
  sampler: string;
}

export const TUNE_ATTR = 'tune';

/** The `tune` attribute of a study record, if dlopt tune created it. */
export function tuneInfo(systemAttrs: Readonly<Record<string, unknown>>): Partial<TuneStudyInfo> {
  const info = systemAttrs[TUNE_ATTR];
  return typeof info === 'object' && info !== null ? (info as Partial<TuneStudyInfo>) : {};
}

/**
 * Creates the config's study in `storage`, or joins it if it exists (another
 * worker's, or an earlier run to continue). The sampler takes the config's
 * seed, else the one the study recorded, else a fresh one that is then
 * recorded: every worker samples from the same streams.
 */
export async function openTuneStudy(config: TuneConfig, storage: StudyStorage): Promise<Study> {
  const existing = await storage.getStudy(config.study);
  const recorded = existing ? tuneInfo(existing.systemAttrs) : {};
  if (existing && recorded.metric !== undefined && recorded.metric !== config.metric) {
    throw new UsageError(`study '${config.study}' measures ${recorded.metric}, not ${config.metric}: use another study name for another metric`);
  }
  const sampler = buildSampler(config.sampler, config.search, typeof recorded.samplerSeed === 'number' ? recorded.samplerSeed : undefined);
  const pruner = buildPruner(config.pruner);
  const study = await createStudy({ storage, name: config.study, direction: config.direction, sampler, pruner, loadIfExists: true });
  if (recorded.samplerSeed === undefined) {
    const info: TuneStudyInfo = { metric: config.metric, samplerSeed: sampler.seed, sampler: sampler.name };
    await storage.setStudySystemAttr(study.id, TUNE_ATTR, info);
  }
  return study;
}

/** Trials that count towards the study's total: every one started (finished, failed or still running). */
export function countStarted(trials: readonly FrozenTrial[]): number {
  return trials.filter((t) => t.state !== 'WAITING').length;
}

/** The process running a trial (user attribute `worker`), so a dead worker's trials can be found on its machine. */
export interface WorkerId {
  host: string;
  pid: number;
}

export function thisWorker(): WorkerId {
  return { host: hostname(), pid: process.pid };
}

export function workerOf(trial: FrozenTrial): WorkerId | undefined {
  const w = trial.userAttrs.worker as Partial<WorkerId> | undefined;
  return typeof w?.host === 'string' && typeof w.pid === 'number' ? { host: w.host, pid: w.pid } : undefined;
}

/** Whether the worker ran on this machine and its process is gone. */
export function isDeadLocalWorker(worker: WorkerId): boolean {
  if (worker.host !== hostname()) return false;
  try {
    process.kill(worker.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Marks FAIL (with `reason`) the study's RUNNING trials whose worker `dead`
 * says is gone: trials of killed processes, found at once instead of after
 * the heartbeat grace period. Returns their numbers.
 */
export async function failTrialsOfDeadWorkers(
  storage: StudyStorage,
  studyId: number,
  dead: (worker: WorkerId) => boolean,
  reason: (worker: WorkerId) => string,
): Promise<number[]> {
  const failed: number[] = [];
  for (const trial of await storage.getAllTrials(studyId, ['RUNNING'])) {
    const worker = workerOf(trial);
    if (!worker || !dead(worker)) continue;
    await storage.setTrialSystemAttr(trial.id, 'failReason', reason(worker)).catch(() => {});
    if (await storage.finishTrial(trial.id, 'FAIL', null)) failed.push(trial.number);
  }
  return failed;
}

export interface RunTrialsOptions {
  study: Study;
  objective: Objective;
  /** Trials the study should have in total, all workers together; no limit when absent. */
  trials?: number | undefined;
  /** Seconds after which this worker starts no new trial. */
  timeout?: number | undefined;
  /** Liveness for shared storages (see OptimizeOptions.heartbeatMs). */
  heartbeatMs?: number;
  graceMs?: number;
  onTrialEnd?: StudyCallback;
  /** Asked before each trial: true to start no more. */
  stopped?(): boolean;
}

/**
 * This worker's share of the study: one trial at a time until the study has
 * `trials` trials in total (counted by the storage as it starts each trial, so
 * the total holds across processes and machines), the timeout passes, or
 * `stopped` says so. A trial that fails with a DloptError (an invalid
 * combination of parameters, a diverged run) is recorded FAIL and the study
 * goes on; anything else stops it. Returns the number of trials run here.
 */
export async function runTrials(options: RunTrialsOptions): Promise<number> {
  const { study, objective, trials, timeout } = options;
  const started = Date.now();
  let run = 0;
  for (;;) {
    // Training never leaves the microtask queue: let timers, signals and child processes' events run.
    await new Promise((resolve) => setImmediate(resolve));
    if (options.stopped?.()) break;
    if (timeout !== undefined && Date.now() - started >= timeout * 1000) break;
    // The storage counts the study's trials as it starts one: counting here first would let two workers both see
    // one trial to go, and both start it.
    const ran = await study.optimize(objective, {
      nTrials: 1,
      ...(trials !== undefined && { totalTrials: trials }),
      catch: [DloptError],
      ...(options.onTrialEnd && { callbacks: [options.onTrialEnd] }),
      ...(options.heartbeatMs !== undefined && { heartbeatMs: options.heartbeatMs, graceMs: options.graceMs ?? options.heartbeatMs * 2 }),
    });
    if (ran === 0) break;
    run += ran;
  }
  return run;
}
