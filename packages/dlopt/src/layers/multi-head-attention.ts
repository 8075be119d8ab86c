import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DloptError, UsageError } from '../errors.js';
import type { CountsFlops } from './counts-flops.js';
import type { Identifier, Initializer, SeededLayerArgs } from './layer-options.js';
import { formatShape, optionalInteger, optionalPositiveInteger, positiveInteger, resolveInitializer, seededInitializer, serializeOption } from './layer-options.js';

type Kwargs = Parameters<tfl.layers.Layer['call']>[1];

export interface MultiHeadSelfAttentionArgs extends SeededLayerArgs {
  /** Number of attention heads (≥ 1). */
  numHeads: number;
  /** Size of each head's query and key projections. */
  keyDim: number;
  /** Size of each head's value projection; default keyDim. */
  valueDim?: number;
  /** Features of the output; default the query's features, so the layer fits a residual connection. */
  outputDim?: number;
  /** Biases on the query, value and output projections; default true (never on the key: see the class comment). */
  useBias?: boolean;
  /** Each query position t attends only to key positions ≤ t (decoder-style); default false. */
  causal?: boolean;
  /** Dropout rate on the attention probabilities while training, in [0, 1); default 0. */
  dropout?: number;
  /** Of the four projection kernels; default glorotUniform. */
  kernelInitializer?: Identifier<Initializer>;
}

/**
 * Multi-head scaled dot-product attention (Vaswani et al. 2017) over
 * sequences [batch, time, features]:
 *   head_h = softmax(Q_h K_hᵀ / √keyDim) V_h,   output = concat_h(head_h) W_o + b_o
 * with Q_h = query W_q,h, K_h = key W_k,h, V_h = value W_v,h (+ biases).
 *
 * Called on one tensor it is self-attention; called on [query, value] or
 * [query, value, key] (Keras's order; key defaults to value) it is
 * cross-attention. Output: [batch, Tq, outputDim].
 *
 * The key projection has no bias, unlike Keras's: q·(k + b) = q·k + q·b adds
 * the same amount to every score of a query, which softmax cancels, so a key
 * bias never changes the output and never gets a gradient.
 *
 * Registered as 'MultiHeadSelfAttention' because tfjs-layers' ESM build
 * registers its own unexported nlp class as 'MultiHeadAttention'.
 */
export class MultiHeadSelfAttention extends tfl.layers.Layer implements CountsFlops {
  static className = 'MultiHeadSelfAttention';

  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly outputDim: number | undefined;
  readonly useBias: boolean;
  readonly causal: boolean;
  readonly dropout: number;
  readonly seed: number | undefined;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;

  private queryKernel!: tfl.LayerVariable;
  private keyKernel!: tfl.LayerVariable;
  private valueKernel!: tfl.LayerVariable;
  private outputKernel!: tfl.LayerVariable;
  private queryBias?: tfl.LayerVariable;
  private valueBias?: tfl.LayerVariable;
  private outputBias?: tfl.LayerVariable;
  /** Shapes without the batch dimension, as built: query, value, key. */
  private builtShapes?: [number[], number[], number[]];

  constructor(args: MultiHeadSelfAttentionArgs) {
    super(args);
    this.numHeads = positiveInteger(args.numHeads, 'MultiHeadSelfAttention: numHeads');
    this.keyDim = positiveInteger(args.keyDim, 'MultiHeadSelfAttention: keyDim');
    this.valueDim = positiveInteger(args.valueDim ?? this.keyDim, 'MultiHeadSelfAttention: valueDim');
    this.outputDim = optionalPositiveInteger(args.outputDim, 'MultiHeadSelfAttention: outputDim');
    this.useBias = args.useBias ?? true;
    this.causal = args.causal ?? false;
    this.dropout = args.dropout ?? 0;
    if (typeof this.dropout !== 'number' || !(this.dropout >= 0 && this.dropout < 1)) {
      throw new UsageError(`MultiHeadSelfAttention: dropout must be in [0, 1) but got ${args.dropout}`);
    }
    this.seed = optionalInteger(args.seed, 'MultiHeadSelfAttention: seed');
    this.kernelInitializer = resolveInitializer(args.kernelInitializer ?? 'glorotUniform', 'MultiHeadSelfAttention: kernelInitializer');
    this.biasInitializer = resolveInitializer(args.biasInitializer ?? 'zeros', 'MultiHeadSelfAttention: biasInitializer');
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const [query, value, key] = splitShapes(inputShape);
    const features = (shape: tfl.Shape, what: string): number => {
      const d = shape.at(-1);
      if (shape.length !== 3 || d === null || d === undefined) {
        throw new DloptError(`MultiHeadSelfAttention: ${what} must be [batch, time, features] with known features but got ${formatShape(shape)}`);
      }
      return d;
    };
    const dq = features(query, 'query');
    const dv = features(value, 'value');
    const dk = features(key, 'key');
    if (key[1] !== null && value[1] !== null && key[1] !== value[1]) {
      throw new DloptError(`MultiHeadSelfAttention: key and value must have the same length but got ${key[1]} and ${value[1]}`);
    }
    const hk = this.numHeads * this.keyDim;
    const hv = this.numHeads * this.valueDim;
    const out = this.outputDim ?? dq;
    let stream = 0;
    const weight = (name: string, shape: number[], init: Initializer) =>
      this.addWeight(name, shape, 'float32', seededInitializer(init, this.seed, stream++), undefined, true);
    // 2-D kernels [in, heads·dim]: one matMul per projection, and glorot's fans are the projection's (in, heads·dim);
    // tfjs would take a 3-D [in, heads, dim] kernel for a convolution's and get them wrong.
    this.queryKernel = weight('query/kernel', [dq, hk], this.kernelInitializer);
    this.keyKernel = weight('key/kernel', [dk, hk], this.kernelInitializer);
    this.valueKernel = weight('value/kernel', [dv, hv], this.kernelInitializer);
    this.outputKernel = weight('output/kernel', [hv, out], this.kernelInitializer);
    if (this.useBias) {
      this.queryBias = weight('query/bias', [hk], this.biasInitializer);
      this.valueBias = weight('value/bias', [hv], this.biasInitializer);
      this.outputBias = weight('output/bias', [out], this.biasInitializer);
    }
    const known = (s: tfl.Shape) => s.slice(1).map((d) => d ?? 1);
    this.builtShapes = [known(query), known(value), known(key)];
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const [query] = splitShapes(inputShape);
    return [query[0] ?? null, query[1] ?? null, this.outputDim ?? query.at(-1) ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [query, value, key] = splitInputs(inputs);
      for (const x of [query, value, key]) {
        if (x.rank !== 3) throw new DloptError(`MultiHeadSelfAttention: inputs must be [batch, time, features] but got ${formatShape(x.shape)}`);
      }
      const batch = query.shape[0]!;
      const tq = query.shape[1]!;
      const tk = key.shape[1]!;
      if (value.shape[1] !== tk) {
        throw new DloptError(`MultiHeadSelfAttention: key and value must have the same length but got ${tk} and ${value.shape[1]}`);
      }
      const h = this.numHeads;
      // [batch, T, d] → [batch·heads, T, dim], so one batched matMul covers every head.
      const heads = (x: tf.Tensor, kernel: tfl.LayerVariable, bias: tfl.LayerVariable | undefined, dim: number): tf.Tensor3D => {
        const [b, t, d] = x.shape as [number, number, number];
        let y = tf.matMul(tf.reshape(x, [b * t, d]), kernel.read() as tf.Tensor2D);
        if (bias) y = tf.add(y, bias.read());
        return tf.reshape(tf.transpose(tf.reshape(y, [b, t, h, dim]), [0, 2, 1, 3]), [b * h, t, dim]);
      };
      // Scaling Q (Tq·keyDim values) is cheaper than scaling the Tq·Tk scores.
      const q = tf.mul(heads(query, this.queryKernel, this.queryBias, this.keyDim), 1 / Math.sqrt(this.keyDim));
      const k = heads(key, this.keyKernel, undefined, this.keyDim);
      const v = heads(value, this.valueKernel, this.valueBias, this.valueDim);
      let scores: tf.Tensor = tf.matMul(q, k, false, true); // [batch·heads, Tq, Tk]
      if (this.causal) scores = tf.add(scores, causalMask(tq, tk));
      let probs = tf.softmax(scores, -1);
      if (kwargs?.['training'] === true && this.dropout > 0) probs = tf.dropout(probs, this.dropout);
      const attended = tf.matMul(probs as tf.Tensor3D, v); // [batch·heads, Tq, valueDim]
      const merged = tf.reshape(tf.transpose(tf.reshape(attended, [batch, h, tq, this.valueDim]), [0, 2, 1, 3]), [batch * tq, h * this.valueDim]);
      let out = tf.matMul(merged, this.outputKernel.read() as tf.Tensor2D);
      if (this.outputBias) out = tf.add(out, this.outputBias.read());
      return tf.reshape(out, [batch, tq, out.shape[1]!]);
    });
  }

  /**
   * Per example, by models/flops.ts's convention: the four projections
   * (multiply-adds, + biases), scaling Q, QKᵀ, the causal mask add, softmax (3 per
   * score), the weighted sum of values. Dropout is training-only. Time
   * dimensions unknown at build time count as 1, as in models/flops.ts.
   */
  flopsPerExample(): number {
    if (!this.builtShapes) throw new DloptError('MultiHeadSelfAttention: flopsPerExample needs a built layer');
    const [[tq, dq], [tk, dv], [, dk]] = this.builtShapes as [[number, number], [number, number], [number, number]];
    const h = this.numHeads;
    const hk = h * this.keyDim;
    const hv = h * this.valueDim;
    const out = this.outputDim ?? dq;
    const bias = this.useBias ? 1 : 0;
    const projections =
      tq * hk * (2 * dq + bias) + tk * hk * 2 * dk + tk * hv * (2 * dv + bias) + tq * out * (2 * hv + bias);
    const scale = tq * hk;
    const scores = 2 * h * tq * tk * this.keyDim;
    const mask = this.causal ? h * tq * tk : 0;
    const softmax = 3 * h * tq * tk;
    const weighted = 2 * h * tq * tk * this.valueDim;
    return projections + scale + scores + mask + softmax + weighted;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      numHeads: this.numHeads,
      keyDim: this.keyDim,
      valueDim: this.valueDim,
      useBias: this.useBias,
      causal: this.causal,
      dropout: this.dropout,
      kernelInitializer: serializeOption(this.kernelInitializer),
      biasInitializer: serializeOption(this.biasInitializer),
    };
    if (this.outputDim !== undefined) config.outputDim = this.outputDim;
    if (this.seed !== undefined) config.seed = this.seed;
    return { ...super.getConfig(), ...config };
  }
}

/** 0 where key j ≤ query i, a large negative number elsewhere (added to the scores: exp underflows to exactly 0). */
function causalMask(tq: number, tk: number): tf.Tensor2D {
  const allowed = tf.linalg.bandPart(tf.ones([tq, tk]), -1, 0);
  return tf.mul(tf.sub(1, allowed), -1e9) as tf.Tensor2D;
}

function splitShapes(inputShape: tfl.Shape | tfl.Shape[]): [tfl.Shape, tfl.Shape, tfl.Shape] {
  if (!Array.isArray(inputShape[0])) {
    const s = inputShape as tfl.Shape;
    return [s, s, s];
  }
  const list = inputShape as tfl.Shape[];
  if (list.length < 1 || list.length > 3) {
    throw new DloptError(`MultiHeadSelfAttention takes one input or [query, value] or [query, value, key], but got ${list.length} inputs`);
  }
  const query = list[0]!;
  const value = list[1] ?? query;
  return [query, value, list[2] ?? value];
}

function splitInputs(inputs: tf.Tensor | tf.Tensor[]): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (!Array.isArray(inputs)) return [inputs, inputs, inputs];
  if (inputs.length < 1 || inputs.length > 3) {
    throw new DloptError(`MultiHeadSelfAttention takes one input or [query, value] or [query, value, key], but got ${inputs.length} inputs`);
  }
  const query = inputs[0]!;
  const value = inputs[1] ?? query;
  return [query, value, inputs[2] ?? value];
}

tf.serialization.registerClass(MultiHeadSelfAttention);
