import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UsageError } from '../errors.js';
import type { CountsFlops } from './counts-flops.js';
import type { LayerArgs } from './layer-options.js';
import { formatShape, formatValue, singleShape, singleTensor } from './layer-options.js';

export interface LocalResponseNormalizationArgs extends LayerArgs {
  /** Channels on each side of the one normalized (the window is 2·depthRadius + 1 wide). Default 5. */
  depthRadius?: number;
  /** Default 1. */
  bias?: number;
  /** Default 1. */
  alpha?: number;
  /** Default 0.5. */
  beta?: number;
}

/**
 * AlexNet's local response normalization across channels, with TensorFlow's
 * semantics (tf.nn.local_response_normalization, tf.localResponseNormalization):
 *
 *   y[n,h,w,c] = x[n,h,w,c] / (bias + alpha · Σ_{c' = c−r..c+r} x[n,h,w,c']²)^beta
 *
 * alpha multiplies the plain sum (Caffe and PyTorch divide it by the window
 * size first). NHWC input of rank 4; no weights.
 */
export class LocalResponseNormalization extends tfl.layers.Layer implements CountsFlops {
  static className = 'LocalResponseNormalization';

  readonly depthRadius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: number;
  /** [height, width, channels] of the input the layer was built for. */
  private builtFor: [number | null, number | null, number | null] | null = null;

  constructor(args: LocalResponseNormalizationArgs = {}) {
    super(args);
    this.depthRadius = args.depthRadius ?? 5;
    if (!Number.isInteger(this.depthRadius) || this.depthRadius < 0) {
      throw new UsageError(`depthRadius must be a non-negative integer (got ${formatValue(args.depthRadius)})`);
    }
    this.bias = finite(args.bias ?? 1, 'bias');
    this.alpha = finite(args.alpha ?? 1, 'alpha');
    this.beta = finite(args.beta ?? 0.5, 'beta');
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = singleShape(inputShape, 'LocalResponseNormalization');
    if (shape.length !== 4) {
      throw new UsageError(`LocalResponseNormalization expects NHWC input of rank 4 (got shape ${formatShape(shape)})`);
    }
    this.inputSpec = [new tfl.InputSpec({ ndim: 4 })];
    this.builtFor = [shape[1] ?? null, shape[2] ?? null, shape[3] ?? null];
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => tf.localResponseNormalization(singleTensor(inputs, 'LocalResponseNormalization') as tf.Tensor4D, this.depthRadius, this.bias, this.alpha, this.beta));
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return [...singleShape(inputShape, 'LocalResponseNormalization')];
  }

  /**
   * Per output element: the window's squares summed (w multiply-adds, w the
   * window's width at that channel, narrower at the edges), then scale,
   * offset, power and multiply (4). Unknown sizes count as 1, as in
   * models/flops.ts.
   */
  flopsPerExample(): number {
    if (!this.builtFor) throw new Error(`${this.name}: flopsPerExample() needs the layer built (apply it to an input first)`);
    const [h, w, c] = this.builtFor.map((d) => d ?? 1) as [number, number, number];
    let perPosition = 0;
    for (let k = 0; k < c; k++) {
      const window = Math.min(c - 1, k + this.depthRadius) - Math.max(0, k - this.depthRadius) + 1;
      perPosition += 2 * window + 4;
    }
    return h * w * perPosition;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { depthRadius: this.depthRadius, bias: this.bias, alpha: this.alpha, beta: this.beta, ...super.getConfig() };
  }
}
tf.serialization.registerClass(LocalResponseNormalization);

function finite(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new UsageError(`${name} must be a finite number (got ${formatValue(value)})`);
  return value;
}
