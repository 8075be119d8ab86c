import { DloptError, UsageError } from '../errors.js';
import type { Distribution, ParamValue } from '../tune/distributions.js';
import { HyperbandPruner } from '../tune/pruners/hyperband-pruner.js';
import { MedianPruner } from '../tune/pruners/median-pruner.js';
import { NopPruner } from '../tune/pruners/nop-pruner.js';
import { PatientPruner } from '../tune/pruners/patient-pruner.js';
import { PercentilePruner } from '../tune/pruners/percentile-pruner.js';
import type { Pruner } from '../tune/pruners/pruner.js';
import { SuccessiveHalvingPruner } from '../tune/pruners/successive-halving-pruner.js';
import { ThresholdPruner } from '../tune/pruners/threshold-pruner.js';
import { EvolutionSampler } from '../tune/samplers/evolution-sampler.js';
import { GPSampler } from '../tune/samplers/gp-sampler.js';
import { GridSampler } from '../tune/samplers/grid-sampler.js';
import { RandomSampler } from '../tune/samplers/random-sampler.js';
import type { Sampler } from '../tune/samplers/sampler.js';
import { TPESampler } from '../tune/samplers/tpe-sampler.js';
import type { PrunerConfig, SamplerConfig, SearchDistribution } from './tune-config.js';

/** What a config's search entry is as a tune distribution. */
export function toDistribution(d: SearchDistribution): Distribution {
  if (d.type === 'categorical') return { type: 'categorical', choices: [...d.choices] };
  if (d.type === 'int') return { type: 'int', low: d.low, high: d.high, log: d.log, step: d.step };
  return { type: 'float', low: d.low, high: d.high, log: d.log, ...(d.step !== undefined && { step: d.step }) };
}

/** Every value of a distribution, for the grid sampler (floats need a step; the config checks that). */
export function gridValues(d: SearchDistribution): ParamValue[] {
  if (d.type === 'categorical') return [...d.choices];
  const step = d.step ?? 1;
  const n = Math.floor((d.high - d.low) / step + 1e-9) + 1;
  if (n > 1e6) throw new UsageError(`a grid axis of ${n} values is too many to enumerate`);
  return Array.from({ length: n }, (_, k) => (d.type === 'int' ? d.low + k * step : Number((d.low + k * step).toPrecision(15))));
}

/** The number of points in the grid over this search space. */
export function gridSize(search: Record<string, SearchDistribution>): number {
  return Object.values(search).reduce((n, d) => n * gridValues(d).length, 1);
}

/** The sampler a config names, seeded with `seed` when the config gives none (undefined: a random seed). */
export function buildSampler(config: SamplerConfig, search: Record<string, SearchDistribution>, seed?: number): Sampler {
  const { name, seed: configured, ...options } = config;
  const withSeed = { ...options, ...((configured ?? seed) !== undefined && { seed: configured ?? seed }) };
  return wrap('sampler', () => {
    switch (name) {
      case 'random':
        return new RandomSampler(withSeed);
      case 'grid':
        return new GridSampler(Object.fromEntries(Object.entries(search).map(([path, d]) => [path, gridValues(d)])), withSeed);
      case 'tpe':
        return new TPESampler(withSeed);
      case 'gp':
        return new GPSampler(withSeed);
      case 'evolution':
        return new EvolutionSampler(withSeed);
    }
  });
}

/** The pruner a config names (`none`: never prunes). */
export function buildPruner(config: PrunerConfig): Pruner {
  return wrap('pruner', () => build(config));
}

function build(config: PrunerConfig): Pruner {
  switch (config.name) {
    case 'none':
      return new NopPruner();
    case 'median': {
      const { name: _, ...options } = config;
      return new MedianPruner(options);
    }
    case 'percentile': {
      const { name: _, ...options } = config;
      return new PercentilePruner(options);
    }
    case 'successive-halving': {
      const { name: _, ...options } = config;
      return new SuccessiveHalvingPruner(options);
    }
    case 'hyperband': {
      const { name: _, ...options } = config;
      return new HyperbandPruner(options);
    }
    case 'threshold': {
      const { name: _, ...options } = config;
      return new ThresholdPruner(options);
    }
    case 'patient': {
      const { name: _, wrapped, ...options } = config;
      return new PatientPruner(wrapped === undefined || wrapped.name === 'none' ? null : build(wrapped), options);
    }
  }
}

/** Option errors the constructors find (beyond the schema's) are usage errors naming the section. */
function wrap<T>(section: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof DloptError) throw new UsageError(`${section}: ${error.message}`);
    throw error;
  }
}
