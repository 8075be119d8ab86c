import { UsageError } from '../errors.js';
import {
  contains,
  describeDistribution,
  intersectionSearchSpace,
  sameDistribution,
  trialRandom,
  validateDistribution,
} from './distribution-utils.js';
import type { CategoricalDistribution, Distribution, FloatDistribution, IntDistribution, ParamValue } from './distributions.js';
import type { Pruner } from './pruners/pruner.js';
import type { Sampler, SamplingContext } from './samplers/sampler.js';
import type { StudyStorage } from './storages/storage.js';
import type { Direction, FrozenTrial } from './trial-state.js';

/** What a trial needs from its study. */
export interface TrialHost {
  readonly storage: StudyStorage;
  readonly studyId: number;
  readonly studyName: string;
  readonly direction: Direction;
  readonly sampler: Sampler;
  readonly pruner: Pruner | undefined;
  /** Each report also counts as a heartbeat (set by optimize when heartbeats are on). */
  readonly heartbeatOnReport?: boolean;
}

export interface SuggestNumberOptions {
  log?: boolean;
  step?: number;
}

/**
 * One evaluation of the objective, as the objective sees it (Optuna's Trial).
 * Suggestions are synchronous: values are decided and kept here at once, and
 * the storage writes follow in order through a queue whose errors surface at
 * the next `report`, `flush` or when the study finishes the trial.
 *
 * Created by a Study (`optimize`, `ask`), not by user code.
 */
export class Trial {
  readonly id: number;
  readonly number: number;
  readonly startedAt: number | null;

  private readonly host: TrialHost;
  private readonly values: Record<string, ParamValue>;
  private readonly dists: Record<string, Distribution>;
  private readonly intermediate: Record<number, number>;
  private readonly user: Record<string, unknown>;
  private readonly system: Record<string, unknown>;
  private readonly fixed: Record<string, unknown>;
  /** The other trials when this one started: what samplers see, whatever finishes meanwhile. */
  private readonly samplingTrials: readonly FrozenTrial[];
  /** The other trials as last read: what the pruner sees, refreshed after each report. */
  private pruningTrials: readonly FrozenTrial[];
  private readonly relative = new Map<string, { distribution: Distribution; value: ParamValue }>();

  private writes: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private finished = false;

  constructor(host: TrialHost, trial: FrozenTrial, others: readonly FrozenTrial[]) {
    this.host = host;
    this.id = trial.id;
    this.number = trial.number;
    this.startedAt = trial.startedAt;
    this.values = { ...trial.params };
    this.dists = { ...trial.distributions };
    this.intermediate = { ...trial.intermediate };
    this.user = { ...trial.userAttrs };
    this.system = { ...trial.systemAttrs };
    const fixed = trial.systemAttrs.fixedParams;
    this.fixed = fixed !== null && typeof fixed === 'object' && !Array.isArray(fixed) ? (fixed as Record<string, unknown>) : {};
    this.samplingTrials = others;
    this.pruningTrials = others;

    const { sampler } = host;
    if (sampler.sampleRelative) {
      const space = intersectionSearchSpace(others);
      if (Object.keys(space).length > 0) {
        const proposal = sampler.sampleRelative(this.samplingContext('#relative'), space);
        for (const [name, distribution] of Object.entries(space)) {
          const value = proposal[name];
          // A value outside the space is dropped: sampleIndependent covers it (the contract of sampleRelative).
          if (value !== undefined && contains(distribution, value)) this.relative.set(name, { distribution, value });
        }
      }
    }
  }

  /** The parameters suggested so far. */
  get params(): Readonly<Record<string, ParamValue>> {
    return { ...this.values };
  }

  get distributions(): Readonly<Record<string, Distribution>> {
    return { ...this.dists };
  }

  get intermediateValues(): Readonly<Record<number, number>> {
    return { ...this.intermediate };
  }

  get userAttrs(): Readonly<Record<string, unknown>> {
    return { ...this.user };
  }

  get systemAttrs(): Readonly<Record<string, unknown>> {
    return { ...this.system };
  }

  suggestFloat(name: string, low: number, high: number, options: SuggestNumberOptions = {}): number {
    const distribution: FloatDistribution = { type: 'float', low, high, log: options.log ?? false };
    if (options.step !== undefined) distribution.step = options.step;
    return this.suggest(name, distribution) as number;
  }

  suggestInt(name: string, low: number, high: number, options: SuggestNumberOptions = {}): number {
    const distribution: IntDistribution = { type: 'int', low, high, log: options.log ?? false, step: options.step ?? 1 };
    return this.suggest(name, distribution) as number;
  }

  suggestCategorical<T extends ParamValue>(name: string, choices: readonly T[]): T {
    const distribution: CategoricalDistribution = { type: 'categorical', choices: [...choices] };
    return this.suggest(name, distribution) as T;
  }

  /**
   * A value for `name` from `distribution`, in this order: the value already
   * suggested in this trial (same distribution required), the value enqueued
   * for it, the sampler's joint proposal made when the trial started, the
   * sampler's proposal for this parameter alone.
   */
  suggest(name: string, distribution: Distribution): ParamValue {
    this.checkOpen();
    // '__proto__' would set the prototype of the plain objects params live in.
    if (typeof name !== 'string' || name === '' || name === '__proto__') throw new UsageError(`invalid parameter name ${JSON.stringify(name)}`);
    validateDistribution(name, distribution);
    const previous = this.dists[name];
    if (previous !== undefined) {
      if (!sameDistribution(previous, distribution)) {
        throw new UsageError(
          `parameter '${name}' was suggested in trial ${this.number} as ${describeDistribution(previous)}, now as ${describeDistribution(distribution)}: one name, one distribution`,
        );
      }
      return this.values[name]!;
    }
    let value: ParamValue;
    const fixed = this.fixed[name];
    const relative = this.relative.get(name);
    if (fixed !== undefined && contains(distribution, fixed)) value = fixed as ParamValue;
    else if (relative !== undefined && sameDistribution(relative.distribution, distribution)) value = relative.value;
    else {
      value = this.host.sampler.sampleIndependent(this.samplingContext(name), name, distribution);
      if (!contains(distribution, value)) {
        throw new Error(`sampler ${this.host.sampler.name} returned ${JSON.stringify(value)} for '${name}', outside ${describeDistribution(distribution)}`);
      }
    }
    const stored = structuredClone(distribution);
    this.values[name] = value;
    this.dists[name] = stored;
    this.write(() => this.host.storage.setTrialParam(this.id, name, stored, value));
    return value;
  }

  /**
   * The objective's value after `step` (an epoch, say), for the pruner. The
   * first report of a step counts; later ones for the same step are ignored,
   * as in Optuna. NaN is allowed (pruners treat it as hopeless).
   */
  report(value: number, step: number): void {
    this.checkOpen();
    this.throwIfWriteFailed();
    if (typeof value !== 'number') throw new UsageError(`trial.report needs a number, got ${typeof value}`);
    if (!Number.isInteger(step) || step < 0) throw new UsageError(`trial.report needs an integer step ≥ 0, got ${step}`);
    if (step in this.intermediate) return;
    this.intermediate[step] = value;
    this.write(() => this.host.storage.setTrialIntermediateValue(this.id, step, value));
    if (this.host.heartbeatOnReport) this.write(() => this.host.storage.recordHeartbeat(this.id));
    this.refreshPruningTrials();
  }

  /**
   * Whether the pruner would stop this trial now, from the values reported so
   * far and the other trials as last read (a report starts a fresh read in
   * the background; `await trial.flush()` first to wait for it).
   */
  shouldPrune(): boolean {
    const pruner = this.host.pruner;
    if (!pruner) return false;
    return pruner.prune({ direction: this.host.direction, studyName: this.host.studyName, trials: this.pruningTrials, trial: this.frozen() });
  }

  setUserAttr(key: string, value: unknown): void {
    this.checkOpen();
    const stored = structuredClone(value);
    this.user[key] = stored;
    this.write(() => this.host.storage.setTrialUserAttr(this.id, key, stored));
  }

  /** Waits until every write so far is stored (and the pruner's view is fresh); throws the first write error. */
  async flush(): Promise<void> {
    await this.settle();
    this.throwIfWriteFailed();
  }

  /** This trial as a snapshot (state RUNNING while the objective runs). */
  frozen(): FrozenTrial {
    return {
      id: this.id,
      number: this.number,
      state: 'RUNNING',
      value: null,
      params: { ...this.values },
      distributions: { ...this.dists },
      intermediate: { ...this.intermediate },
      userAttrs: { ...this.user },
      systemAttrs: { ...this.system },
      startedAt: this.startedAt,
      completedAt: null,
    };
  }

  /** @internal Waits for pending writes and reads, never throws (the study decides what a failure means). */
  async settle(): Promise<void> {
    await this.writes;
    while (this.refreshing) await this.refreshing;
  }

  /** @internal The first write error, if any. */
  get writeError(): { error: unknown } | undefined {
    return this.failure;
  }

  /** @internal The study finished this trial: suggestions and reports are over. */
  markFinished(): void {
    this.finished = true;
  }

  /** The value a pruned trial keeps: the one reported at its last step, or null. */
  lastReportedValue(): number | null {
    const steps = Object.keys(this.intermediate).map(Number);
    if (steps.length === 0) return null;
    return this.intermediate[Math.max(...steps)]!;
  }

  private samplingContext(stream: string): SamplingContext {
    return {
      direction: this.host.direction,
      trials: this.samplingTrials,
      trial: this.frozen(),
      rng: trialRandom(this.host.sampler.seed, this.number, stream),
    };
  }

  private write(operation: () => Promise<void>): void {
    // Chained, never rejected: writes stay in order, and after the first error the rest are skipped.
    this.writes = this.writes.then(async () => {
      if (this.failure) return;
      try {
        await operation();
      } catch (error) {
        this.failure = { error };
      }
    });
  }

  private refreshPruningTrials(): void {
    if (!this.host.pruner) return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          const all = await this.host.storage.getAllTrials(this.host.studyId);
          this.pruningTrials = all.filter((t) => t.id !== this.id);
        } catch {
          // Pruning on a slightly older view is harmless; a broken storage surfaces through the writes.
        }
      } while (this.refreshAgain && !this.finished);
      this.refreshing = undefined;
    })();
  }

  private throwIfWriteFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  private checkOpen(): void {
    if (this.finished) throw new UsageError(`trial ${this.number} has finished: it takes no more suggestions, reports or attributes`);
  }
}
