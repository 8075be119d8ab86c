import { DloptError } from '../../errors.js';
import type { Distribution, ParamValue } from '../distributions.js';
import type { Direction, FrozenTrial, TrialState } from '../trial-state.js';

export interface StudyRecord {
  id: number;
  name: string;
  direction: Direction;
  userAttrs: Record<string, unknown>;
  systemAttrs: Record<string, unknown>;
}

export interface NewTrial {
  /** 'WAITING' enqueues it (a worker claims it later); default 'RUNNING', started now. */
  state?: 'WAITING' | 'RUNNING';
  userAttrs?: Record<string, unknown>;
  systemAttrs?: Record<string, unknown>;
}

export interface StartTrialOptions {
  /** Start no trial once the study has this many started trials (an integer ≥ 0). */
  maxStarted?: number;
}

/**
 * Where a study's state lives (Optuna's BaseStorage, in small). All state is
 * here, so many workers (processes, machines) cooperate through it without a
 * coordinator. Every method is atomic on its own; the ones that decide a race
 * (numbering a new trial, claiming a waiting one, starting one within a total,
 * finishing a running one) are compare-and-set. Values are JSON-serialisable.
 */
export interface StudyStorage {
  /** Creates a study; with `loadIfExists`, returns the existing one of that name (its direction must match). */
  createStudy(name: string, direction: Direction, options?: { loadIfExists?: boolean }): Promise<StudyRecord>;
  getStudy(name: string): Promise<StudyRecord | undefined>;
  listStudies(): Promise<StudyRecord[]>;
  setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void>;
  setStudySystemAttr(studyId: number, key: string, value: unknown): Promise<void>;

  /** A new trial numbered one past the study's last (never the same number twice, even under concurrency). */
  createTrial(studyId: number, template?: NewTrial): Promise<FrozenTrial>;
  /** Atomically moves the oldest WAITING trial to RUNNING (started now) and returns it; undefined when none waits. */
  claimWaitingTrial(studyId: number): Promise<FrozenTrial | undefined>;
  /**
   * Starts the study's next trial: claims the oldest WAITING one, else creates
   * one, RUNNING from now. With `maxStarted`, only while the study has fewer
   * started trials (in any state but WAITING) than that: the count and the
   * start are one atomic step, so workers sharing a study never start more
   * between them. Undefined when the study has its `maxStarted` trials.
   */
  startTrial(studyId: number, options?: StartTrialOptions): Promise<FrozenTrial | undefined>;
  setTrialParam(trialId: number, name: string, distribution: Distribution, value: ParamValue): Promise<void>;
  setTrialIntermediateValue(trialId: number, step: number, value: number): Promise<void>;
  setTrialUserAttr(trialId: number, key: string, value: unknown): Promise<void>;
  setTrialSystemAttr(trialId: number, key: string, value: unknown): Promise<void>;
  /**
   * Ends a RUNNING trial. Returns false and changes nothing when it is not
   * RUNNING any more (e.g. another worker already failed it as stale).
   */
  finishTrial(trialId: number, state: 'COMPLETE' | 'PRUNED' | 'FAIL', value: number | null): Promise<boolean>;
  getTrial(trialId: number): Promise<FrozenTrial>;
  /** The study's trials in number order, optionally only those in `states`. */
  getAllTrials(studyId: number, states?: readonly TrialState[]): Promise<FrozenTrial[]>;

  /** The worker running this trial is alive (now). */
  recordHeartbeat(trialId: number): Promise<void>;
  /** RUNNING trials whose last heartbeat (or start) is older than `graceMs`: marked FAIL and returned. */
  failStaleTrials(studyId: number, graceMs: number): Promise<FrozenTrial[]>;

  close(): Promise<void>;
}

/** The `maxStarted` of StartTrialOptions, checked (undefined: no limit). */
export function maxStartedOf(options: StartTrialOptions | undefined): number | undefined {
  const max = options?.maxStarted;
  if (max !== undefined && !(Number.isInteger(max) && max >= 0)) throw new DloptError(`maxStarted must be an integer ≥ 0, got ${String(max)}`);
  return max;
}
