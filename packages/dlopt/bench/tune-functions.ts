// Shared pieces of the sampler benchmark (bench/tune.ts): the standard test functions, the
// samplers under test, and a sequential driver that proposes trials through the same path a
// study uses — the relative proposal on the intersection search space of the completed trials
// (values outside it dropped), then sampleIndependent for every parameter it left, each call with
// the study's (seed, trial number, stream) random stream — with no study or storage in between,
// so the times are the samplers' own.
import { proposeTrial } from '../src/test-support/sequential-study.js';
import type { Distribution, ParamValue } from '../src/tune/distributions.js';
import { EvolutionSampler } from '../src/tune/samplers/evolution-sampler.js';
import { GPSampler } from '../src/tune/samplers/gp-sampler.js';
import { RandomSampler } from '../src/tune/samplers/random-sampler.js';
import type { Sampler } from '../src/tune/samplers/sampler.js';
import { TPESampler } from '../src/tune/samplers/tpe-sampler.js';
import type { FrozenTrial } from '../src/tune/trial-state.js';

export interface TestFunction {
  name: string;
  space: Record<string, Distribution>;
  /** The global minimum (simple regret = best value found − minimum). */
  minimum: number;
  f: (p: Record<string, ParamValue>) => number;
}

const float = (low: number, high: number): Distribution => ({ type: 'float', low, high, log: false });
const coords = (d: number, distribution: Distribution): Record<string, Distribution> =>
  Object.fromEntries(Array.from({ length: d }, (_, i) => [`x${i + 1}`, distribution]));

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

export const FUNCTIONS: Record<string, TestFunction> = {
  // Branin–Hoo on [-5, 10] × [0, 15]; three global minima, 0.397887.
  branin: {
    name: 'Branin',
    space: { x1: float(-5, 10), x2: float(0, 15) },
    minimum: 0.397887357729738,
    f: (p) => {
      const x = p.x1 as number;
      const y = p.x2 as number;
      return (y - (5.1 / (4 * Math.PI ** 2)) * x * x + (5 / Math.PI) * x - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x) + 10;
    },
  },
  // Hartmann-6 on [0, 1]^6; global minimum −3.32237.
  hartmann6: {
    name: 'Hartmann-6',
    space: coords(6, float(0, 1)),
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
  // Rosenbrock in 4-D on the standard domain [-5, 10]^4 (Surjanovic & Bingham's Virtual Library
  // of Simulation Experiments; [-2.048, 2.048]^d is the common restriction); minimum 0 at (1, 1, 1, 1).
  rosenbrock4: {
    name: 'Rosenbrock-4',
    space: coords(4, float(-5, 10)),
    minimum: 0,
    f: (p) => {
      let sum = 0;
      for (let i = 1; i < 4; i++) {
        const x = p[`x${i}`] as number;
        const next = p[`x${i + 1}`] as number;
        sum += 100 * (next - x * x) ** 2 + (x - 1) ** 2;
      }
      return sum;
    },
  },
};

/** A hyperparameter-like space (log float, float, stepped int, categorical) for the cost table. */
export const MIXED: TestFunction = {
  name: 'mixed (log, float, int step, cat)',
  space: {
    lr: { type: 'float', low: 1e-5, high: 1, log: true },
    dropout: { type: 'float', low: 0, high: 0.5, log: false },
    width: { type: 'int', low: 8, high: 256, log: false, step: 8 },
    optimizer: { type: 'categorical', choices: ['adam', 'sgd', 'rmsprop'] },
  },
  minimum: 0,
  f: (p) =>
    (Math.log10(p.lr as number) + 3) ** 2 + (p.dropout as number) + Math.abs((p.width as number) - 96) / 64 + (p.optimizer === 'adam' ? 0 : 0.5),
};

export interface SamplerSpec {
  label: string;
  make: (seed: number) => Sampler;
  /** Completed-trial counts the cost table times it at (GP: only 100, its fit is O(n³)). */
  costAt: readonly number[];
}

export const SAMPLERS: Record<string, SamplerSpec> = {
  random: { label: 'random', make: (seed) => new RandomSampler({ seed }), costAt: [100, 1000] },
  tpe: { label: 'TPE', make: (seed) => new TPESampler({ seed }), costAt: [100, 1000] },
  'tpe-mv': { label: 'TPE (multivariate)', make: (seed) => new TPESampler({ seed, multivariate: true }), costAt: [100, 1000] },
  gp: { label: 'GP (10 start-up)', make: (seed) => new GPSampler({ seed }), costAt: [100] },
  // The default population (100) would be all random under 100 trials: a budget-sized one.
  evolution: {
    label: 'evolution (P 10, S 3)',
    make: (seed) => new EvolutionSampler({ seed, populationSize: 10, sampleSize: 3 }),
    costAt: [100, 1000],
  },
};

/** One study, sequentially: the completed trials in order and the sampler's wall time per trial (ms). */
export function runStudy(sampler: Sampler, fn: TestFunction, nTrials: number, history: readonly FrozenTrial[] = []): { trials: FrozenTrial[]; ms: number[] } {
  const trials: FrozenTrial[] = [...history];
  const ms: number[] = [];
  for (let i = 0; i < nTrials; i++) {
    const start = performance.now();
    const current = proposeTrial(sampler, trials.slice(), trials.length, fn.space);
    ms.push(performance.now() - start);
    trials.push({ ...current, state: 'COMPLETE', value: fn.f(current.params) });
  }
  return { trials: trials.slice(history.length), ms };
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** CPU time of this process (user + system), ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export const fmt = (v: number): string => (v === 0 ? '0' : Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toPrecision(3));
