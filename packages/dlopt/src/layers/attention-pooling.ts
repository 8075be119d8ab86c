import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DloptError } from '../errors.js';
import type { CountsFlops } from './counts-flops.js';
import type { Identifier, Initializer, SeededLayerArgs } from './layer-options.js';
import { formatShape, optionalInteger, positiveInteger, resolveInitializer, seededInitializer, serializeOption, singleShape, singleTensor } from './layer-options.js';

export interface AttentionPoolingArgs extends SeededLayerArgs {
  /** Width of the scoring network's hidden layer (the `units` of additive attention). */
  units: number;
  /** Independent attention distributions, whose pooled vectors are concatenated; default 1. */
  numHeads?: number;
  /** Bias in the scoring network's hidden layer; default true. */
  useBias?: boolean;
  /** Of the two scoring kernels; default glorotUniform. */
  kernelInitializer?: Identifier<Initializer>;
}

/**
 * Pools a sequence [batch, time, features], or an image feature map
 * [batch, h, w, c] taken as h·w tokens, to one vector per example by additive
 * attention (Bahdanau et al. 2015; multi-head as in Lin et al. 2017, "A
 * structured self-attentive sentence embedding"):
 *   s_t = tanh(x_t W + b) V            (W: [features, units], V: [units, heads])
 *   α_·h = softmax_t(s_·h),  out_h = Σ_t α_th x_t,  output = concat_h(out_h)
 * Output: [batch, heads·features]. The heads share the hidden layer and
 * differ only in V.
 *
 * Additive scoring rather than a learned query's dot product: the tanh layer
 * lets a token's score depend non-linearly on its features, at the cost of
 * one [features, units] matMul per token. The output is a convex combination
 * of the input tokens (no value projection), so it keeps the input's units;
 * it does not depend on the tokens' order.
 */
export class AttentionPooling extends tfl.layers.Layer implements CountsFlops {
  static className = 'AttentionPooling';

  readonly units: number;
  readonly numHeads: number;
  readonly useBias: boolean;
  readonly seed: number | undefined;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;

  private kernel!: tfl.LayerVariable;
  private bias?: tfl.LayerVariable;
  private scoreKernel!: tfl.LayerVariable;
  /** As built: tokens per example and features per token. */
  private builtShape?: { tokens: number; features: number };

  constructor(args: AttentionPoolingArgs) {
    super(args);
    this.units = positiveInteger(args.units, 'AttentionPooling: units');
    this.numHeads = positiveInteger(args.numHeads ?? 1, 'AttentionPooling: numHeads');
    this.useBias = args.useBias ?? true;
    this.seed = optionalInteger(args.seed, 'AttentionPooling: seed');
    this.kernelInitializer = resolveInitializer(args.kernelInitializer ?? 'glorotUniform', 'AttentionPooling: kernelInitializer');
    this.biasInitializer = resolveInitializer(args.biasInitializer ?? 'zeros', 'AttentionPooling: biasInitializer');
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = tokensShape(inputShape);
    const features = shape.at(-1);
    if (features === null || features === undefined) throw new DloptError('AttentionPooling: the number of features (last dimension) must be known');
    let stream = 0;
    const weight = (name: string, s: number[], init: Initializer) =>
      this.addWeight(name, s, 'float32', seededInitializer(init, this.seed, stream++), undefined, true);
    this.kernel = weight('kernel', [features, this.units], this.kernelInitializer);
    this.scoreKernel = weight('score_kernel', [this.units, this.numHeads], this.kernelInitializer);
    if (this.useBias) this.bias = weight('bias', [this.units], this.biasInitializer);
    this.inputSpec = [new tfl.InputSpec({ ndim: shape.length, axes: { [-1]: features } })];
    this.builtShape = { tokens: shape.slice(1, -1).reduce<number>((a, d) => a * (d ?? 1), 1), features };
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = tokensShape(inputShape);
    const features = shape.at(-1);
    return [shape[0] ?? null, features === null || features === undefined ? null : this.numHeads * features];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs, 'AttentionPooling');
      const [batch, ...rest] = x.shape as number[];
      const features = rest.at(-1)!;
      const tokens = rest.slice(0, -1).reduce((a, d) => a * d, 1);
      const flat = tf.reshape(x, [batch! * tokens, features]);
      let hidden = tf.matMul(flat, this.kernel.read() as tf.Tensor2D);
      if (this.bias) hidden = tf.add(hidden, this.bias.read());
      const scores = tf.matMul(tf.tanh(hidden), this.scoreKernel.read() as tf.Tensor2D); // [batch·T, heads]
      // tfjs's softmax works on the last axis only: put time last.
      const weights = tf.softmax(tf.transpose(tf.reshape(scores, [batch!, tokens, this.numHeads]), [0, 2, 1]), -1);
      const pooled = tf.matMul(weights as tf.Tensor3D, tf.reshape(x, [batch!, tokens, features])); // [batch, heads, features]
      return tf.reshape(pooled, [batch!, this.numHeads * features]);
    });
  }

  /**
   * Per example with T tokens, d features, u units, H heads: the hidden layer
   * (2·T·d·u, + T·u bias, + T·u tanh), the scores (2·T·u·H), softmax (3·T·H)
   * and the weighted sums (2·T·d·H). Unknown dimensions count as 1.
   */
  flopsPerExample(): number {
    if (!this.builtShape) throw new DloptError('AttentionPooling: flopsPerExample needs a built layer');
    const { tokens: t, features: d } = this.builtShape;
    const [u, h] = [this.units, this.numHeads];
    return t * u * (2 * d + (this.useBias ? 1 : 0) + 1) + 2 * t * u * h + 3 * t * h + 2 * t * d * h;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      units: this.units,
      numHeads: this.numHeads,
      useBias: this.useBias,
      kernelInitializer: serializeOption(this.kernelInitializer),
      biasInitializer: serializeOption(this.biasInitializer),
    };
    if (this.seed !== undefined) config.seed = this.seed;
    return { ...super.getConfig(), ...config };
  }
}

function tokensShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
  const shape = singleShape(inputShape, 'AttentionPooling');
  if (shape.length !== 3 && shape.length !== 4) {
    throw new DloptError(`AttentionPooling: input must be [batch, time, features] or [batch, height, width, channels] but got ${formatShape(shape)}`);
  }
  return shape;
}

tf.serialization.registerClass(AttentionPooling);
