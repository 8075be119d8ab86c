import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { describeSamplerConformance } from '../../test-support/sampler-conformance.js';
import { runSequentialStudy } from '../../test-support/sequential-study.js';
import { Random } from '../../util/random.js';
import { contains } from '../distribution-utils.js';
import type { Distribution, ParamValue } from '../distributions.js';
import { createStudy } from '../study.js';
import type { Direction, FrozenTrial, TrialState } from '../trial-state.js';
import { EvolutionSampler, tournament } from './evolution-sampler.js';
import { UnitSpace } from './gp-sampler.js';
import { RandomSampler } from './random-sampler.js';

function trial(number: number, params: Record<string, ParamValue>, space: Record<string, Distribution>, value: number | null, state: TrialState = 'COMPLETE'): FrozenTrial {
  const distributions: Record<string, Distribution> = {};
  for (const name of Object.keys(params)) distributions[name] = space[name]!;
  return { id: number, number, state, value, params, distributions, intermediate: {}, userAttrs: {}, systemAttrs: {}, startedAt: null, completedAt: null };
}


const mixedSpace: Record<string, Distribution> = {
  lr: { type: 'float', low: 1e-4, high: 1e-1, log: true },
  x: { type: 'float', low: -1, high: 1, log: false },
  bits: { type: 'int', low: 0, high: 1, log: false, step: 1 },
  width: { type: 'int', low: 8, high: 256, log: true, step: 1 },
  drop: { type: 'float', low: 0, high: 0.5, log: false, step: 0.1 },
  opt: { type: 'categorical', choices: ['adam', 'sgd'] },
  fixed: { type: 'categorical', choices: ['only'] },
};
const mutable = Object.keys(mixedSpace).filter((n) => n !== 'fixed');

function randomPopulation(n: number, seed: number, space = mixedSpace, firstNumber = 0): FrozenTrial[] {
  const rng = new Random(seed);
  const sampler = new RandomSampler({ seed });
  return Array.from({ length: n }, (_, i) => {
    const params: Record<string, ParamValue> = {};
    for (const [name, d] of Object.entries(space)) params[name] = sampler.sampleIndependent({ direction: 'minimize', trials: [], trial: trial(0, {}, space, null), rng }, name, d);
    return trial(firstNumber + i, params, space, rng.next());
  });
}

function context(trials: FrozenTrial[], number: number, seed: number, direction: Direction = 'minimize') {
  return { direction, trials, trial: trial(number, {}, mixedSpace, null, 'RUNNING'), rng: new Random(seed) };
}

describe('EvolutionSampler', () => {
  it('rejects bad options', () => {
    assert.throws(() => new EvolutionSampler({ populationSize: 0 }), /populationSize/);
    assert.throws(() => new EvolutionSampler({ sampleSize: 2.5 }), /sampleSize/);
    assert.throws(() => new EvolutionSampler({ mutationProbability: 1.5 }), /mutationProbability/);
    assert.throws(() => new EvolutionSampler({ seed: Number.NaN }), /seed/);
  });

  it('samples at random until P trials have completed (running, failed and pruned ones do not count)', () => {
    const sampler = new EvolutionSampler({ seed: 1, populationSize: 5, sampleSize: 2 });
    const trials = randomPopulation(8, 3);
    trials[1] = { ...trials[1]!, state: 'RUNNING', value: null };
    trials[2] = { ...trials[2]!, state: 'FAIL', value: null };
    trials[3] = { ...trials[3]!, state: 'PRUNED' };
    trials[4] = { ...trials[4]!, state: 'WAITING', value: null };
    assert.deepEqual(sampler.sampleRelative(context(trials, 8, 1), mixedSpace), {});
    trials.push(...randomPopulation(1, 4, mixedSpace, 8));
    assert.notDeepEqual(sampler.sampleRelative(context(trials, 9, 1), mixedSpace), {});
  });

  it('ages: the population is the last P completed trials by number, and older ones are never parents', () => {
    const sampler = new EvolutionSampler({ seed: 1, populationSize: 6, sampleSize: 6, mutationProbability: 0 });
    // Out of number order, with non-complete trials mixed in; trial 0 is by far the best but old.
    const trials = randomPopulation(14, 5).reverse();
    trials.find((t) => t.number === 0)!.value = -100;
    trials.find((t) => t.number === 11)!.state = 'RUNNING';
    trials.find((t) => t.number === 6)!.state = 'FAIL';
    const unit = new UnitSpace(mixedSpace);
    assert.deepEqual(sampler.population(trials, unit).map((t) => t.number), [7, 8, 9, 10, 12, 13]);

    const youngest = new Set([7, 8, 9, 10, 12, 13]);
    for (let seed = 0; seed < 60; seed++) {
      const child = sampler.sampleRelative(context(trials, 14, seed), mixedSpace);
      // Exactly one parameter mutates (probability 0 still mutates one), so the parent is the trial
      // that shares every other value with the child: x is continuous and unique to its trial.
      const parents = trials.filter((t) => mutable.filter((n) => t.params[n] !== child[n]).length === 1);
      const parent = parents.find((t) => t.params.x === child.x) ?? parents[0];
      assert.ok(parent !== undefined && youngest.has(parent.number), `seed ${seed}: parent ${parent?.number}`);
    }
  });

  it('takes the best of the tournament sample, in the study direction', () => {
    const population = [5, 3, 9, 1, 7].map((v, i) => trial(i, {}, {}, v));
    const drawing = (indices: number[]): Random => {
      const queue = [...indices];
      return { int: () => queue.shift()! } as unknown as Random;
    };
    assert.equal(tournament(population, 3, 'minimize', drawing([0, 2, 1])).number, 1);
    assert.equal(tournament(population, 3, 'maximize', drawing([0, 2, 1])).number, 2);
    assert.equal(tournament(population, 2, 'minimize', drawing([4, 4])).number, 4);
    // With replacement: the same member may be drawn every time.
    assert.equal(tournament(population, 4, 'minimize', drawing([2, 2, 2, 2])).number, 2);
    const withNaN = [trial(0, {}, {}, Number.NaN), trial(1, {}, {}, 100)];
    assert.equal(tournament(withNaN, 2, 'minimize', drawing([0, 1])).number, 1);

    // A sample much larger than the population almost surely contains its best member.
    const sampler = new EvolutionSampler({ seed: 1, populationSize: 10, sampleSize: 200, mutationProbability: 0 });
    const trials = randomPopulation(10, 9);
    const bestTrial = trials.reduce((a, b) => (b.value! < a.value! ? b : a));
    for (let seed = 0; seed < 10; seed++) {
      const child = sampler.sampleRelative(context(trials, 10, seed), mixedSpace);
      assert.equal(mutable.filter((n) => child[n] !== bestTrial.params[n]).length, 1);
    }
  });

  it('makes children that differ from their parent in at least one parameter and stay in range', () => {
    const trials = randomPopulation(4, 2);
    for (const mutationProbability of [undefined, 0, 0.5, 1]) {
      const sampler = new EvolutionSampler({ seed: 1, populationSize: 4, sampleSize: 1, mutationProbability });
      const changes: number[] = [];
      for (let seed = 0; seed < 300; seed++) {
        const ctx = context(trials, 4, seed);
        const child = sampler.sampleRelative(ctx, mixedSpace);
        const parent = tournament(trials, 1, 'minimize', new Random(seed));
        for (const [name, d] of Object.entries(mixedSpace)) assert.ok(contains(d, child[name]), `${name} = ${String(child[name])}`);
        assert.equal(child.fixed, 'only');
        const changed = mutable.filter((n) => child[n] !== parent.params[n]).length;
        assert.ok(changed >= 1, `seed ${seed}: child equals its parent`);
        if (mutationProbability === 0) assert.equal(changed, 1);
        if (mutationProbability === 1) assert.equal(changed, mutable.length);
        changes.push(changed);
      }
      if (mutationProbability === undefined) {
        // p = 1/6 per parameter, at least one: about 1.4 on average.
        const mean = changes.reduce((a, b) => a + b, 0) / changes.length;
        assert.ok(mean > 1.1 && mean < 1.8, `mean mutated parameters ${mean}`);
      }
    }
  });

  it('mutates numbers locally in (log) unit space and categoricals to another choice', () => {
    const space: Record<string, Distribution> = { lr: { type: 'float', low: 1e-6, high: 1, log: true }, opt: { type: 'categorical', choices: ['a', 'b', 'c'] } };
    const parent = trial(0, { lr: 1e-3, opt: 'b' }, space, 0);
    const sampler = new EvolutionSampler({ seed: 1, populationSize: 1, sampleSize: 1, mutationProbability: 1 });
    const steps: number[] = [];
    const choices = new Set<ParamValue>();
    for (let seed = 0; seed < 400; seed++) {
      const child = sampler.sampleRelative({ direction: 'minimize', trials: [parent], trial: trial(1, {}, space, null), rng: new Random(seed) }, space);
      steps.push(Math.abs(Math.log10(child.lr as number) - -3) / 6);
      assert.notEqual(child.opt, 'b');
      choices.add(child.opt!);
    }
    assert.deepEqual([...choices].sort(), ['a', 'c']);
    const typical = steps.sort((a, b) => a - b)[200]!;
    // Median |step| of a 0.15-σ Gaussian is 0.1 of the range; the occasional uniform redraw moves it a little.
    assert.ok(typical > 0.05 && typical < 0.2, `median step ${typical} of the log range`);
  });

  it('is stateless and reproducible from the seed', () => {
    const sampler = new EvolutionSampler({ seed: 3, populationSize: 5, sampleSize: 3 });
    const trials = randomPopulation(9, 7);
    assert.deepEqual(sampler.sampleRelative(context(trials, 9, 4), mixedSpace), sampler.sampleRelative(context(trials, 9, 4), mixedSpace));
    const objective = (p: Record<string, ParamValue>) => (p.x as number) ** 2 + (p.opt === 'sgd' ? 1 : 0);
    const a = runSequentialStudy(new EvolutionSampler({ seed: 8, populationSize: 5, sampleSize: 2 }), mixedSpace, objective, 30);
    const b = runSequentialStudy(new EvolutionSampler({ seed: 8, populationSize: 5, sampleSize: 2 }), mixedSpace, objective, 30);
    assert.deepEqual(a.map((t) => t.params), b.map((t) => t.params));
  });

  it('improves the later trials of a 1-D quadratic over random search (P = 10, S = 3)', () => {
    const space: Record<string, Distribution> = { x: { type: 'float', low: -10, high: 10, log: false } };
    const objective = (p: Record<string, ParamValue>) => (p.x as number) ** 2;
    const lateMean = (trials: FrozenTrial[]) => trials.slice(40).reduce((s, t) => s + t.value!, 0) / (trials.length - 40);
    const evolution: number[] = [];
    const random: number[] = [];
    for (let seed = 0; seed < 5; seed++) {
      evolution.push(lateMean(runSequentialStudy(new EvolutionSampler({ seed, populationSize: 10, sampleSize: 3 }), space, objective, 80)));
      random.push(lateMean(runSequentialStudy(new RandomSampler({ seed }), space, objective, 80)));
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[2]!;
    // The fixed mutation step (σ = 0.15 of the range = 3 here) floors the children's mean near σ² ≈ 9,
    // so the gain is bounded: about 0.35–0.5 of random's mean over blocks of 5 seeds.
    assert.ok(median(evolution) < 0.6 * median(random), `late mean: evolution ${median(evolution)} vs random ${median(random)}`);
  });

  it('evolves through a real study (define-by-run, mixed parameters)', async () => {
    const study = await createStudy({ direction: 'minimize', sampler: new EvolutionSampler({ seed: 1, populationSize: 8, sampleSize: 3 }) });
    await study.optimize(
      (trial) => {
        const lr = trial.suggestFloat('lr', 1e-4, 1e-1, { log: true });
        const depth = trial.suggestInt('depth', 1, 4);
        const optimizer = trial.suggestCategorical('optimizer', ['adam', 'sgd']);
        return (Math.log10(lr) + 2.5) ** 2 + 0.3 * (depth - 3) ** 2 + (optimizer === 'sgd' ? 1 : 0);
      },
      { nTrials: 40 },
    );
    const trials = study.trials;
    assert.equal(trials.length, 40);
    assert.ok(study.bestValue! < 0.3, `best ${study.bestValue} at ${JSON.stringify(study.bestParams)}`);
  });

  it('maximizing −f evolves exactly as minimizing f', () => {
    const objective = (p: Record<string, ParamValue>) => ((p.x as number) - 0.3) ** 2 + Math.log10(p.lr as number) ** 2 / 10;
    const min = runSequentialStudy(new EvolutionSampler({ seed: 2, populationSize: 6, sampleSize: 3 }), mixedSpace, objective, 25);
    const max = runSequentialStudy(new EvolutionSampler({ seed: 2, populationSize: 6, sampleSize: 3 }), mixedSpace, (p) => -objective(p), 25, 'maximize');
    assert.deepEqual(max.map((t) => t.params), min.map((t) => t.params));
  });
});

describeSamplerConformance('EvolutionSampler', (seed) => new EvolutionSampler({ seed }));
// A population small enough for the conformance history, so tournaments and mutations run.
describeSamplerConformance('EvolutionSampler (P 3, S 2)', (seed) => new EvolutionSampler({ seed, populationSize: 3, sampleSize: 2 }));
