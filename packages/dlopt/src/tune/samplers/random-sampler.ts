import type { Distribution, ParamValue } from '../distributions.js';
import type { Sampler, SamplingContext } from './sampler.js';
import { checkSeed, paramSpace, sampleUniform } from './space.js';

export interface RandomSamplerOptions {
  /** Recorded in `seed`; without it one is drawn at construction, so a run can still be repeated. */
  seed?: number;
}

/**
 * Independent uniform draws in internal space: uniform for floats,
 * log-uniform with `log`, every grid value equally likely for ints and
 * stepped floats, every choice equally likely for categoricals.
 *
 * Only `ctx.rng` is used, which the study derives from (seed, trial number,
 * parameter name): a trial gets the same values whichever worker runs it.
 */
export class RandomSampler implements Sampler {
  readonly name = 'random';
  readonly seed: number;

  constructor(options: RandomSamplerOptions = {}) {
    this.seed = checkSeed(options.seed, 'RandomSampler');
  }

  sampleIndependent(ctx: SamplingContext, _name: string, distribution: Distribution): ParamValue {
    return sampleUniform(paramSpace(distribution), ctx.rng);
  }
}
