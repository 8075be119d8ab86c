// The GP and regularized-evolution samplers on standard test functions: median
// simple regret (best value found − global minimum) over several seeds after 25
// and 50 trials on Branin (2-D) and Hartmann-6, with random search for
// reference, and the GP's sampler time per trial on the way to 100 trials and
// for one proposal with 100 completed trials. Trials run one after another
// through the same sampling path a study uses (relative proposal, then
// sampleIndependent for the rest, each with its (seed, trial, stream) random
// stream), with no storage in between: the numbers are the samplers' own.
//
//   node --import tsx packages/dlopt/bench/tune-gp.ts [--seeds 10] [--trials 25,50] [--only gp,evolution,random]
//        [--functions branin,hartmann6] [--timing-trials 100] [--json OUT.json]
//
// Issue #5's target: GP median regret on Branin at 50 trials ≤ 0.018 (10× below
// Optuna 3.1's TPE, 0.18 on this machine).
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { intersectionSearchSpace, trialRandom } from '../src/tune/distribution-utils.js';
import type { Distribution, ParamValue } from '../src/tune/distributions.js';
import { EvolutionSampler } from '../src/tune/samplers/evolution-sampler.js';
import { GPSampler } from '../src/tune/samplers/gp-sampler.js';
import { RandomSampler } from '../src/tune/samplers/random-sampler.js';
import type { Sampler } from '../src/tune/samplers/sampler.js';
import type { FrozenTrial } from '../src/tune/trial-state.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '10' },
    trials: { type: 'string', default: '25,50' },
    only: { type: 'string', default: 'gp,evolution,random' },
    functions: { type: 'string', default: 'branin,hartmann6' },
    'timing-trials': { type: 'string', default: '100' },
    json: { type: 'string' },
  },
});

interface TestFunction {
  name: string;
  space: Record<string, Distribution>;
  minimum: number;
  f: (p: Record<string, ParamValue>) => number;
}

const unitFloat: Distribution = { type: 'float', low: 0, high: 1, log: false };

const HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2];
const HARTMANN_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const HARTMANN_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));

const FUNCTIONS: Record<string, TestFunction> = {
  branin: {
    name: 'Branin',
    space: { x1: { type: 'float', low: -5, high: 10, log: false }, x2: { type: 'float', low: 0, high: 15, log: false } },
    minimum: 0.397887357729738,
    f: (p) => {
      const x = p.x1 as number;
      const y = p.x2 as number;
      return (y - (5.1 / (4 * Math.PI ** 2)) * x * x + (5 / Math.PI) * x - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x) + 10;
    },
  },
  hartmann6: {
    name: 'Hartmann-6',
    space: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x${i + 1}`, unitFloat])),
    minimum: -3.32236801141551,
    f: (p) => {
      let sum = 0;
      for (let i = 0; i < 4; i++) {
        let inner = 0;
        for (let j = 0; j < 6; j++) inner += HARTMANN_A[i]![j]! * ((p[`x${j + 1}`] as number) - HARTMANN_P[i]![j]!) ** 2;
        sum += HARTMANN_ALPHA[i]! * Math.exp(-inner);
      }
      return -sum;
    },
  },
};

const SAMPLERS: Record<string, { label: string; make: (seed: number) => Sampler }> = {
  gp: { label: 'GP (10 start-up)', make: (seed) => new GPSampler({ seed }) },
  // The default population (100) would be all random under 100 trials: a budget-sized one.
  evolution: { label: 'evolution (P 10, S 3)', make: (seed) => new EvolutionSampler({ seed, populationSize: 10, sampleSize: 3 }) },
  random: { label: 'random', make: (seed) => new RandomSampler({ seed }) },
};

/** One study, sequentially; returns the values in trial order and the sampler's time per trial (ms). */
function run(sampler: Sampler, fn: TestFunction, nTrials: number): { values: number[]; ms: number[] } {
  const trials: FrozenTrial[] = [];
  const ms: number[] = [];
  for (let number = 0; number < nTrials; number++) {
    const start = performance.now();
    const current: FrozenTrial = {
      id: number,
      number,
      state: 'RUNNING',
      value: null,
      params: {},
      distributions: {},
      intermediate: {},
      userAttrs: {},
      systemAttrs: {},
      startedAt: null,
      completedAt: null,
    };
    const others = trials.slice();
    const ctx = (stream: string) => ({ direction: 'minimize' as const, trials: others, trial: current, rng: trialRandom(sampler.seed, number, stream) });
    const relativeSpace = intersectionSearchSpace(others);
    const proposal = sampler.sampleRelative && Object.keys(relativeSpace).length > 0 ? sampler.sampleRelative(ctx('#relative'), relativeSpace) : {};
    for (const [name, distribution] of Object.entries(fn.space)) {
      current.params[name] = proposal[name] ?? sampler.sampleIndependent(ctx(name), name, distribution);
      current.distributions[name] = distribution;
    }
    ms.push(performance.now() - start);
    trials.push({ ...current, state: 'COMPLETE', value: fn.f(current.params) });
  }
  return { values: trials.map((t) => t.value!), ms };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const fmt = (v: number): string => (v === 0 ? '0' : v < 1e-3 ? v.toExponential(2) : v.toPrecision(3));

const seeds = Number(values.seeds);
const budgets = values.trials.split(',').map(Number);
const maxBudget = Math.max(...budgets);
const results: Record<string, unknown>[] = [];
const lines: string[] = [];
lines.push(`median simple regret over ${seeds} seeds (seeds 0..${seeds - 1})`, '');
lines.push(`| function | sampler | ${budgets.map((b) => `@${b}`).join(' | ')} | sampler ms/trial (mean over ${maxBudget}) |`);
lines.push(`|---|---|${budgets.map(() => '---|').join('')}---|`);
for (const fname of values.functions.split(',')) {
  const fn = FUNCTIONS[fname];
  if (!fn) throw new Error(`unknown function ${fname} (${Object.keys(FUNCTIONS).join(', ')})`);
  for (const sname of values.only.split(',')) {
    const spec = SAMPLERS[sname];
    if (!spec) throw new Error(`unknown sampler ${sname} (${Object.keys(SAMPLERS).join(', ')})`);
    const regrets = budgets.map(() => [] as number[]);
    const times: number[] = [];
    for (let seed = 0; seed < seeds; seed++) {
      const { values: vals, ms } = run(spec.make(seed), fn, maxBudget);
      budgets.forEach((b, i) => regrets[i]!.push(Math.min(...vals.slice(0, b)) - fn.minimum));
      times.push(ms.reduce((a, b) => a + b, 0) / ms.length);
    }
    const medians = regrets.map(median);
    const msPerTrial = median(times);
    const line = `| ${fn.name} | ${spec.label} | ${medians.map(fmt).join(' | ')} | ${msPerTrial < 1 ? msPerTrial.toFixed(3) : msPerTrial.toFixed(1)} |`;
    lines.push(line);
    console.error(line);
    results.push({ function: fn.name, sampler: spec.label, budgets, medianRegret: medians, regrets, meanSamplerMsPerTrial: msPerTrial });
  }
}

// GP cost: the mean over a whole run, and single proposals with exactly N completed trials.
const timingTrials = Number(values['timing-trials']);
if (values.only.split(',').includes('gp') && timingTrials > 0) {
  for (const fname of values.functions.split(',')) {
    const fn = FUNCTIONS[fname]!;
    const { ms } = run(new GPSampler({ seed: 0 }), fn, timingTrials + 1);
    const mean = ms.slice(0, timingTrials).reduce((a, b) => a + b, 0) / timingTrials;
    const last = ms[timingTrials]!;
    lines.push('', `GP on ${fn.name}: ${mean.toFixed(1)} ms per trial over ${timingTrials} trials; ${last.toFixed(0)} ms for the proposal with ${timingTrials} completed trials`);
    results.push({ function: fn.name, sampler: 'GP timing', trials: timingTrials, meanMsPerTrial: mean, msAtLast: last });
  }
}

console.log(lines.join('\n'));
if (values.json) await writeFile(values.json, JSON.stringify(results, null, 2) + '\n');
