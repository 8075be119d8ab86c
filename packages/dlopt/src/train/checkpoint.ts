import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { DloptError, describeError } from '../errors.js';
import { loadModel, saveModel } from '../io/model-files.js';
import { readTensors, writeTensors, type TensorSpec } from '../io/tensor-files.js';
import type { Callback, CallbackState, TrainingContext } from './callbacks/callback.js';
import type { EpochMetrics } from './fit.js';
import { TrainingOptimizer } from './optimizers/training-optimizer.js';

export const CHECKPOINT_DIR = 'checkpoint';
const NEXT_DIR = 'checkpoint-next';
const STATE_FILE = 'state.json';

interface StateFile {
  /** Epochs completed. */
  epoch: number;
  step: number;
  history: EpochMetrics[];
  optimizer: TensorSpec[];
  /** TrainingOptimizer.exactState(). */
  optimizerExact?: Record<string, number>;
  callbacks: Record<string, { json: unknown; tensors: TensorSpec[] }>;
}

export interface Checkpoint {
  epoch: number;
  step: number;
  history: EpochMetrics[];
  model: tfl.LayersModel;
  optimizerWeights: { name: string; tensor: tf.Tensor }[];
  optimizerExact: Record<string, number>;
  callbacks: Record<string, CallbackState>;
}

/**
 * Saves everything needed to continue training after the epoch just ended:
 * the model (a loadable model.json + weights), the optimizer's state, each
 * callback's state and the history. Written to a fresh directory that then
 * replaces the previous checkpoint, state.json last, so a crash at any point
 * leaves one complete checkpoint.
 */
export async function saveCheckpoint(
  runDir: string,
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  ctx: { epoch: number; step: number },
  history: EpochMetrics[],
  callbacks: readonly Callback[],
): Promise<void> {
  const next = join(runDir, NEXT_DIR);
  await rm(next, { recursive: true, force: true });
  await mkdir(next, { recursive: true });
  await saveModel(model, next);
  const optimizerWeights = await optimizer.getWeights();
  let written: StateFile['optimizer'];
  try {
    written = await writeTensors(join(next, 'optimizer.bin'), optimizerWeights);
  } finally {
    // getWeights returns the optimizer's own variables plus a fresh iteration-count scalar: free only the latter.
    tf.dispose(optimizerWeights.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
  }
  const state: StateFile = {
    epoch: ctx.epoch,
    step: ctx.step,
    history,
    optimizer: written,
    ...(optimizer instanceof TrainingOptimizer && { optimizerExact: optimizer.exactState() }),
    callbacks: {},
  };
  for (const cb of callbacks) {
    const s = cb.state?.();
    if (!s) continue;
    const tensors = s.tensors ? await writeTensors(join(next, `callback-${cb.name}.bin`), s.tensors.map((tensor) => ({ tensor }))) : [];
    state.callbacks[cb.name] = { json: s.json, tensors };
  }
  await writeFile(join(next, STATE_FILE), JSON.stringify(state));
  const current = join(runDir, CHECKPOINT_DIR);
  await rm(current, { recursive: true, force: true });
  await rename(next, current);
}

/** The run's latest complete checkpoint, or undefined if it has none. */
export async function loadCheckpoint(runDir: string): Promise<Checkpoint | undefined> {
  // A crash between removing the old checkpoint and renaming the new one leaves only the new one.
  for (const name of [CHECKPOINT_DIR, NEXT_DIR]) {
    const dir = join(runDir, name);
    const hasState = await stat(join(dir, STATE_FILE)).then(() => true, () => false);
    if (!hasState) continue;
    let state: StateFile;
    try {
      state = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as StateFile;
    } catch (error) {
      throw new DloptError(`checkpoint ${dir} is corrupt: ${describeError(error)}`, { cause: error });
    }
    const { model } = await loadModel(dir);
    const optimizerTensors = await readTensors(join(dir, 'optimizer.bin'), state.optimizer);
    const callbacks: Record<string, CallbackState> = {};
    for (const [cbName, s] of Object.entries(state.callbacks)) {
      callbacks[cbName] = {
        json: s.json,
        ...(s.tensors.length > 0 && { tensors: await readTensors(join(dir, `callback-${cbName}.bin`), s.tensors) }),
      };
    }
    return {
      epoch: state.epoch,
      step: state.step,
      history: state.history,
      model,
      optimizerWeights: state.optimizer.map((spec, i) => ({ name: spec.name ?? String(i), tensor: optimizerTensors[i]! })),
      optimizerExact: state.optimizerExact ?? {},
      callbacks,
    };
  }
  return undefined;
}

/** Checkpoints the run after every epoch (runs after the other callbacks, so their state is final). */
export class CheckpointCallback implements Callback {
  readonly name = 'checkpoint';
  private readonly history: EpochMetrics[];

  constructor(
    readonly runDir: string,
    readonly optimizer: tf.Optimizer,
    readonly callbacks: readonly Callback[],
    history: EpochMetrics[] = [],
  ) {
    this.history = [...history];
  }

  async onEpochEnd(metrics: EpochMetrics, ctx: TrainingContext): Promise<void> {
    this.history.push(metrics);
    await saveCheckpoint(this.runDir, ctx.model, this.optimizer, ctx, this.history, this.callbacks);
  }
}

/** Puts a checkpoint back into a freshly built model, its optimizer and callbacks. */
export async function restoreCheckpoint(
  checkpoint: Checkpoint,
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  callbacks: readonly Callback[],
): Promise<void> {
  model.setWeights(checkpoint.model.getWeights());
  checkpoint.model.dispose();
  await optimizer.setWeights(checkpoint.optimizerWeights);
  if (optimizer instanceof TrainingOptimizer) optimizer.restoreExactState(checkpoint.optimizerExact);
  for (const cb of callbacks) {
    const s = checkpoint.callbacks[cb.name];
    if (s && cb.restore) cb.restore(s);
  }
}
