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
