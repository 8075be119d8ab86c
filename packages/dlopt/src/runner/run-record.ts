import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { TrainConfig } from '../config/train-config.js';
import { PIXEL_SCALE } from '../data/batches.js';
import type { Dataset } from '../data/dataset.js';
import type { Splits } from '../data/splits.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

/** A run directory's config.json: the resolved config plus what the run found (evaluate and resume read it back). */
export interface RunConfigFile {
  config: TrainConfig;
  data: { source: string; format: string; classNames: string[]; inputShape: number[]; preprocessing: object; splits: object };
  backend: string | null;
  dloptVersion: string;
  nodeVersion: string;
  startedAt: string;
  /** Set when the run is one trial of a `dlopt tune` study. */
  trial?: { study: string; number: number; params: object };
}

/** The config.json of a run of `config` on `dataset`, split as `splits`. */
export function runConfigFile(
  config: TrainConfig,
  dataset: Dataset,
  splits: Splits,
  extra: { backend: string | null; startedAt?: Date; trial?: RunConfigFile['trial'] },
): RunConfigFile {
  return {
    config,
    data: {
      source: resolve(dataset.source),
      format: dataset.format,
      classNames: [...dataset.classNames],
      inputShape: [splits.train.height, splits.train.width, splits.train.channels],
      preprocessing: { layout: 'NHWC', channels: 'RGB', scale: PIXEL_SCALE, note: 'pixels are multiplied by scale (uint8 → [0, 1])' },
      splits: splits.describe,
    },
    backend: extra.backend,
    dloptVersion: pkg.version,
    nodeVersion: process.version,
    startedAt: (extra.startedAt ?? new Date()).toISOString(),
    ...(extra.trial && { trial: extra.trial }),
  };
}
