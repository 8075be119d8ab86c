import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { DloptError } from '../errors.js';
import type { Callback, CallbackState, TrainingContext } from '../train/callbacks/callback.js';
import { checkPattern, magnitudeMasks, type MaskOptions, type NmPattern, type PruningScope, type SkippedKernel } from './magnitude-masks.js';
import { prunableKernels, type PrunableKernel } from './prunable-kernels.js';
import { countZeros, type LayerSparsity } from './sparsity-report.js';
import type { SparsitySchedule } from './sparsity-schedule.js';

export interface MagnitudePruningOptions {
  schedule: SparsitySchedule;
  /** Default 'layer'. Ignored with a pattern. */
  scope?: PruningScope;
  /**
   * N:M pruning instead of a sparsity: the schedule then only says when masks
   * are recomputed (and that pruning has begun: sparsityAt(step) > 0).
   */
  pattern?: NmPattern;
}

/** What state() saves: the masks' layout beside their bits (one int32 tensor, 32 masks per element). */
interface SavedState {
  lastUpdate: number;
  kernels: { layer: string; name: string; shape: number[] }[] | null;
  skipped: SkippedKernel[];
}

/**
 * Gradual magnitude pruning during training (Zhu & Gupta; tfmot's
 * prune_low_magnitude): at the schedule's update steps the masks are
 * recomputed from the current weights, before the step; after every step the
 * masks are applied again, so whatever the optimizer does (Adam's momentum
 * keeps moving pruned weights) a pruned weight stays exactly 0. Recomputing
 * from masked weights keeps pruned weights pruned: they are the zeros.
 *
 * Put it after weight averaging in the callback list so that its onTrainEnd
 * masks the averaged weights EMA leaves in the model.
 */
export class MagnitudePruning implements Callback {
  readonly name = 'magnitude-pruning';
  readonly schedule: SparsitySchedule;
  readonly scope: PruningScope;
  readonly pattern: NmPattern | undefined;
  private kernelList: PrunableKernel[] = [];
  /** Undefined until pruning begins. */
  private maskList: Uint8Array[] | undefined;
  private skippedList: SkippedKernel[] = [];
  /** Masks on the backend (bool), undefined for all-ones masks; a cache of maskList. */
  private maskTensors: (tf.Tensor | undefined)[] | undefined;
  private stateTensor: tf.Tensor | undefined;
  private lastUpdate = -1;
  private restored: { state: SavedState; bits: Int32Array } | undefined;

  constructor(options: MagnitudePruningOptions) {
    this.schedule = options.schedule;
    this.scope = options.scope ?? 'layer';
    if (this.scope !== 'layer' && this.scope !== 'global') throw new DloptError(`pruning scope must be 'layer' or 'global' but got '${String(this.scope)}'`);
    if (options.pattern) checkPattern(options.pattern);
    this.pattern = options.pattern;
  }

  /** The kernels pruned (known from onTrainBegin). */
  get kernels(): readonly PrunableKernel[] {
    return this.kernelList;
  }

  /** The current masks, one per kernel (1 keeps); empty before pruning begins. */
  get masks(): readonly Uint8Array[] {
    return this.maskList ?? [];
  }

  /** Kernels an N:M pattern left dense, and why. */
  get skipped(): readonly SkippedKernel[] {
    return this.skippedList;
  }

  /** Fraction of the prunable weights the masks remove. */
  currentSparsity(): number {
    if (!this.maskList) return 0;
    let size = 0;
    let zeros = 0;
    for (const m of this.maskList) {
      size += m.length;
      zeros += countZeros(m);
    }
    return size === 0 ? 0 : zeros / size;
  }

  onTrainBegin(ctx: TrainingContext): void {
    this.kernelList = prunableKernels(ctx.model);
    if (this.kernelList.length === 0) throw new DloptError(`model has no layers to prune (Conv2D, Dense, DepthwiseConv2D, SeparableConv2D, GroupedConv2D)`);
    if (this.restored) {
      const { state, bits } = this.restored;
      this.restored = undefined;
      this.lastUpdate = state.lastUpdate;
      this.skippedList = state.skipped;
      this.setMasks(state.kernels ? unpackMasks(bits, this.matchSaved(state.kernels)) : undefined);
    } else if (this.maskList && this.maskList.some((m, i) => m.length !== this.kernelList[i]?.size)) {
      // Masks of another model (the callback reused): start over.
      this.setMasks(undefined);
      this.lastUpdate = -1;
    }
    if (!this.maskList && this.schedule.sparsityAt(ctx.step) > 0) this.update(ctx.step);
    this.apply();
  }

  onBatchBegin(ctx: TrainingContext): void {
    const step = ctx.step;
    if (step === this.lastUpdate || !this.schedule.shouldUpdate(step)) return;
    if (!this.maskList && !(this.schedule.sparsityAt(step) > 0)) return;
    this.update(step);
    this.apply();
  }

  onBatchEnd(): void {
    this.apply();
  }

  onTrainEnd(): void {
    this.apply();
    this.releaseTensors();
  }

  state(): CallbackState {
    tf.dispose(this.stateTensor);
    this.stateTensor = undefined;
    const json: SavedState = {
      lastUpdate: this.lastUpdate,
      kernels: this.maskList ? this.kernelList.map((k) => ({ layer: k.layer, name: k.name, shape: k.shape })) : null,
      skipped: this.skippedList,
    };
    if (!this.maskList) return { json };
    const bits = packMasks(this.maskList);
    this.stateTensor = tf.tensor1d(bits, 'int32');
    return { json, tensors: [this.stateTensor] };
  }

  restore(state: CallbackState): void {
    const json = state.json as SavedState;
    const tensor = state.tensors?.[0];
    if (json.kernels && !tensor) throw new DloptError('the checkpoint of magnitude pruning has no masks');
    const bits = tensor ? Int32Array.from(tensor.dataSync()) : new Int32Array(0);
    tf.dispose(state.tensors);
    this.restored = { state: json, bits };
  }

  /** Frees the tensors the callback holds (masks on the backend, the last state()'s tensor). */
  dispose(): void {
    this.releaseTensors();
  }

  private update(step: number): void {
    const values = this.kernelList.map((k) => asFloat32(k.weight.read().dataSync()));
    const sparsity = this.schedule.sparsityAt(step);
    const options: MaskOptions = this.pattern ? { pattern: this.pattern } : { sparsity, scope: this.scope };
    const { masks, skipped } = magnitudeMasks(this.kernelList, values, options);
    this.skippedList = skipped;
    this.setMasks(masks);
    this.lastUpdate = step;
  }

  private setMasks(masks: Uint8Array[] | undefined): void {
    tf.dispose(this.maskTensors?.filter((t) => t !== undefined));
    this.maskTensors = undefined;
    this.maskList = masks;
  }

  private apply(): void {
    if (!this.maskList) return;
    this.maskTensors ??= this.maskList.map((m, i) => (m.includes(0) ? tf.tensor(m, this.kernelList[i]!.shape, 'bool') : undefined));
    writeMasked(this.kernelList, this.maskTensors);
  }

  private releaseTensors(): void {
    tf.dispose(this.maskTensors?.filter((t) => t !== undefined));
    this.maskTensors = undefined;
    tf.dispose(this.stateTensor);
    this.stateTensor = undefined;
  }

  /** Checks that the checkpoint's masks were made for kernels of the same shapes; returns their sizes. */
  private matchSaved(saved: NonNullable<SavedState['kernels']>): number[] {
    if (saved.length !== this.kernelList.length) {
      throw new DloptError(`the checkpoint has pruning masks for ${saved.length} kernels but the model has ${this.kernelList.length}`);
    }
    return saved.map((s, i) => {
      const k = this.kernelList[i]!;
      if (s.shape.join('x') !== k.shape.join('x')) {
        throw new DloptError(`the checkpoint's pruning mask for layer '${s.layer}' has shape [${s.shape.join(', ')}] but layer '${k.layer}' has [${k.shape.join(', ')}]`);
      }
      return k.size;
    });
  }
}

/**
 * Prunes a model once, now (no fine-tuning): computes the masks from the
 * current weights and writes the masked weights. Kernels an N:M pattern does
 * not fit appear with `skipped` set.
 */
export function applyMagnitudePruning(model: tfl.LayersModel, options: MaskOptions): (LayerSparsity & { skipped?: string })[] {
  const kernels = prunableKernels(model);
  if (kernels.length === 0) throw new DloptError(`model has no layers to prune (Conv2D, Dense, DepthwiseConv2D, SeparableConv2D, GroupedConv2D)`);
  const values = kernels.map((k) => asFloat32(k.weight.read().dataSync()));
  const { masks, skipped } = magnitudeMasks(kernels, values, options);
  const tensors = masks.map((m, i) => (m.includes(0) ? tf.tensor(m, kernels[i]!.shape, 'bool') : undefined));
  try {
    writeMasked(kernels, tensors);
  } finally {
    tf.dispose(tensors.filter((t) => t !== undefined));
  }
  return kernels.map((k) => {
    const skip = skipped.find((s) => s.name === k.name && s.layer === k.layer);
    return {
      layer: k.layer,
      weight: k.name,
      size: k.size,
      zeros: countZeros(k.weight.read().dataSync()),
      ...(skip && { skipped: skip.reason }),
    };
  });
}

// tf.where rather than a multiply: w · 0 is −0 for negative w, and +0 keeps
// the saved weights plain zero bytes (smaller gzipped, exact in sparse files).
function writeMasked(kernels: readonly PrunableKernel[], masks: readonly (tf.Tensor | undefined)[]): void {
  tf.tidy(() => {
    const zero = tf.scalar(0);
    kernels.forEach((k, i) => {
      const mask = masks[i];
      if (mask) k.weight.write(tf.where(mask, k.weight.read(), zero));
    });
  });
}

function asFloat32(values: tf.backend_util.TypedArray): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

function packMasks(masks: readonly Uint8Array[]): Int32Array {
  const total = masks.reduce((n, m) => n + m.length, 0);
  const bits = new Int32Array(Math.ceil(total / 32));
  let at = 0;
  for (const m of masks) {
    for (let j = 0; j < m.length; j++, at++) if (m[j]) bits[at >>> 5]! |= 1 << (at & 31);
  }
  return bits;
}

function unpackMasks(bits: Int32Array, sizes: readonly number[]): Uint8Array[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (bits.length !== Math.ceil(total / 32)) {
    throw new DloptError(`the checkpoint's pruning masks hold ${bits.length * 32} bits but the model's kernels need ${total}`);
  }
  let at = 0;
  return sizes.map((size) => {
    const m = new Uint8Array(size);
    for (let j = 0; j < size; j++, at++) m[j] = (bits[at >>> 5]! >>> (at & 31)) & 1;
    return m;
  });
}
