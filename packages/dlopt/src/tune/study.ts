import { DloptError, UsageError, describeError } from '../errors.js';
import { isParamValue, validateDistribution } from './distribution-utils.js';
import type { Distribution, ParamValue } from './distributions.js';
import type { Pruner } from './pruners/pruner.js';
import { RandomSampler } from './samplers/random-sampler.js';
import type { Sampler } from './samplers/sampler.js';
import { InMemoryStorage } from './storages/in-memory-storage.js';
import { openStorage } from './storages/open-storage.js';
import type { StudyStorage } from './storages/storage.js';
import { Trial, type TrialHost } from './trial.js';
import { TrialPruned } from './trial-pruned.js';
import type { Direction, FrozenTrial, TrialState } from './trial-state.js';

export type Objective = (trial: Trial) => number | Promise<number>;

/** Called after each trial `optimize` finishes (not for an error that stops it); may call `study.stop()`. */
export type StudyCallback = (study: Study, trial: FrozenTrial) => void | Promise<void>;

export type ErrorClass = abstract new (...args: never[]) => Error;

export interface OptimizeOptions {
  /** How many trials this call runs (enqueued ones included); unlimited when absent. */
  nTrials?: number;
  /**
   * The study's total, all workers together: no trial starts once the study
   * has this many (every state but WAITING counts). The storage decides it as
   * it starts the trial, so workers sharing the study never start more.
   */
  totalTrials?: number;
  /** Seconds after which no new trial starts (a running one finishes). */
  timeout?: number;
  /** Errors the objective may throw without stopping the study: `true` for any, or these classes. The trial is FAIL either way. */
  catch?: true | readonly ErrorClass[];
  callbacks?: readonly StudyCallback[];
  /**
   * Liveness: every heartbeatMs while a trial runs (and at each report) this
   * worker says it is alive, and before each trial RUNNING trials silent for
   * more than graceMs (default 2 × heartbeatMs) are failed: their worker died.
   * Timers need the event loop: an objective that blocks it for longer than
   * graceMs (a long synchronous step) should report more often or use a
   * larger graceMs.
   */
  heartbeatMs?: number;
  graceMs?: number;
  /** With heartbeats: re-enqueue a trial failed as stale with the same params, at most this many times. */
  retryStale?: number;
}

export interface CreateStudyOptions {
  /** Default 'minimize'; when loading an existing study, its own. */
  direction?: Direction;
  /** Default: a RandomSampler with a random seed. */
  sampler?: Sampler;
  pruner?: Pruner;
  /** A storage object or URL: 'memory' (the default), 'sqlite:PATH', 'postgresql://user@host/db'. */
  storage?: StudyStorage | string;
  /** Default: a unique generated name. */
  name?: string;
  /** Join the study of that name if it exists (its direction must match) instead of failing. */
  loadIfExists?: boolean;
}

export interface LoadStudyOptions {
  name: string;
  storage: StudyStorage | string;
  sampler?: Sampler;
  pruner?: Pruner;
}

export async function createStudy(options: CreateStudyOptions = {}): Promise<Study> {
  if (options.direction !== undefined) checkDirection(options.direction);
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw new UsageError('a study name must be a non-empty string');
  }
  const name = options.name ?? `study-${globalThis.crypto.randomUUID()}`;
  const { storage, owned } = await resolveStorage(options.storage);
  const loadIfExists = options.loadIfExists ?? false;
  const direction = options.direction ?? (loadIfExists ? (await storage.getStudy(name))?.direction : undefined) ?? 'minimize';
  const record = await storage.createStudy(name, direction, { loadIfExists });
  const study = new Study({ storage, ownsStorage: owned, studyId: record.id, name, direction: record.direction, sampler: options.sampler, pruner: options.pruner });
  await study.getTrials();
  return study;
}

/** An existing study (with its own direction), e.g. to show it or to join it as another worker. */
export async function loadStudy(options: LoadStudyOptions): Promise<Study> {
  const { storage, owned } = await resolveStorage(options.storage);
  const record = await storage.getStudy(options.name);
  if (!record) {
    const names = (await storage.listStudies()).map((s) => s.name);
    if (owned) await storage.close();
    throw new UsageError(`no study named '${options.name}' in this storage${names.length ? ` (it has ${names.map((n) => `'${n}'`).join(', ')})` : ' (it has none)'}`);
  }
  const study = new Study({ storage, ownsStorage: owned, studyId: record.id, name: record.name, direction: record.direction, sampler: options.sampler, pruner: options.pruner });
  await study.getTrials();
  return study;
}

interface StudySetup {
  storage: StudyStorage;
  ownsStorage: boolean;
  studyId: number;
  name: string;
  direction: Direction;
  sampler: Sampler | undefined;
  pruner: Pruner | undefined;
}

interface Outcome {
  state: 'COMPLETE' | 'PRUNED' | 'FAIL';
  value: number | null;
  failReason?: string;
}

/**
 * One optimization (Optuna's Study): a name in a storage, a direction, and
 * this process's sampler and pruner. All state is in the storage, so any
 * number of Study objects (concurrent `optimize` calls, processes, machines)
 * can work on the same study. Made by createStudy / loadStudy.
 */
export class Study {
  readonly name: string;
  readonly direction: Direction;
  readonly id: number;
  readonly storage: StudyStorage;
  readonly sampler: Sampler;
  readonly pruner: Pruner | undefined;

  private readonly ownsStorage: boolean;
  private snapshot: FrozenTrial[] = [];
  private readsStarted = 0;
  private readsApplied = 0;
  /** Trials handed out by ask and not told yet, by number: tell flushes their writes. */
  private readonly asked = new Map<number, Trial>();
  private readonly own = new WeakSet<Trial>();
  private stopRequested = false;
  private optimizing = 0;

  /** @internal Use createStudy or loadStudy. */
  constructor(setup: StudySetup) {
    this.storage = setup.storage;
    this.ownsStorage = setup.ownsStorage;
    this.id = setup.studyId;
    this.name = setup.name;
    this.direction = setup.direction;
    if (setup.sampler !== undefined && typeof (setup.sampler as Partial<Sampler>).sampleIndependent !== 'function') {
      throw new UsageError('sampler must be a Sampler (an object with sampleIndependent)');
    }
    if (setup.pruner !== undefined && typeof (setup.pruner as Partial<Pruner>).prune !== 'function') {
      throw new UsageError('pruner must be a Pruner (an object with prune)');
    }
    this.sampler = setup.sampler ?? new RandomSampler({});
    this.pruner = setup.pruner;
  }

  /** The study's trials as of this object's last operation (see getTrials for a fresh read). */
  get trials(): readonly FrozenTrial[] {
    return this.snapshot;
  }

  /** The best COMPLETE trial (the lowest number among ties), as of the last operation. */
  get bestTrial(): FrozenTrial {
    return this.best(this.snapshot);
  }

  get bestValue(): number {
    return this.bestTrial.value!;
  }

  get bestParams(): Record<string, ParamValue> {
    return { ...this.bestTrial.params };
  }

  /** The best trial from a fresh read of the storage (other workers' trials included). */
  async getBestTrial(): Promise<FrozenTrial> {
    return this.best(await this.getTrials());
  }

  /** A fresh read of the study's trials, in number order. */
  async getTrials(states?: readonly TrialState[]): Promise<FrozenTrial[]> {
    const all = await this.refresh();
    return states ? all.filter((t) => states.includes(t.state)) : all;
  }

  /** Ends the running `optimize` calls of this object after their current trials. */
  stop(): void {
    if (this.optimizing > 0) this.stopRequested = true;
  }

  /** Runs trials until nTrials, totalTrials, the timeout or stop() ends it; the number of trials it started. */
  async optimize(objective: Objective, options: OptimizeOptions = {}): Promise<number> {
    if (typeof objective !== 'function') throw new UsageError('optimize needs an objective function');
    const { nTrials, totalTrials, timeout, heartbeatMs } = options;
    if (nTrials !== undefined && (!Number.isInteger(nTrials) || nTrials < 0)) throw new UsageError(`nTrials must be an integer ≥ 0, got ${nTrials}`);
    if (totalTrials !== undefined && (!Number.isInteger(totalTrials) || totalTrials < 0)) {
      throw new UsageError(`totalTrials must be an integer ≥ 0, got ${totalTrials}`);
    }
    if (timeout !== undefined && !(timeout > 0 && Number.isFinite(timeout))) throw new UsageError(`timeout must be a number of seconds > 0, got ${timeout}`);
    if (heartbeatMs !== undefined && !(heartbeatMs > 0 && Number.isFinite(heartbeatMs))) throw new UsageError(`heartbeatMs must be > 0, got ${heartbeatMs}`);
    if (heartbeatMs === undefined && (options.graceMs !== undefined || options.retryStale !== undefined)) {
      throw new UsageError('graceMs and retryStale need heartbeatMs: without heartbeats a long trial cannot be told from a dead one');
    }
    const graceMs = options.graceMs ?? (heartbeatMs ?? 0) * 2;
    if (heartbeatMs !== undefined && !(graceMs > heartbeatMs)) {
      throw new UsageError(`graceMs (${graceMs}) must be greater than heartbeatMs (${heartbeatMs}), or live trials would be failed`);
    }
    const retryStale = options.retryStale ?? 0;
    if (!Number.isInteger(retryStale) || retryStale < 0) throw new UsageError(`retryStale must be an integer ≥ 0, got ${retryStale}`);

    const started = Date.now();
    let done = 0;
    this.optimizing++;
    try {
      for (; nTrials === undefined || done < nTrials; done++) {
        if (this.stopRequested) break;
        if (timeout !== undefined && Date.now() - started >= timeout * 1000) break;
        if (heartbeatMs !== undefined) await this.failStale(graceMs, retryStale);
        const trial = await this.startTrial(heartbeatMs !== undefined, totalTrials);
        if (!trial) break;
        const frozen = await this.runTrial(trial, objective, options, heartbeatMs);
        if (frozen) for (const callback of options.callbacks ?? []) await callback(this, frozen);
      }
    } finally {
      if (--this.optimizing === 0) this.stopRequested = false;
    }
    return done;
  }

  /**
   * A new trial (an enqueued one first) for code that runs the objective
   * itself; `fixedDistributions` are suggested at once. Finish it with tell.
   */
  async ask(fixedDistributions: Readonly<Record<string, Distribution>> = {}): Promise<Trial> {
    for (const [name, distribution] of Object.entries(fixedDistributions)) validateDistribution(name, distribution);
    const trial = (await this.startTrial(false))!;
    try {
      for (const [name, distribution] of Object.entries(fixedDistributions)) trial.suggest(name, distribution);
    } catch (error) {
      await this.finish(trial, { state: 'FAIL', value: null, failReason: describeError(error) });
      throw error;
    }
    this.asked.set(trial.number, trial);
    await this.refresh();
    return trial;
  }

  /**
   * Finishes a trial from ask: a finite number completes it, NaN or ±Infinity
   * fails it, 'PRUNED' keeps its last reported value.
   */
  async tell(trialOrNumber: Trial | number, valueOrState: number | 'PRUNED' | 'FAIL'): Promise<FrozenTrial> {
    if (typeof valueOrState !== 'number' && valueOrState !== 'PRUNED' && valueOrState !== 'FAIL') {
      throw new UsageError(`tell takes a number, 'PRUNED' or 'FAIL', got ${JSON.stringify(valueOrState)}`);
    }
    let trial: Trial | undefined;
    let trialId: number;
    if (trialOrNumber instanceof Trial) {
      if (!this.own.has(trialOrNumber)) throw new UsageError(`trial ${trialOrNumber.number} belongs to another study`);
      trial = trialOrNumber;
      trialId = trial.id;
    } else {
      if (!Number.isInteger(trialOrNumber)) throw new UsageError(`tell takes a trial or a trial number, got ${String(trialOrNumber)}`);
      trial = this.asked.get(trialOrNumber);
      const found = trial ? undefined : (await this.storage.getAllTrials(this.id)).find((t) => t.number === trialOrNumber);
      if (!trial && !found) throw new UsageError(`study '${this.name}' has no trial ${trialOrNumber}`);
      trialId = trial?.id ?? found!.id;
    }
    let writeError: { error: unknown } | undefined;
    let outcome: Outcome;
    if (trial) {
      await trial.settle();
      writeError = trial.writeError;
    }
    if (writeError) outcome = { state: 'FAIL', value: null, failReason: describeError(writeError.error) };
    else if (valueOrState === 'FAIL') outcome = { state: 'FAIL', value: null };
    else if (valueOrState === 'PRUNED') {
      outcome = { state: 'PRUNED', value: prunedValue(trial ? trial.lastReportedValue() : lastValue(await this.storage.getTrial(trialId))) };
    }
    else outcome = valueOutcome(valueOrState);

    const finished = trial ? await this.finish(trial, outcome) : await this.finishById(trialId, outcome);
    const frozen = await this.storage.getTrial(trialId);
    await this.refresh();
    if (!finished) throw new UsageError(`trial ${frozen.number} is already ${frozen.state}`);
    if (writeError) throw writeError.error;
    return frozen;
  }

  /** A WAITING trial whose suggestions return these values (when inside the distribution asked for): the next trial any worker starts. */
  async enqueueTrial(params: Readonly<Record<string, ParamValue>>, options: { userAttrs?: Record<string, unknown> } = {}): Promise<FrozenTrial> {
    if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new UsageError('enqueueTrial needs an object of parameter values');
    for (const [name, value] of Object.entries(params)) {
      if (!isParamValue(value)) throw new UsageError(`enqueued parameter '${name}' must be a finite number, string, boolean or null, got ${String(value)}`);
    }
    const trial = await this.storage.createTrial(this.id, {
      state: 'WAITING',
      userAttrs: options.userAttrs ?? {},
      systemAttrs: { fixedParams: { ...params } },
    });
    await this.refresh();
    return trial;
  }

  /** Closes the storage if this study opened it (from a URL or by default); a storage passed in stays open. */
  async close(): Promise<void> {
    if (this.ownsStorage) await this.storage.close();
  }

  private host(heartbeatOnReport: boolean): TrialHost {
    return { storage: this.storage, studyId: this.id, studyName: this.name, direction: this.direction, sampler: this.sampler, pruner: this.pruner, heartbeatOnReport };
  }

  /** The next trial (an enqueued one first); undefined when the study has its `maxStarted` trials. */
  private async startTrial(heartbeatOnReport: boolean, maxStarted?: number): Promise<Trial | undefined> {
    const frozen = await this.storage.startTrial(this.id, maxStarted === undefined ? {} : { maxStarted });
    if (!frozen) return undefined;
    try {
      const all = await this.storage.getAllTrials(this.id);
      const trial = new Trial(this.host(heartbeatOnReport), frozen, all.filter((t) => t.id !== frozen.id));
      this.own.add(trial);
      return trial;
    } catch (error) {
      // The trial exists and is RUNNING: leaving it so would make it a zombie.
      await this.finishById(frozen.id, { state: 'FAIL', value: null, failReason: describeError(error) }).catch(() => false);
      throw error;
    }
  }

  /** One trial of optimize; its final record, or undefined when another worker finished it first (failed as stale). */
  private async runTrial(trial: Trial, objective: Objective, options: OptimizeOptions, heartbeatMs: number | undefined): Promise<FrozenTrial | undefined> {
    let timer: NodeJS.Timeout | undefined;
    if (heartbeatMs !== undefined) {
      timer = setInterval(() => void this.storage.recordHeartbeat(trial.id).catch(() => {}), heartbeatMs);
      timer.unref();
    }
    let outcome: Outcome;
    let thrown: { error: unknown } | undefined;
    try {
      const value: unknown = await objective(trial);
      await trial.settle();
      if (trial.writeError) throw trial.writeError.error;
      outcome = valueOutcome(value);
    } catch (error) {
      await trial.settle();
      if (error instanceof TrialPruned) outcome = { state: 'PRUNED', value: prunedValue(trial.lastReportedValue()) };
      else {
        outcome = { state: 'FAIL', value: null, failReason: describeError(error) };
        thrown = { error };
      }
    } finally {
      clearInterval(timer);
    }
    const finished = await this.finish(trial, outcome);
    const frozen = await this.storage.getTrial(trial.id);
    await this.refresh();
    // Not finished here means another worker failed it as stale: its fate is decided, and the error likely came from that.
    if (!finished) return undefined;
    if (thrown && !catches(options.catch, thrown.error)) throw thrown.error;
    return frozen;
  }

  private async finish(trial: Trial, outcome: Outcome): Promise<boolean> {
    trial.markFinished();
    this.asked.delete(trial.number);
    return this.finishById(trial.id, outcome);
  }

  private async finishById(trialId: number, outcome: Outcome): Promise<boolean> {
    if (outcome.failReason !== undefined) {
      // Before finishing: a finished trial takes no attributes. It fails when the trial is no longer ours, which finishTrial then says.
      await this.storage.setTrialSystemAttr(trialId, 'failReason', outcome.failReason).catch(() => {});
    }
    return this.storage.finishTrial(trialId, outcome.state, outcome.value);
  }

  private async failStale(graceMs: number, retryStale: number): Promise<void> {
    const stale = await this.storage.failStaleTrials(this.id, graceMs);
    for (const trial of stale) {
      const retries = typeof trial.systemAttrs.retries === 'number' ? trial.systemAttrs.retries : 0;
      if (retries >= retryStale) continue;
      await this.storage.createTrial(this.id, {
        state: 'WAITING',
        userAttrs: trial.userAttrs,
        systemAttrs: { fixedParams: trial.params, retryOf: trial.systemAttrs.retryOf ?? trial.number, retries: retries + 1 },
      });
    }
  }

  private async refresh(): Promise<FrozenTrial[]> {
    // Concurrent reads can resolve out of order: keep the one started last.
    const read = ++this.readsStarted;
    const all = await this.storage.getAllTrials(this.id);
    if (read > this.readsApplied) {
      this.readsApplied = read;
      this.snapshot = all;
    }
    return all;
  }

  private best(trials: readonly FrozenTrial[]): FrozenTrial {
    let best: FrozenTrial | undefined;
    for (const t of trials) {
      if (t.state !== 'COMPLETE' || t.value === null) continue;
      if (!best || (this.direction === 'minimize' ? t.value < best.value! : t.value > best.value!)) best = t;
    }
    if (best) return best;
    const failed = trials.filter((t) => t.state === 'FAIL');
    const reason = failed.map((t) => t.systemAttrs.failReason).findLast((r) => typeof r === 'string');
    throw new DloptError(
      `study '${this.name}' has no completed trial yet (${trials.length} trial${trials.length === 1 ? '' : 's'}` +
        `${failed.length ? `, ${failed.length} failed${reason ? `; last failure: ${String(reason)}` : ''}` : ''})`,
    );
  }
}

async function resolveStorage(storage: StudyStorage | string | undefined): Promise<{ storage: StudyStorage; owned: boolean }> {
  if (storage === undefined) return { storage: new InMemoryStorage(), owned: true };
  if (typeof storage === 'string') return { storage: await openStorage(storage), owned: true };
  if (storage === null || typeof storage !== 'object' || typeof storage.createTrial !== 'function') {
    throw new UsageError('storage must be a StudyStorage object or a URL string');
  }
  return { storage, owned: false };
}

function checkDirection(direction: unknown): void {
  if (direction !== 'minimize' && direction !== 'maximize') throw new UsageError(`direction must be 'minimize' or 'maximize', got ${JSON.stringify(direction)}`);
}

/** NaN, ±Infinity and non-numbers fail the trial (they would poison every sampler's model) rather than stop the study, as in Optuna. */
function valueOutcome(value: unknown): Outcome {
  if (typeof value === 'number' && Number.isFinite(value)) return { state: 'COMPLETE', value };
  const what = typeof value === 'number' ? String(value) : `${value === null ? 'null' : typeof value}, not a number`;
  return { state: 'FAIL', value: null, failReason: `the objective returned ${what}` };
}

function lastValue(trial: FrozenTrial): number | null {
  const steps = Object.keys(trial.intermediate).map(Number);
  return steps.length ? trial.intermediate[Math.max(...steps)]! : null;
}

/** A pruned trial keeps its last report as its value, unless that is NaN or infinite (values are finite or null). */
function prunedValue(value: number | null): number | null {
  return value !== null && Number.isFinite(value) ? value : null;
}

function catches(option: OptimizeOptions['catch'], error: unknown): boolean {
  if (option === true) return true;
  return (option ?? []).some((cls) => error instanceof cls);
}
