import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frozenTrial } from '../../test-support/pruner-conformance.js';
import { Random } from '../../util/random.js';
import type { FrozenTrial } from '../trial-state.js';
import { HyperbandPruner } from './hyperband-pruner.js';
import { MedianPruner } from './median-pruner.js';
import type { Pruner } from './pruner.js';
import { SuccessiveHalvingPruner } from './successive-halving-pruner.js';

interface SimulationResult {
  finals: number[];
  /** The step each trial was pruned at, or undefined when it completed. */
  prunedAt: (number | undefined)[];
}

/**
 * `count` synthetic learning curves (accuracy-like, maximized):
 * value_t = final·(1 − e^(−t/5)) + noise for t = 1..steps, finals uniform in
 * [0.5, 1], run one trial after another, each asking the pruner after every
 * report as a study would.
 */
function simulate(pruner: Pruner, options: { seed: number; count?: number; steps?: number; noise?: number }): SimulationResult {
  const { seed, count = 50, steps = 30, noise = 0.005 } = options;
  const rng = new Random(seed);
  const finals = Array.from({ length: count }, () => rng.uniform(0.5, 1));
  const trials: FrozenTrial[] = [];
  const prunedAt: (number | undefined)[] = [];
  finals.forEach((final, number) => {
    const trial = frozenTrial(number, 'RUNNING', {}, { completedAt: null });
    let stoppedAt: number | undefined;
    for (let t = 1; t <= steps; t++) {
      trial.intermediate[t] = final * (1 - Math.exp(-t / 5)) + noise * rng.normal();
      if (pruner.prune({ direction: 'maximize', studyName: `simulation-${seed}`, trials, trial })) {
        stoppedAt = t;
        break;
      }
    }
    trials.push({ ...trial, state: stoppedAt === undefined ? 'COMPLETE' : 'PRUNED', value: trial.intermediate[stoppedAt ?? steps]!, completedAt: number });
    prunedAt.push(stoppedAt);
  });
  return { finals, prunedAt };
}

const pruners: [string, () => Pruner][] = [
  ['MedianPruner', () => new MedianPruner()],
  ['SuccessiveHalvingPruner', () => new SuccessiveHalvingPruner()],
  ['HyperbandPruner', () => new HyperbandPruner()],
];

// Fixed seeds: with noise, asynchronous successive halving can lose the best
// curve to a near tie at an early rung (at this noise level, a final within
// 0.01 of the best, in about one seed in eight), which is the price of judging
// at step 1; the median rule waits for five completed trials and did not in 40
// seeds.
describe('pruners on 50 simulated learning curves', () => {
  for (const [name, create] of pruners) {
    for (const seed of [1, 2, 3]) it(`${name}, seed ${seed}: never prunes the best curve, and prunes at least half of the worse-than-median ones early`, () => {
      const steps = 30;
      const { finals, prunedAt } = simulate(create(), { seed, steps });
      const best = finals.indexOf(Math.max(...finals));
      assert.equal(prunedAt[best], undefined, `the best curve (trial ${best}) was pruned at step ${prunedAt[best]}`);
      const median = [...finals].sort((a, b) => a - b)[Math.floor(finals.length / 2)]!;
      const worse = finals.map((_, i) => i).filter((i) => finals[i]! < median);
      const early = worse.filter((i) => prunedAt[i] !== undefined && prunedAt[i]! < steps);
      assert.ok(early.length >= worse.length / 2, `${early.length} of ${worse.length} worse-than-median curves pruned before the last step`);
    });
  }
});
