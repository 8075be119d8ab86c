import { contains, intersectionSearchSpace, trialRandom } from '../tune/distribution-utils.js';
import type { Distribution, ParamValue } from '../tune/distributions.js';
import type { Sampler, SamplingContext } from '../tune/samplers/sampler.js';
import type { Direction, FrozenTrial } from '../tune/trial-state.js';

/**
 * A study in miniature, without storage or Trial: for sampler tests and
 * benchmarks that need many fast sequential trials. Proposes trial `number`
 * from `others` the way Trial does: the joint proposal over the completed
 * trials' common space first (kept only where it lies in that space), then
 * sampleIndependent for the rest, each from its own (seed, number, name) stream.
 */
export function proposeTrial(
  sampler: Sampler,
  others: readonly FrozenTrial[],
  number: number,
  space: Record<string, Distribution>,
  direction: Direction = 'minimize',
): FrozenTrial {
  const current: FrozenTrial = {
    id: number, number, state: 'RUNNING', value: null, params: {}, distributions: {},
    intermediate: {}, userAttrs: {}, systemAttrs: {}, startedAt: null, completedAt: null,
  };
  const ctx = (stream: string): SamplingContext => ({ direction, trials: others, trial: current, rng: trialRandom(sampler.seed, number, stream) });
  const relativeSpace = sampler.sampleRelative ? intersectionSearchSpace(others) : {};
  const proposal = sampler.sampleRelative && Object.keys(relativeSpace).length > 0 ? sampler.sampleRelative(ctx('#relative'), relativeSpace) : {};
  for (const [name, distribution] of Object.entries(space)) {
    const relative = proposal[name];
    const value =
      relative !== undefined && relativeSpace[name] !== undefined && contains(relativeSpace[name], relative)
        ? relative
        : sampler.sampleIndependent(ctx(name), name, distribution);
    if (!contains(distribution, value)) throw new Error(`${sampler.name} sampled ${name} = ${String(value)}, outside its distribution`);
    current.params[name] = value;
    current.distributions[name] = distribution;
  }
  return current;
}

/** `nTrials` sequential trials of `objective`, all COMPLETE, in number order. */
export function runSequentialStudy(
  sampler: Sampler,
  space: Record<string, Distribution>,
  objective: (params: Record<string, ParamValue>) => number,
  nTrials: number,
  direction: Direction = 'minimize',
): FrozenTrial[] {
  const trials: FrozenTrial[] = [];
  for (let number = 0; number < nTrials; number++) {
    const current = proposeTrial(sampler, trials.slice(), number, space, direction);
    trials.push({ ...current, state: 'COMPLETE', value: objective(current.params) });
  }
  return trials;
}
