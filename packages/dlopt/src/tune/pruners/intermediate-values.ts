import type { Direction, FrozenTrial } from '../trial-state.js';

// What every pruner reads from a trial's reported values. Pruners keep no
// state, so these are recomputed on every call; they are linear in the number
// of reports, which is small (epochs).

/** The steps a trial reported, ascending (object keys come back as strings and in no promised numeric order once stored). */
export function reportedSteps(trial: FrozenTrial): number[] {
  const steps: number[] = [];
  for (const key of Object.keys(trial.intermediate)) {
    const step = Number(key);
    if (Number.isFinite(step)) steps.push(step);
  }
  return steps.sort((a, b) => a - b);
}

/**
 * The value reported at `step`, undefined when none was. A null reads as NaN:
 * storages keep values as JSON, which turns NaN into null.
 */
export function valueAt(trial: FrozenTrial, step: number): number | undefined {
  const value = (trial.intermediate as Record<number, number | null | undefined>)[step];
  if (value === undefined) return undefined;
  return typeof value === 'number' ? value : Number.NaN;
}

/**
 * +1 to minimize, −1 to maximize. Pruners multiply values by it and then
 * always treat smaller as better: negation is exact, so a maximized study
 * decides exactly like the minimized study of the negated values.
 */
export function orientation(direction: Direction): 1 | -1 {
  return direction === 'maximize' ? -1 : 1;
}

/** The smallest oriented value among `steps` ignoring NaN (Optuna's nanmin/nanmax); NaN when there is none. */
export function bestOrientedValue(trial: FrozenTrial, steps: readonly number[], sign: 1 | -1): number {
  let best = Number.NaN;
  for (const step of steps) {
    const value = valueAt(trial, step);
    if (value === undefined || Number.isNaN(value)) continue;
    const oriented = sign * value;
    if (!(oriented >= best)) best = oriented;
  }
  return best;
}

/**
 * Optuna's `_is_first_in_interval_step`: the pruner judges a trial at the
 * first report at or after each step warm-up + k·interval, so a trial that
 * skips the exact step is still judged once, and never twice per interval.
 */
export function isFirstInIntervalStep(steps: readonly number[], nWarmupSteps: number, intervalSteps: number): boolean {
  const step = steps.at(-1);
  if (step === undefined) return false;
  const previous = steps.length > 1 ? steps.at(-2)! : -Infinity;
  const nearestLowerPruningStep = Math.floor((step - nWarmupSteps) / intervalSteps) * intervalSteps + nWarmupSteps;
  return previous < nearestLowerPruningStep;
}

/**
 * The first trial to complete with at least one report: earliest
 * `completedAt`, then lowest number. Optuna derives 'auto' resources from the
 * completed trials it sees on its first call and caches them; being stateless,
 * we need a rule that picks the same trial on every call and every worker once
 * it is visible, whatever completes afterwards.
 */
export function firstCompletedTrial(trials: readonly FrozenTrial[]): FrozenTrial | undefined {
  let first: FrozenTrial | undefined;
  for (const t of trials) {
    if (t.state !== 'COMPLETE' || reportedSteps(t).length === 0) continue;
    if (first === undefined || completedBefore(t, first)) first = t;
  }
  return first;
}

function completedBefore(a: FrozenTrial, b: FrozenTrial): boolean {
  const ta = a.completedAt ?? Infinity;
  const tb = b.completedAt ?? Infinity;
  return ta !== tb ? ta < tb : a.number < b.number;
}
