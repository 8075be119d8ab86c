import { DloptError } from '../../errors.js';
import type { Random } from '../../util/random.js';
import type { Distribution, ParamValue } from '../distributions.js';
import type { Direction, FrozenTrial } from '../trial-state.js';
import { UnitSpace } from './gp-sampler.js';
import type { Sampler, SamplingContext } from './sampler.js';
import { checkSeed, paramSpace, sampleUniform } from './space.js';

export interface EvolutionSamplerOptions {
  /** Seed of the study's random streams (random when omitted). */
  seed?: number;
  /** P: the population is the last P completed trials (Real et al. and NNI: 100). */
  populationSize?: number;
  /** S: tournament size, drawn with replacement from the population (NNI: 25). */
  sampleSize?: number;
  /** Chance that each parameter of the child mutates (default 1/number of mutable parameters); at least one always does. */
  mutationProbability?: number;
}

/**
 * Numeric mutations are Gaussian steps of this standard deviation in the
 * unit space (log space for log parameters), 15% of the range: local enough
 * to refine a good parent, wide enough to cross a few grid steps.
 */
const MUTATION_SIGMA = 0.15;

/**
 * Occasionally a numeric parameter is redrawn uniformly instead: a Gaussian
 * step alone would need many generations to leave a basin that the
 * random first population happened to miss.
 */
const RESAMPLE_PROBABILITY = 0.1;

/**
 * Regularized (aging) evolution, Real et al. 2019 ("Regularized Evolution for
 * Image Classifier Architecture Search"). The population is the last P
 * COMPLETE trials by number, so the oldest dies as each child completes
 * (ageing, not the worst: a configuration survives only while its
 * descendants keep being found good, which resists lucky noisy
 * evaluations). Each new trial is a mutated copy of the best of S members
 * drawn with replacement. Until P trials have completed, parameters are
 * drawn at random (the initial population).
 *
 * Stateless: the population is rebuilt from ctx.trials and every random
 * decision comes from ctx.rng, so any worker proposes the same child for the
 * same trial number and the same history. Running trials are not part of the
 * population (they have no value yet), so parallel workers breed from the
 * same population with different streams.
 */
export class EvolutionSampler implements Sampler {
  readonly name = 'evolution';
  readonly seed: number;
  readonly populationSize: number;
  readonly sampleSize: number;
  readonly mutationProbability: number | undefined;

  constructor(options: EvolutionSamplerOptions = {}) {
    const { populationSize = 100, sampleSize = 25, mutationProbability } = options;
    if (!Number.isInteger(populationSize) || populationSize < 1) {
      throw new DloptError(`EvolutionSampler: populationSize must be an integer ≥ 1, got ${populationSize}`);
    }
    if (!Number.isInteger(sampleSize) || sampleSize < 1) {
      throw new DloptError(`EvolutionSampler: sampleSize must be an integer ≥ 1, got ${sampleSize}`);
    }
    if (mutationProbability !== undefined && !(mutationProbability >= 0 && mutationProbability <= 1)) {
      throw new DloptError(`EvolutionSampler: mutationProbability must be in [0, 1], got ${mutationProbability}`);
    }
    this.seed = checkSeed(options.seed, 'EvolutionSampler');
    this.populationSize = populationSize;
    this.sampleSize = sampleSize;
    this.mutationProbability = mutationProbability;
  }

  sampleIndependent(ctx: SamplingContext, _name: string, distribution: Distribution): ParamValue {
    return sampleUniform(paramSpace(distribution), ctx.rng);
  }

  sampleRelative(ctx: SamplingContext, space: Readonly<Record<string, Distribution>>): Record<string, ParamValue> {
    const unit = new UnitSpace(space);
    const population = this.population(ctx.trials, unit);
    if (population.length < this.populationSize) return {};
    const parent = tournament(population, this.sampleSize, ctx.direction, ctx.rng);
    return mutate(parent, unit, this.mutationProbability, ctx.rng);
  }

  /** The last P completed trials by number that carry every parameter of the space (oldest first). */
  population(trials: readonly FrozenTrial[], unit: UnitSpace): FrozenTrial[] {
    const completed = trials.filter((t) => t.state === 'COMPLETE' && unit.has(t)).sort((a, b) => a.number - b.number);
    return completed.slice(Math.max(0, completed.length - this.populationSize));
  }
}

/** Lower is better after the direction is applied; a missing or NaN value loses to everything. */
function score(trial: FrozenTrial, direction: Direction): number {
  const v = trial.value;
  if (v === null || Number.isNaN(v)) return Infinity;
  return direction === 'minimize' ? v : -v;
}

/** The best of `size` members drawn uniformly with replacement (the first drawn wins a tie). */
export function tournament(population: readonly FrozenTrial[], size: number, direction: Direction, rng: Random): FrozenTrial {
  let best: FrozenTrial | undefined;
  for (let i = 0; i < size; i++) {
    const candidate = population[rng.int(population.length)]!;
    if (best === undefined || score(candidate, direction) < score(best, direction)) best = candidate;
  }
  return best!;
}

/**
 * The child: the parent's values, each mutated with probability p (1/number
 * of mutable parameters unless given), and at least one mutated so no child
 * is a copy of its parent. Parameters with a single possible value cannot
 * mutate and are not counted.
 */
export function mutate(parent: FrozenTrial, unit: UnitSpace, probability: number | undefined, rng: Random): Record<string, ParamValue> {
  const dims = unit.dims;
  // decodePoint supplies the single-valued parameters; the others are the parent's own values.
  const child = unit.decodePoint(new Float64Array(dims));
  for (let c = 0; c < dims; c++) child[unit.names[c]!] = unit.canonical(c, parent.params[unit.names[c]!]!);
  if (dims === 0) return child;
  const p = probability ?? 1 / dims;
  const chosen: number[] = [];
  for (let c = 0; c < dims; c++) if (rng.next() < p) chosen.push(c);
  if (chosen.length === 0) chosen.push(rng.int(dims));
  // Mutate from the canonical value, so a "mutation" of an off-grid parent cannot just snap it back to the grid.
  for (const c of chosen) child[unit.names[c]!] = mutateValue(unit, c, child[unit.names[c]!]!, rng);
  return child;
}

/**
 * A value of dimension c different from `value`: another choice uniformly
 * for a categorical; for a number, a Gaussian step in the unit space
 * reflected back into [0, 1] and snapped to the grid (or, with a small
 * probability, a uniform redraw), retried while it lands on the same value
 * and falling back to the next grid value.
 */
function mutateValue(unit: UnitSpace, c: number, value: ParamValue, rng: Random): ParamValue {
  const size = unit.size(c);
  if (unit.kind(c) === 'categorical') {
    const current = unit.encode(c, value);
    const other = rng.int(size - 1);
    return unit.decode(c, other >= current ? other + 1 : other);
  }
  const u = unit.encode(c, value);
  for (let attempt = 0; attempt < 8; attempt++) {
    const next = rng.next() < RESAMPLE_PROBABILITY ? rng.next() : reflect(u + MUTATION_SIGMA * rng.normal());
    const candidate = unit.decode(c, next);
    if (candidate !== value) return candidate;
  }
  // Only reachable for a discrete dimension with few values: step to a neighbour.
  const direction = rng.next() < 0.5 ? -1 : 1;
  const neighbour = unit.neighbour(c, u, direction) ?? unit.neighbour(c, u, -direction);
  return neighbour === undefined ? value : unit.decode(c, neighbour);
}

/** Folds a real number into [0, 1] by reflection at both ends (keeps a symmetric step symmetric near a bound). */
function reflect(u: number): number {
  const m = ((u % 2) + 2) % 2;
  return m > 1 ? 2 - m : m;
}
