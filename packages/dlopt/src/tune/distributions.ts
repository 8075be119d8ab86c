/**
 * The search space of one parameter, Optuna's three kinds. A distribution is
 * plain data (it goes into storages as JSON); samplers work on an internal
 * number per parameter: the value itself for float and int (its logarithm
 * when `log`), the index of the choice for categorical.
 */
export type ParamValue = number | string | boolean | null;

export interface FloatDistribution {
  type: 'float';
  low: number;
  high: number;
  log: boolean;
  /** Values are low + k·step (not with log). */
  step?: number;
}

export interface IntDistribution {
  type: 'int';
  low: number;
  high: number;
  log: boolean;
  /** Values are low + k·step (1 unless given; must be 1 with log). */
  step: number;
}

export interface CategoricalDistribution {
  type: 'categorical';
  choices: readonly ParamValue[];
}

export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;
