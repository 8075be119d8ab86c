import { fromInternal } from '../tune/distribution-utils.js';
import type { Distribution, ParamValue } from '../tune/distributions.js';
import type { Pruner, PruningContext } from '../tune/pruners/pruner.js';
import type { Sampler, SamplingContext } from '../tune/samplers/sampler.js';

/**
 * Uniform in internal space, from ctx.rng only: the tests of the study core
 * use it rather than the real samplers, so they check the core's plumbing
 * (streams, snapshots, fixed params) and not a sampler's statistics.
 */
export class UniformTestSampler implements Sampler {
  readonly name = 'uniform-test';
  calls: { name: string; trial: number; others: number[] }[] = [];

  constructor(readonly seed = 0) {}

  sampleIndependent(ctx: SamplingContext, name: string, distribution: Distribution): ParamValue {
    this.calls.push({ name, trial: ctx.trial.number, others: ctx.trials.map((t) => t.number) });
    if (distribution.type === 'categorical') return fromInternal(distribution, ctx.rng.next() * distribution.choices.length - 0.5);
    const lo = distribution.log ? Math.log(distribution.low) : distribution.low;
    const hi = distribution.log ? Math.log(distribution.high) : distribution.high;
    return fromInternal(distribution, lo + (hi - lo) * ctx.rng.next());
  }
}

/** Prunes whatever `decide` says, and keeps what it was shown. */
export class RecordingPruner implements Pruner {
  readonly name = 'recording';
  seen: PruningContext[] = [];

  constructor(private readonly decide: (ctx: PruningContext) => boolean = () => false) {}

  prune(ctx: PruningContext): boolean {
    this.seen.push(ctx);
    return this.decide(ctx);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
