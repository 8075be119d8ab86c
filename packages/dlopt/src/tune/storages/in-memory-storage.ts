import { DloptError, UsageError } from '../../errors.js';
import type { Distribution, ParamValue } from '../distributions.js';
import type { Direction, FrozenTrial, TrialState } from '../trial-state.js';
import { maxStartedOf, type NewTrial, type StartTrialOptions, type StudyRecord, type StudyStorage } from './storage.js';

interface StoredTrial {
  studyId: number;
  trial: FrozenTrial;
  /** ms since the epoch of the last sign of life (start or heartbeat). */
  heartbeat: number | null;
}

/**
 * All state in this process's memory: the default storage, for one process
 * (any number of concurrent `optimize` calls). Each method does its work
 * without awaiting in between, so it is atomic on JavaScript's single thread.
 * Everything goes in and out as a deep copy, so neither the caller nor the
 * storage can change the other's objects afterwards, as with a database.
 */
export class InMemoryStorage implements StudyStorage {
  private readonly studies = new Map<number, { record: StudyRecord; trials: StoredTrial[] }>();
  private readonly trials = new Map<number, StoredTrial>();
  private nextStudyId = 0;
  private nextTrialId = 0;

  async createStudy(name: string, direction: Direction, options: { loadIfExists?: boolean } = {}): Promise<StudyRecord> {
    if (direction !== 'minimize' && direction !== 'maximize') throw new UsageError(`study direction must be 'minimize' or 'maximize', got ${JSON.stringify(direction)}`);
    const existing = this.findStudy(name);
    if (existing) {
      if (!options.loadIfExists) throw new UsageError(`a study named '${name}' already exists (load it, or pick another name)`);
      if (existing.record.direction !== direction) {
        throw new UsageError(`study '${name}' exists with direction ${existing.record.direction}, not ${direction}`);
      }
      return copy(existing.record);
    }
    const record: StudyRecord = { id: this.nextStudyId++, name, direction, userAttrs: {}, systemAttrs: {} };
    this.studies.set(record.id, { record, trials: [] });
    return copy(record);
  }

  async getStudy(name: string): Promise<StudyRecord | undefined> {
    const found = this.findStudy(name);
    return found && copy(found.record);
  }

  async listStudies(): Promise<StudyRecord[]> {
    return [...this.studies.values()].map((s) => copy(s.record));
  }

  async setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void> {
    this.study(studyId).record.userAttrs[key] = copy(value);
  }

  async setStudySystemAttr(studyId: number, key: string, value: unknown): Promise<void> {
    this.study(studyId).record.systemAttrs[key] = copy(value);
  }

  async createTrial(studyId: number, template: NewTrial = {}): Promise<FrozenTrial> {
    return copy(this.create(studyId, template).trial);
  }

  async claimWaitingTrial(studyId: number): Promise<FrozenTrial | undefined> {
    const stored = this.claim(studyId);
    return stored && copy(stored.trial);
  }

  async startTrial(studyId: number, options?: StartTrialOptions): Promise<FrozenTrial | undefined> {
    const max = maxStartedOf(options);
    const study = this.study(studyId);
    if (max !== undefined && study.trials.filter((t) => t.trial.state !== 'WAITING').length >= max) return undefined;
    return copy((this.claim(studyId) ?? this.create(studyId, {})).trial);
  }

  async setTrialParam(trialId: number, name: string, distribution: Distribution, value: ParamValue): Promise<void> {
    const { trial } = this.updatable(trialId);
    trial.params[name] = copy(value);
    trial.distributions[name] = copy(distribution);
  }

  async setTrialIntermediateValue(trialId: number, step: number, value: number): Promise<void> {
    if (!Number.isInteger(step) || step < 0) throw new DloptError(`a step is an integer ≥ 0, got ${step}`);
    this.updatable(trialId).trial.intermediate[step] = value;
  }

  async setTrialUserAttr(trialId: number, key: string, value: unknown): Promise<void> {
    this.updatable(trialId).trial.userAttrs[key] = copy(value);
  }

  async setTrialSystemAttr(trialId: number, key: string, value: unknown): Promise<void> {
    this.updatable(trialId).trial.systemAttrs[key] = copy(value);
  }

  async finishTrial(trialId: number, state: 'COMPLETE' | 'PRUNED' | 'FAIL', value: number | null): Promise<boolean> {
    if (state !== 'COMPLETE' && state !== 'PRUNED' && state !== 'FAIL') throw new DloptError(`a trial finishes COMPLETE, PRUNED or FAIL, not ${String(state)}`);
    if (state === 'COMPLETE' && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw new DloptError(`a COMPLETE trial needs a finite value, got ${String(value)}`);
    }
    const stored = this.stored(trialId);
    if (stored.trial.state !== 'RUNNING') return false;
    stored.trial.state = state;
    stored.trial.value = value;
    stored.trial.completedAt = Date.now();
    return true;
  }

  async getTrial(trialId: number): Promise<FrozenTrial> {
    return copy(this.stored(trialId).trial);
  }

  async getAllTrials(studyId: number, states?: readonly TrialState[]): Promise<FrozenTrial[]> {
    const trials = this.study(studyId).trials;
    return (states ? trials.filter((t) => states.includes(t.trial.state)) : trials).map((t) => copy(t.trial));
  }

  async recordHeartbeat(trialId: number): Promise<void> {
    const stored = this.stored(trialId);
    // A beat can arrive after the trial finished (a timer already in flight): nothing to keep alive then.
    if (stored.trial.state === 'RUNNING') stored.heartbeat = Date.now();
  }

  async failStaleTrials(studyId: number, graceMs: number): Promise<FrozenTrial[]> {
    const now = Date.now();
    const failed: FrozenTrial[] = [];
    for (const stored of this.study(studyId).trials) {
      const alive = stored.heartbeat ?? stored.trial.startedAt ?? now;
      if (stored.trial.state === 'RUNNING' && now - alive > graceMs) {
        stored.trial.state = 'FAIL';
        stored.trial.completedAt = now;
        failed.push(copy(stored.trial));
      }
    }
    return failed;
  }

  async close(): Promise<void> {}

  private create(studyId: number, template: NewTrial): StoredTrial {
    const study = this.study(studyId);
    const state = template.state ?? 'RUNNING';
    if (state !== 'WAITING' && state !== 'RUNNING') throw new DloptError(`a new trial is WAITING or RUNNING, not ${String(state)}`);
    const now = Date.now();
    const stored: StoredTrial = {
      studyId,
      heartbeat: state === 'RUNNING' ? now : null,
      trial: {
        id: this.nextTrialId++,
        number: study.trials.length,
        state,
        value: null,
        params: {},
        distributions: {},
        intermediate: {},
        userAttrs: copy(template.userAttrs ?? {}),
        systemAttrs: copy(template.systemAttrs ?? {}),
        startedAt: state === 'RUNNING' ? now : null,
        completedAt: null,
      },
    };
    study.trials.push(stored);
    this.trials.set(stored.trial.id, stored);
    return stored;
  }

  private claim(studyId: number): StoredTrial | undefined {
    const stored = this.study(studyId).trials.find((t) => t.trial.state === 'WAITING');
    if (!stored) return undefined;
    const now = Date.now();
    stored.trial.state = 'RUNNING';
    stored.trial.startedAt = now;
    stored.heartbeat = now;
    return stored;
  }

  private findStudy(name: string): { record: StudyRecord; trials: StoredTrial[] } | undefined {
    for (const study of this.studies.values()) if (study.record.name === name) return study;
    return undefined;
  }

  private study(studyId: number): { record: StudyRecord; trials: StoredTrial[] } {
    const study = this.studies.get(studyId);
    if (!study) throw new DloptError(`no study with id ${studyId} in this storage`);
    return study;
  }

  private stored(trialId: number): StoredTrial {
    const stored = this.trials.get(trialId);
    if (!stored) throw new DloptError(`no trial with id ${trialId} in this storage`);
    return stored;
  }

  /** Finished trials are final (as in Optuna): a late write from a worker whose trial was failed as stale must not change it. */
  private updatable(trialId: number): StoredTrial {
    const stored = this.stored(trialId);
    if (stored.trial.state !== 'RUNNING' && stored.trial.state !== 'WAITING') {
      throw new DloptError(`trial ${stored.trial.number} is already ${stored.trial.state} and cannot be changed`);
    }
    return stored;
  }
}

function copy<T>(value: T): T {
  return structuredClone(value);
}
