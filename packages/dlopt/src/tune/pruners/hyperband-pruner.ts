import { UsageError } from '../../errors.js';
import type { FrozenTrial } from '../trial-state.js';
import { crc32 } from './crc32.js';
import { firstCompletedTrial, reportedSteps, valueAt } from './intermediate-values.js';
import { autoOrIntegerOption, checkOptionKeys, integerOption } from './pruner-options.js';
import type { Pruner, PruningContext } from './pruner.js';
import { SuccessiveHalvingPruner } from './successive-halving-pruner.js';

export interface HyperbandPrunerOptions {
  /** Step of the first rung of the most aggressive bracket (default 1). */
  minResource?: number;
  /**
   * The most steps a trial runs. 'auto' (default): last step of the first
   * completed trial + 1; no pruning until a trial completes.
   */
  maxResource?: 'auto' | number;
  /** η (default 3). */
  reductionFactor?: number;
  /** Passed to each bracket's SuccessiveHalvingPruner (default 0). */
  bootstrapCount?: number;
}

/** What fixes the brackets: every worker computing them from the same three numbers gets the same ones. */
export interface HyperbandShape {
  minResource: number;
  maxResource: number;
  reductionFactor: number;
}

const KEYS = ['minResource', 'maxResource', 'reductionFactor', 'bootstrapCount'] as const;

/**
 * Each bracket's share of trials, by bracket index (bracket b runs successive
 * halving with minEarlyStoppingRate b, so bracket 0 prunes earliest):
 * ⌈n·η^s/(s+1)⌉ with s = n − 1 − b, Hyperband's n_i for bracket s (Li et al.
 * 2018, Algorithm 1) as a ratio, since the number of trials is not known.
 */
export function hyperbandBudgets(shape: HyperbandShape): number[] {
  const n = hyperbandBracketCount(shape);
  const budgets: number[] = [];
  for (let b = 0; b < n; b++) {
    const s = n - 1 - b;
    budgets.push(Math.ceil((n * shape.reductionFactor ** s) / (s + 1)));
  }
  return budgets;
}

/**
 * ⌊log_η(max/min)⌋ + 1, at least 1. Computed by repeated multiplication:
 * Optuna's math.log gives 4.999… for log_3(243) and so one bracket fewer at
 * exact powers of η.
 */
export function hyperbandBracketCount({ minResource, maxResource, reductionFactor }: HyperbandShape): number {
  let n = 1;
  while (minResource * reductionFactor ** n <= maxResource) n++;
  return n;
}

/**
 * The bracket of trial `trialNumber` of study `studyName`: crc32 of
 * `${studyName}_${trialNumber}` modulo the total budget, mapped onto the
 * brackets by their budgets (as Optuna). A hash, so every worker agrees with
 * no coordination, and samplers can filter a trial's history by bracket.
 */
export function hyperbandBracket(studyName: string, trialNumber: number, shape: HyperbandShape): number {
  return bracketOf(studyName, trialNumber, hyperbandBudgets(shape));
}

function bracketOf(studyName: string, trialNumber: number, budgets: readonly number[]): number {
  const total = budgets.reduce((a, b) => a + b, 0);
  let n = crc32(`${studyName}_${trialNumber}`) % total;
  for (let b = 0; b < budgets.length; b++) {
    n -= budgets[b]!;
    if (n < 0) return b;
  }
  return budgets.length - 1;
}

/**
 * Optuna's HyperbandPruner, in its asynchronous form: the trials are spread
 * over brackets by a hash of the study name and trial number (weighted by the
 * bracket budgets), and each bracket is a SuccessiveHalvingPruner with
 * minEarlyStoppingRate = bracket index that only ever compares a trial with
 * trials of its own bracket. Stateless, like that pruner (see there for how
 * this differs from Optuna); a NaN latest value prunes at once.
 */
export class HyperbandPruner implements Pruner {
  readonly name: string = 'hyperband';
  readonly minResource: number;
  readonly maxResource: 'auto' | number;
  readonly reductionFactor: number;
  readonly bootstrapCount: number;
  // Memoised per bracket index; the pruners are stateless, so sharing them changes no decision.
  private readonly bracketPruners = new Map<number, SuccessiveHalvingPruner>();

  constructor(options: HyperbandPrunerOptions = {}) {
    const owner = 'HyperbandPruner';
    const o = checkOptionKeys(owner, options, KEYS);
    this.minResource = integerOption(owner, 'minResource', o['minResource'], 1, 1);
    this.maxResource = autoOrIntegerOption(owner, 'maxResource', o['maxResource'], 'auto', 1);
    this.reductionFactor = integerOption(owner, 'reductionFactor', o['reductionFactor'], 3, 2);
    this.bootstrapCount = integerOption(owner, 'bootstrapCount', o['bootstrapCount'], 0, 0);
    if (this.maxResource !== 'auto' && this.maxResource < this.minResource) {
      throw new UsageError(`${owner}: maxResource (${this.maxResource}) must be ≥ minResource (${this.minResource})`);
    }
  }

  /** The brackets' shape for this study, or undefined while maxResource is 'auto' and no trial has completed. */
  shape(trials: readonly FrozenTrial[]): HyperbandShape | undefined {
    let maxResource = this.maxResource;
    if (maxResource === 'auto') {
      const first = firstCompletedTrial(trials);
      if (first === undefined) return undefined;
      maxResource = reportedSteps(first).at(-1)! + 1;
    }
    return { minResource: this.minResource, maxResource, reductionFactor: this.reductionFactor };
  }

  /** The bracket of trial `trialNumber`, given the study's trials (for 'auto'); undefined while there are no brackets yet. */
  bracket(studyName: string, trials: readonly FrozenTrial[], trialNumber: number): number | undefined {
    const shape = this.shape(trials);
    return shape === undefined ? undefined : hyperbandBracket(studyName, trialNumber, shape);
  }

  prune(ctx: PruningContext): boolean {
    const step = reportedSteps(ctx.trial).at(-1);
    if (step === undefined) return false;
    if (Number.isNaN(valueAt(ctx.trial, step))) return true;
    const shape = this.shape(ctx.trials);
    if (shape === undefined) return false;

    const budgets = hyperbandBudgets(shape);
    const bracket = bracketOf(ctx.studyName, ctx.trial.number, budgets);
    const trials = ctx.trials.filter((t) => bracketOf(ctx.studyName, t.number, budgets) === bracket);
    return this.bracketPruner(bracket).prune({ ...ctx, trials });
  }

  private bracketPruner(bracket: number): SuccessiveHalvingPruner {
    let pruner = this.bracketPruners.get(bracket);
    if (pruner === undefined) {
      pruner = new SuccessiveHalvingPruner({
        minResource: this.minResource,
        reductionFactor: this.reductionFactor,
        minEarlyStoppingRate: bracket,
        bootstrapCount: this.bootstrapCount,
      });
      this.bracketPruners.set(bracket, pruner);
    }
    return pruner;
  }
}
