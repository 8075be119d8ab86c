import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../errors.js';
import { HyperbandPruner } from '../tune/pruners/hyperband-pruner.js';
import { MedianPruner } from '../tune/pruners/median-pruner.js';
import { NopPruner } from '../tune/pruners/nop-pruner.js';
import { PatientPruner } from '../tune/pruners/patient-pruner.js';
import { PercentilePruner } from '../tune/pruners/percentile-pruner.js';
import { SuccessiveHalvingPruner } from '../tune/pruners/successive-halving-pruner.js';
import { ThresholdPruner } from '../tune/pruners/threshold-pruner.js';
import { EvolutionSampler } from '../tune/samplers/evolution-sampler.js';
import { GPSampler } from '../tune/samplers/gp-sampler.js';
import { GridSampler } from '../tune/samplers/grid-sampler.js';
import { RandomSampler } from '../tune/samplers/random-sampler.js';
import { TPESampler } from '../tune/samplers/tpe-sampler.js';
import { buildPruner, buildSampler, gridSize, gridValues, toDistribution } from './build-tune.js';
import { parseTuneConfig } from './tune-config.js';

const config = (extra: Record<string, unknown>) =>
  parseTuneConfig({ trials: 4, search: { batchSize: [16, 32], 'optimizer.lr': { type: 'float', low: 0.01, high: 0.03, step: 0.01 } }, ...extra });

describe('building samplers and pruners from a tune config', () => {
  it('makes every sampler, with the config seed first, else the given one', () => {
    const classes = { random: RandomSampler, grid: GridSampler, tpe: TPESampler, gp: GPSampler, evolution: EvolutionSampler } as const;
    for (const [name, cls] of Object.entries(classes)) {
      const c = config({ sampler: { name, seed: 7 } });
      const sampler = buildSampler(c.sampler, c.search, 99);
      assert.ok(sampler instanceof cls, name);
      assert.equal(sampler.seed, 7, name);
      assert.equal(buildSampler(config({ sampler: name }).sampler, c.search, 99).seed, 99, name);
    }
    const tpe = buildSampler(config({ sampler: { name: 'tpe', nStartupTrials: 3, multivariate: true } }).sampler, {}) as TPESampler;
    assert.equal(tpe.nStartupTrials, 3);
    assert.equal(tpe.multivariate, true);
    const evolution = buildSampler(config({ sampler: { name: 'evolution', populationSize: 8, sampleSize: 3 } }).sampler, {}) as EvolutionSampler;
    assert.deepEqual([evolution.populationSize, evolution.sampleSize], [8, 3]);
  });

  it('enumerates the grid from choices and steps', () => {
    const c = config({ sampler: 'grid' });
    assert.deepEqual(gridValues(c.search['optimizer.lr']!), [0.01, 0.02, 0.03]);
    assert.deepEqual(gridValues({ type: 'int', low: 1, high: 7, step: 3, log: false }), [1, 4, 7]);
    assert.equal(gridSize(c.search), 6);
    assert.equal((buildSampler(c.sampler, c.search) as GridSampler).size, 6);
  });

  it('makes every pruner with its options; patient wraps another or none', () => {
    const cases: [unknown, new (...args: never[]) => object][] = [
      ['none', NopPruner],
      [{ name: 'median', nStartupTrials: 2 }, MedianPruner],
      [{ name: 'percentile', percentile: 25 }, PercentilePruner],
      [{ name: 'successive-halving', reductionFactor: 3 }, SuccessiveHalvingPruner],
      [{ name: 'hyperband', maxResource: 9 }, HyperbandPruner],
      [{ name: 'threshold', lower: 0.2 }, ThresholdPruner],
      [{ name: 'patient', patience: 1 }, PatientPruner],
    ];
    for (const [pruner, cls] of cases) assert.ok(buildPruner(config({ pruner }).pruner) instanceof cls, JSON.stringify(pruner));
    assert.equal((buildPruner(config({ pruner: { name: 'median', nStartupTrials: 2 } }).pruner) as MedianPruner).nStartupTrials, 2);
    const patient = buildPruner(config({ pruner: { name: 'patient', patience: 2, wrapped: { name: 'percentile', percentile: 10 } } }).pruner) as PatientPruner;
    assert.ok(patient.wrapped instanceof PercentilePruner);
    assert.equal(patient.patience, 2);
    assert.equal((buildPruner(config({ pruner: { name: 'patient', patience: 0 } }).pruner) as PatientPruner).wrapped, null);
  });

  it('turns what the constructors reject into usage errors naming the section', () => {
    const c = config({ pruner: { name: 'hyperband', minResource: 5, maxResource: 2 } });
    assert.throws(() => buildPruner(c.pruner), (e: unknown) => e instanceof UsageError && /^pruner: HyperbandPruner: maxResource \(2\) must be ≥ minResource \(5\)/.test(e.message));
  });

  it('converts distributions', () => {
    assert.deepEqual(toDistribution({ type: 'float', low: 1, high: 2, log: false }), { type: 'float', low: 1, high: 2, log: false });
    assert.deepEqual(toDistribution({ type: 'int', low: 1, high: 2, log: false, step: 1 }), { type: 'int', low: 1, high: 2, log: false, step: 1 });
    assert.deepEqual(toDistribution({ type: 'categorical', choices: ['a', null] }), { type: 'categorical', choices: ['a', null] });
  });
});
