import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLASS_NAMES } from './fixtures.js';
import type { MetricsLine } from '../report/run-files.js';
import type { Distribution, ParamValue } from '../tune/distributions.js';
import type { StudyStorage } from '../tune/storages/storage.js';

/**
 * Run directories and studies as dlopt writes them, made up in a few
 * milliseconds for the report's tests (no training).
 */

/** One epoch as metrics.jsonl holds it. */
export type EpochLine = MetricsLine;

/** `epochs` epochs of a run that learns: loss falls, accuracy rises, the rate decays by a cosine. */
export function epochLines(epochs: number, options: { start?: number; speed?: number } = {}): EpochLine[] {
  const start = options.start ?? 0;
  return Array.from({ length: epochs }, (_, i) => {
    const p = (i + 1) / Math.max(1, epochs);
    return {
      epoch: i + 1,
      loss: 2 - 1.2 * p + start,
      accuracy: 0.2 + 0.5 * p - start / 10,
      val_loss: 1.9 - 1.0 * p + start,
      val_accuracy: 0.25 + 0.45 * p - start / 10,
      seconds: 3 + i * 0.1,
      images_per_s: (options.speed ?? 2000) + 10 * i,
      lr: 0.001 * 0.5 * (1 + Math.cos(Math.PI * p)),
    };
  });
}

/** 50 validation images per class, `accuracy` of each right, the rest mistaken for the next class and the one three on (cat↔dog-like pairs). */
export function confusionFor(accuracy: number): number[][] {
  const right = Math.round(accuracy * 50);
  return CLASS_NAMES.map((_, i) =>
    CLASS_NAMES.map((__, j) => (j === i ? right : j === (i + 1) % 10 ? Math.ceil((50 - right) / 2) : j === (i + 3) % 10 ? Math.floor((50 - right) / 2) : 0)),
  );
}

/** A finished `dlopt train` run directory (config.json, metrics.jsonl, summary.json; no model). */
export async function writeTrainingRun(dir: string, options: { epochs?: number; model?: string; lines?: EpochLine[]; finished?: boolean; confusion?: boolean } = {}): Promise<string> {
  const lines = options.lines ?? epochLines(options.epochs ?? 4);
  const model = options.model ?? 'seed-cnn';
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify({ config: { model, epochs: lines.length }, data: { source: 'synthetic' }, backend: 'native' }, null, 2));
  await writeFile(join(dir, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l) + '\n').join(''));
  if (options.finished !== false) {
    const last = lines.at(-1);
    await writeFile(
      join(dir, 'summary.json'),
      JSON.stringify({
        model,
        params: 42442,
        trainable_params: 42442,
        flops_per_image: 7948584,
        epochs: lines.length,
        stopped_early: null,
        final: last
          ? {
              val: {
                n: 500,
                loss: last.val_loss,
                accuracy: last.val_accuracy,
                // A run from before dlopt recorded confusion matrices has none.
                ...(options.confusion !== false && { confusion: confusionFor(last.val_accuracy ?? 0.5) }),
              },
            }
          : {},
        class_names: [...CLASS_NAMES],
        last_epoch: last ?? null,
        train_images_per_s: 2100,
        total_seconds: 12.5,
        backend: 'native',
      }),
    );
  }
  return dir;
}

/** A finished `dlopt prune` run: structured (layer widths) or magnitude (per-kernel zeros). */
export async function writePruningRun(dir: string, options: { method?: 'l1' | 'magnitude'; steps?: number } = {}): Promise<string> {
  const method = options.method ?? 'l1';
  const steps = options.steps ?? 2;
  const measurement = (params: number, accuracy: number, rate: number) => ({
    params,
    nonzeroParams: params,
    flops: params * 180,
    sparseFlops: params * 180,
    flopsComplete: true,
    files: { model_json: 2000, weights: params * 4, weights_gzip: params * 3.6, sparse_weights: 0, sparse_weights_gzip: 0 },
    images_per_s: rate,
    val_accuracy: accuracy,
    val_loss: 1,
  });
  const layers =
    method === 'magnitude'
      ? [
          { layer: 'conv1', weight: 'conv1/kernel', size: 864, zeros: 400 },
          { layer: 'conv2', weight: 'conv2/kernel', size: 18432, zeros: 14000 },
          { layer: 'dense', weight: 'dense/kernel', size: 23040, zeros: 19000 },
        ]
      : [
          { layer: 'conv1', type: 'Conv2D', before: 32, after: 16 },
          { layer: 'conv2', type: 'Conv2D', before: 64, after: 32 },
          { layer: 'dense', type: 'Dense', before: 10, after: 10 },
        ];
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify({ prune: { method, sparsity: 0.5 }, config: { model: 'seed-cnn' } }));
  await writeFile(join(dir, 'metrics.jsonl'), epochLines(steps * 2).map((l, i) => JSON.stringify({ ...l, step: Math.floor(i / 2) + 1 }) + '\n').join(''));
  await writeFile(
    join(dir, 'summary.json'),
    JSON.stringify({
      kind: 'prune',
      method,
      scope: 'layer',
      sparsity: 0.5,
      pattern: null,
      original: measurement(42442, 0.66, 18000),
      pruned: measurement(15000, 0.655, 45000),
      speedup: 2.5,
      accuracy_change: -0.005,
      steps: Array.from({ length: steps }, (_, i) => ({
        step: i + 1,
        target: (0.5 * (i + 1)) / steps,
        pruned_accuracy: method === 'magnitude' ? null : 0.5 - 0.1 * i,
        val_accuracy: 0.66 - 0.003 * (i + 1),
        val_loss: 1,
        params: 42442 - 13000 * (i + 1),
        nonzero_params: 42442 - 13000 * (i + 1),
        flops: 1e6,
        achieved: (0.5 * (i + 1)) / steps,
      })),
      layers,
      class_names: [...CLASS_NAMES],
      confusion: { original: confusionFor(0.66), pruned: prunedConfusion() },
    }),
  );
  return dir;
}

/** confusionFor(0.66) after pruning: cats lose 4 images to dogs, dogs 2 to frogs, ships gain 1 back from trucks. */
function prunedConfusion(): number[][] {
  const m = confusionFor(0.66);
  const move = (row: number, from: number, to: number, n: number) => {
    m[row]![from]! -= n;
    m[row]![to]! += n;
  };
  move(3, 3, 4, 4);
  move(5, 5, 6, 2);
  move(8, 9, 8, 1);
  return m;
}

export interface TrialSpec {
  state: 'COMPLETE' | 'PRUNED' | 'FAIL' | 'RUNNING';
  params: Record<string, ParamValue>;
  /** Per-epoch values reported. */
  curve: number[];
  value?: number;
}

export const SEARCH_SPACE: Record<string, Distribution> = {
  'optimizer.lr': { type: 'float', low: 1e-4, high: 0.03, log: true },
  batchSize: { type: 'int', low: 16, high: 128, log: false, step: 16 },
  'optimizer.name': { type: 'categorical', choices: ['adam', 'sgd', 'rmsprop'] },
};

/**
 * A study as `dlopt tune` leaves it: `count` trials over SEARCH_SPACE whose
 * accuracy depends mostly on the learning rate; every fourth one pruned.
 */
export function studyTrials(count: number): TrialSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const lr = 1e-4 * Math.pow(300, ((i * 7) % count) / Math.max(1, count - 1));
    const name = ['adam', 'sgd', 'rmsprop'][i % 3]!;
    const peak = 0.6 - 0.08 * Math.abs(Math.log10(lr) + 2.5);
    const pruned = i % 4 === 3;
    const epochs = pruned ? 2 : 4;
    const curve = Array.from({ length: epochs }, (_, e) => peak * (0.6 + (0.4 * (e + 1)) / 4));
    return { state: pruned ? 'PRUNED' : 'COMPLETE', params: { 'optimizer.lr': lr, batchSize: 16 * (1 + (i % 8)), 'optimizer.name': name }, curve };
  });
}

/** Writes `trials` into a study of `storage` (created; direction maximize; metric recorded as dlopt tune does). */
export async function writeStudy(storage: StudyStorage, name: string, trials: readonly TrialSpec[], metric = 'val_accuracy'): Promise<void> {
  const study = await storage.createStudy(name, 'maximize');
  await storage.setStudySystemAttr(study.id, 'tune', { metric });
  for (const spec of trials) {
    const trial = await storage.createTrial(study.id);
    for (const [param, value] of Object.entries(spec.params)) await storage.setTrialParam(trial.id, param, SEARCH_SPACE[param]!, value);
    for (const [i, v] of spec.curve.entries()) await storage.setTrialIntermediateValue(trial.id, i + 1, v);
    if (spec.state !== 'RUNNING') {
      const value = spec.value ?? (spec.state === 'COMPLETE' ? spec.curve.at(-1)! : spec.state === 'PRUNED' ? (spec.curve.at(-1) ?? null) : null);
      await storage.finishTrial(trial.id, spec.state, value);
    }
  }
}
