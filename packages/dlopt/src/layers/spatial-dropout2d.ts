import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UsageError } from '../errors.js';
import type { CountsFlops } from './counts-flops.js';
import { formatShape, formatValue, optionalInteger, singleShape, singleTensor, type LayerArgs } from './layer-options.js';

export interface SpatialDropout2DArgs extends LayerArgs {
  /** Fraction of channels dropped, in [0, 1). */
  rate: number;
  /**
   * Seeds the first training call's mask; later calls continue from it.
   * Without one, masks come from Math.random, which dlopt's training loop
   * seeds per step (so training stays reproducible and resumable).
   */
  seed?: number;
}

/**
 * Spatial dropout for NHWC feature maps (Tompson et al. 2015; Keras's
 * SpatialDropout2D, which tfjs-layers lacks): drops whole channels, one mask
 * per example, and scales the kept ones by 1/(1 − rate). Neighbouring pixels
 * of a feature map are strongly correlated, so dropping single activations
 * regularizes convolutions little; dropping a channel does. Identity at
 * inference.
 */
export class SpatialDropout2D extends tfl.layers.Layer implements CountsFlops {
  static className = 'SpatialDropout2D';

  readonly rate: number;
  readonly seed: number | undefined;
  private calls = 0;

  constructor(args: SpatialDropout2DArgs) {
    super(args);
    if (!(typeof args.rate === 'number' && args.rate >= 0 && args.rate < 1)) {
      throw new UsageError(`SpatialDropout2D: rate must be in [0, 1) but got ${formatValue(args.rate)}`);
    }
    this.rate = args.rate;
    this.seed = optionalInteger(args.seed, 'SpatialDropout2D: seed');
    this.supportsMasking = true;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = singleShape(inputShape, 'SpatialDropout2D');
    if (shape.length !== 4) throw new UsageError(`SpatialDropout2D expects NHWC input of rank 4 (got shape ${formatShape(shape)})`);
    this.inputSpec = [new tfl.InputSpec({ ndim: 4 })];
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = singleTensor(inputs, 'SpatialDropout2D');
    if (kwargs.training !== true || this.rate === 0) return tf.clone(x);
    const [n, , , c] = x.shape as [number, number, number, number];
    // A different mask each step, yet the same sequence for the same seed.
    const seed = this.seed === undefined ? undefined : this.seed + this.calls++;
    return tf.dropout(x, this.rate, [n, 1, 1, c], seed);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return singleShape(inputShape, 'SpatialDropout2D');
  }

  /** Nothing at inference. */
  flopsPerExample(): number {
    return 0;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, ...(this.seed !== undefined && { seed: this.seed }) };
  }
}

tf.serialization.registerClass(SpatialDropout2D);
