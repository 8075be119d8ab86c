import type { Random } from '../../util/random.js';
import type { Distribution, ParamValue } from '../distributions.js';
import type { Direction, FrozenTrial } from '../trial-state.js';

/** What a sampler sees when it samples for one trial. */
export interface SamplingContext {
  direction: Direction;
  /**
   * Every trial of the study when this trial started (RUNNING ones included,
   * this one excluded): a snapshot, so sampling does not depend on what other
   * workers finish meanwhile.
   */
  trials: readonly FrozenTrial[];
  /** The trial being sampled (its number, and the params it has so far). */
  trial: FrozenTrial;
  /**
   * A random stream for this trial and this call only, derived from the
   * sampler's seed, the trial number and the parameter name (or '#relative'):
   * a trial samples the same values whichever worker runs it, so parallel
   * studies are reproducible from the seed.
   */
  rng: Random;
}

/**
 * Proposes parameter values (Optuna's BaseSampler, in small). Stateless apart
 * from its seed: every decision is rebuilt from `ctx.trials`, so any worker
 * can sample for any trial.
 */
export interface Sampler {
  readonly name: string;
  readonly seed: number;
  /** One parameter, on its own. Must return a value inside `distribution`. */
  sampleIndependent(ctx: SamplingContext, name: string, distribution: Distribution): ParamValue;
  /**
   * Samplers that model parameters jointly (GP, evolution): the values for
   * `space` (the parameters every completed trial has, with the same
   * distributions), proposed once when the trial starts. Parameters outside
   * it, or a missing result, fall back to sampleIndependent.
   */
  sampleRelative?(ctx: SamplingContext, space: Readonly<Record<string, Distribution>>): Record<string, ParamValue>;
}
