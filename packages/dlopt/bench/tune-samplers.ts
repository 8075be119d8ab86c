// The samplers of `dlopt tune` on Branin (2-D, minimum 0.397887): median simple regret (best
// value found − minimum) over seeds after 25, 50 and 100 trials, and what TPE costs per trial
// with 100 and 1,000 completed trials behind it.
//
// The samplers are driven directly by a minimal sequential loop of FrozenTrial records (no
// study, no storage), each trial's random streams derived from (seed, trial number, name) with
// the study's own trialRandom.
//
//   node --import tsx packages/dlopt/bench/tune-samplers.ts [--seeds 10] [--reps 50]
import { parseArgs } from 'node:util';
import { trialRandom } from '../src/tune/distribution-utils.js';
import type { Distribution, ParamValue } from '../src/tune/distributions.js';
import { RandomSampler } from '../src/tune/samplers/random-sampler.js';
import type { Sampler, SamplingContext } from '../src/tune/samplers/sampler.js';
import { TPESampler } from '../src/tune/samplers/tpe-sampler.js';
import type { FrozenTrial } from '../src/tune/trial-state.js';

const { values } = parseArgs({ options: { seeds: { type: 'string', default: '10' }, reps: { type: 'string', default: '50' } } });
const SEEDS = Number(values.seeds);
const REPS = Number(values.reps);

const BRANIN_MIN = 0.397887357729738;
const branin = (x1: number, x2: number): number => {
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
};
const SPACE: Record<string, Distribution> = {
  x1: { type: 'float', low: -5, high: 10, log: false },
  x2: { type: 'float', low: 0, high: 15, log: false },
};

function context(sampler: Sampler, trials: readonly FrozenTrial[], number: number, name: string, params: Record<string, ParamValue>): SamplingContext {
  return {
    direction: 'minimize',
    trials,
    trial: { id: number, number, state: 'RUNNING', value: null, params, distributions: {}, intermediate: {}, userAttrs: {}, systemAttrs: {}, startedAt: null, completedAt: null },
    rng: trialRandom(sampler.seed, number, name),
  };
}

/** One trial's params: sampleRelative first where the sampler has it, then each missing param on its own. */
function suggest(sampler: Sampler, trials: readonly FrozenTrial[], number: number, space: Record<string, Distribution>): Record<string, ParamValue> {
  const params: Record<string, ParamValue> = { ...sampler.sampleRelative?.(context(sampler, trials, number, '#relative', {}), space) };
  for (const [name, d] of Object.entries(space)) {
    if (!(name in params)) params[name] = sampler.sampleIndependent(context(sampler, trials, number, name, { ...params }), name, d);
  }
  return params;
}

function record(number: number, params: Record<string, ParamValue>, space: Record<string, Distribution>, value: number): FrozenTrial {
  return { id: number, number, state: 'COMPLETE', value, params, distributions: space, intermediate: {}, userAttrs: {}, systemAttrs: {}, startedAt: null, completedAt: null };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const SAMPLERS: Record<string, (seed: number) => Sampler> = {
  random: (seed) => new RandomSampler({ seed }),
  tpe: (seed) => new TPESampler({ seed }),
  'tpe (multivariate)': (seed) => new TPESampler({ seed, multivariate: true }),
};

console.log(`Branin, median simple regret over ${SEEDS} seeds`);
console.log(`${'sampler'.padEnd(20)}${['@25', '@50', '@100'].map((s) => s.padStart(10)).join('')}`);
for (const [name, make] of Object.entries(SAMPLERS)) {
  const at: Record<number, number[]> = { 25: [], 50: [], 100: [] };
  for (let seed = 0; seed < SEEDS; seed++) {
    const sampler = make(seed);
    const trials: FrozenTrial[] = [];
    let best = Infinity;
    for (let number = 0; number < 100; number++) {
      const params = suggest(sampler, trials, number, SPACE);
      const value = branin(params.x1 as number, params.x2 as number);
      best = Math.min(best, value);
      trials.push(record(number, params, SPACE, value));
      at[number + 1]?.push(best - BRANIN_MIN);
    }
  }
  console.log(`${name.padEnd(20)}${[25, 50, 100].map((n) => median(at[n]!).toPrecision(3).padStart(10)).join('')}`);
}

// Cost per trial: the history is random points (TPE's cost depends on how many trials it reads,
// not on how good they are); each timed trial samples every parameter of the space.
const MIXED: Record<string, Distribution> = {
  lr: { type: 'float', low: 1e-5, high: 1, log: true },
  dropout: { type: 'float', low: 0, high: 0.5, log: false },
  width: { type: 'int', low: 8, high: 256, log: false, step: 8 },
  optimizer: { type: 'categorical', choices: ['adam', 'sgd', 'rmsprop'] },
};
const objective = (p: Record<string, ParamValue>): number =>
  (Math.log10(p.lr as number) + 3) ** 2 + (p.dropout as number) + Math.abs((p.width as number) - 96) / 64 + (p.optimizer === 'adam' ? 0 : 0.5);

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

console.log(`\nTPE cost per trial (mean of ${REPS} trials, after ${REPS} warm-up trials)`);
console.log(`${'space'.padEnd(36)}${'completed'.padStart(10)}${'wall ms'.padStart(10)}${'cpu ms'.padStart(10)}`);
const spaces: [string, Record<string, Distribution>, (p: Record<string, ParamValue>) => number][] = [
  ['Branin (2 floats)', SPACE, (p) => branin(p.x1 as number, p.x2 as number)],
  ['4 params (log, float, int step, cat)', MIXED, objective],
];
for (const [label, space, f] of spaces) {
  for (const [tag, multivariate] of [['', false], [' mv', true]] as const) {
    for (const n of [100, 1000]) {
      const history: FrozenTrial[] = [];
      const random = new RandomSampler({ seed: 1 });
      for (let number = 0; number < n; number++) {
        const params = suggest(random, history, number, space);
        history.push(record(number, params, space, f(params)));
      }
      const tpe = new TPESampler({ seed: 2, multivariate });
      for (let i = 0; i < REPS; i++) suggest(tpe, history, n + i, space);
      const wall0 = performance.now();
      const cpu0 = cpuMs();
      for (let i = 0; i < REPS; i++) suggest(tpe, history, n + REPS + i, space);
      const wall = (performance.now() - wall0) / REPS;
      const cpu = (cpuMs() - cpu0) / REPS;
      console.log(`${(label + tag).padEnd(36)}${String(n).padStart(10)}${wall.toFixed(2).padStart(10)}${cpu.toFixed(2).padStart(10)}`);
    }
  }
}
