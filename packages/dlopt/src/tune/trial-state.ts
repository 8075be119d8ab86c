import type { Distribution, ParamValue } from './distributions.js';

/** Optuna's trial life cycle: WAITING (enqueued) → RUNNING → COMPLETE | PRUNED | FAIL. */
export type TrialState = 'WAITING' | 'RUNNING' | 'COMPLETE' | 'PRUNED' | 'FAIL';

export type Direction = 'minimize' | 'maximize';

/** A trial as storages keep it and samplers and pruners read it: plain data, a snapshot. */
export interface FrozenTrial {
  /** Storage-wide id. */
  id: number;
  /** 0, 1, 2… within its study, in creation order (also what derives its random stream). */
  number: number;
  state: TrialState;
  /** The objective's value, for COMPLETE trials (PRUNED ones may carry their last reported value). */
  value: number | null;
  params: Record<string, ParamValue>;
  distributions: Record<string, Distribution>;
  /** Values reported with trial.report, by step. */
  intermediate: Record<number, number>;
  userAttrs: Record<string, unknown>;
  /** Attributes samplers, pruners and the study keep (fixed params of an enqueued trial, rung values…). */
  systemAttrs: Record<string, unknown>;
  /** ms since the epoch, or null. */
  startedAt: number | null;
  completedAt: number | null;
}

/** The best COMPLETE trial (the lowest number among ties). */
export function bestTrial(trials: readonly FrozenTrial[], direction: Direction): FrozenTrial | undefined {
  let best: FrozenTrial | undefined;
  for (const t of trials) {
    if (t.state !== 'COMPLETE' || t.value === null) continue;
    if (!best || (direction === 'minimize' ? t.value < best.value! : t.value > best.value!)) best = t;
  }
  return best;
}

/** "3 complete, 1 pruned, 0 failed" (running and waiting only when there are some). */
export function countStates(trials: readonly { state: TrialState }[]): string {
  const n = (state: TrialState) => trials.filter((t) => t.state === state).length;
  const parts = [`${n('COMPLETE')} complete`, `${n('PRUNED')} pruned`, `${n('FAIL')} failed`];
  if (n('RUNNING')) parts.push(`${n('RUNNING')} running`);
  if (n('WAITING')) parts.push(`${n('WAITING')} waiting`);
  return parts.join(', ');
}
