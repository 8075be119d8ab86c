import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DloptError, UsageError } from '../errors.js';
import type { CountsFlops } from './counts-flops.js';
import type { Identifier, Initializer, SeededLayerArgs } from './layer-options.js';
import { formatShape, optionalInteger, optionalPositiveInteger, positiveInteger, resolveInitializer, seededInitializer, serializeOption, singleShape, singleTensor } from './layer-options.js';

type Kwargs = Parameters<tfl.layers.Layer['call']>[1];

/** The activations an expert may use (Keras names). */
const ACTIVATIONS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  linear: (x) => x,
  relu: (x) => tf.relu(x),
  elu: (x) => tf.elu(x),
  selu: (x) => tf.selu(x),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
  softplus: (x) => tf.softplus(x),
  gelu: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))),
  swish: (x) => tf.mul(x, tf.sigmoid(x)),
};

export interface MixtureOfExpertsArgs extends SeededLayerArgs {
  /** Number of experts (≥ 2). */
  numExperts: number;
  /** Output features (of every expert, and of the layer). */
  units: number;
  /** Experts kept per example (1 … numExperts); default 2. */
  topK?: number;
  /**
   * Each expert's non-linearity (one of linear, relu, elu, selu, sigmoid, tanh,
   * softplus, gelu, swish): on its output when it is one Dense, on its hidden
   * layer when expertHiddenUnits is set. Default linear for one Dense (like
   * Keras's Dense), relu for the two-layer expert.
   */
  activation?: string;
  /** When set, each expert is a two-layer MLP Dense(expertHiddenUnits, activation) → Dense(units). */
  expertHiddenUnits?: number;
  /** Biases in the experts (the gate never has one); default true. */
  useBias?: boolean;
  /** Weight of the load-balancing loss added while training; default 0.01, 0 turns it off. */
  loadBalanceCoef?: number;
  /** Of the gate and expert kernels; default glorotUniform. */
  kernelInitializer?: Identifier<Initializer>;
}

/**
 * A sparsely gated mixture-of-experts Dense layer (Shazeer et al. 2017) on
 * [batch, features] or [batch, time, features] (each token routed on its own):
 *   p = softmax(x W_g)                      gate probabilities over the experts
 *   g = top-k of p (others 0), renormalised to sum to 1
 *   y = Σ_i g_i · expert_i(x)               output [..., units]
 * Ties in p keep the lower-numbered expert. With topK = 1 the one kept gate
 * is exactly 1, so the output is that expert's and the task loss gives the
 * gate no gradient: the router then learns only through the load-balancing
 * loss.
 *
 * Load balancing (Switch Transformer, Fedus et al. 2021): while training the
 * layer adds loadBalanceCoef · E · Σ_i f_i · P_i to the model's loss, with f_i
 * the fraction of the batch's tokens whose top-k holds expert i (a constant;
 * Σ f_i = k, so a perfectly balanced router scores loadBalanceCoef · k) and
 * P_i the mean gate probability of expert i (differentiable). tfjs's
 * fit/trainOnBatch collect it through model.calculateLosses() after the
 * forward pass; the loss uses the gate probabilities of the layer's last
 * training call, which belong to that training step's scope (if the layer is
 * called more than once per step, only the last call counts).
 *
 * Every expert is computed for every token and the unused ones are multiplied
 * by 0: simpler and, for the small models trained on CPU here, faster than
 * gathering tokens per expert. flopsPerExample counts all experts for that
 * reason.
 */
export class MixtureOfExperts extends tfl.layers.Layer implements CountsFlops {
  static className = 'MixtureOfExperts';

  readonly numExperts: number;
  readonly units: number;
  readonly topK: number;
  readonly activation: string;
  readonly expertHiddenUnits: number | undefined;
  readonly useBias: boolean;
  readonly loadBalanceCoef: number;
  readonly seed: number | undefined;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private readonly topKMask: (probs: tf.Tensor) => tf.Tensor;

  private gateKernel!: tfl.LayerVariable;
  /** Per expert: its first (or only) Dense, then, for two-layer experts, its output Dense. */
  private expertKernels: tfl.LayerVariable[] = [];
  private expertBiases: tfl.LayerVariable[] = [];
  private outputKernels: tfl.LayerVariable[] = [];
  private outputBiases: tfl.LayerVariable[] = [];
  private builtShape?: { tokens: number; features: number };
  /** Gate probabilities and top-k membership [tokens, experts] of the last training call. */
  private routing?: { probs: tf.Tensor; mask: tf.Tensor };

  constructor(args: MixtureOfExpertsArgs) {
    super(args);
    this.numExperts = positiveInteger(args.numExperts, 'MixtureOfExperts: numExperts');
    if (this.numExperts < 2) throw new UsageError(`MixtureOfExperts: numExperts must be at least 2 but got ${this.numExperts}`);
    this.units = positiveInteger(args.units, 'MixtureOfExperts: units');
    this.topK = positiveInteger(args.topK ?? 2, 'MixtureOfExperts: topK');
    if (this.topK > this.numExperts) {
      throw new UsageError(`MixtureOfExperts: topK (${this.topK}) cannot exceed numExperts (${this.numExperts})`);
    }
    this.expertHiddenUnits = optionalPositiveInteger(args.expertHiddenUnits, 'MixtureOfExperts: expertHiddenUnits');
    this.activation = args.activation ?? (this.expertHiddenUnits === undefined ? 'linear' : 'relu');
    if (!Object.hasOwn(ACTIVATIONS, this.activation)) {
      throw new UsageError(`MixtureOfExperts: unknown activation "${this.activation}"; use one of ${Object.keys(ACTIVATIONS).join(', ')}`);
    }
    this.useBias = args.useBias ?? true;
    this.loadBalanceCoef = args.loadBalanceCoef ?? 0.01;
    if (typeof this.loadBalanceCoef !== 'number' || !(this.loadBalanceCoef >= 0) || !Number.isFinite(this.loadBalanceCoef)) {
      throw new UsageError(`MixtureOfExperts: loadBalanceCoef must be a finite number ≥ 0 but got ${args.loadBalanceCoef}`);
    }
    this.seed = optionalInteger(args.seed, 'MixtureOfExperts: seed');
    this.kernelInitializer = resolveInitializer(args.kernelInitializer ?? 'glorotUniform', 'MixtureOfExperts: kernelInitializer');
    this.biasInitializer = resolveInitializer(args.biasInitializer ?? 'zeros', 'MixtureOfExperts: biasInitializer');
    // Top-k membership is a routing decision, not a function to differentiate
    // (tfjs has no gradient for TopK): a zero gradient keeps it off the tape.
    const [k, experts] = [this.topK, this.numExperts];
    this.topKMask = tf.customGrad(((probs: tf.Tensor) => ({
      value: tf.tidy(() => tf.cast(tf.sum(tf.oneHot(tf.topk(probs, k).indices, experts), 1), 'float32')),
      gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
    })) as unknown as Parameters<typeof tf.customGrad>[0]) as (probs: tf.Tensor) => tf.Tensor;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = tokensShape(inputShape);
    const d = shape.at(-1);
    if (d === null || d === undefined) throw new DloptError('MixtureOfExperts: the number of features (last dimension) must be known');
    let stream = 0;
    const weight = (name: string, s: number[], init: Initializer) =>
      this.addWeight(name, s, 'float32', seededInitializer(init, this.seed, stream++), undefined, true);
    this.gateKernel = weight('gate/kernel', [d, this.numExperts], this.kernelInitializer);
    const first = this.expertHiddenUnits ?? this.units;
    // Kernels one per expert (not one [d, E·units] weight) so each is initialised with an expert's own fans.
    for (let i = 0; i < this.numExperts; i++) {
      const prefix = this.expertHiddenUnits === undefined ? `expert_${i}` : `expert_${i}/hidden`;
      this.expertKernels.push(weight(`${prefix}/kernel`, [d, first], this.kernelInitializer));
      if (this.useBias) this.expertBiases.push(weight(`${prefix}/bias`, [first], this.biasInitializer));
      if (this.expertHiddenUnits !== undefined) {
        this.outputKernels.push(weight(`expert_${i}/output/kernel`, [first, this.units], this.kernelInitializer));
        if (this.useBias) this.outputBiases.push(weight(`expert_${i}/output/bias`, [this.units], this.biasInitializer));
      }
    }
    // Either rank may follow the one built with (a [batch, time, features] model may also route single tokens).
    this.inputSpec = [new tfl.InputSpec({ minNDim: 2, maxNDim: 3, axes: { [-1]: d } })];
    this.builtShape = { tokens: shape.length === 3 ? (shape[1] ?? 1) : 1, features: d };
    this.addLoss(() => this.loadBalanceLoss());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return [...tokensShape(inputShape).slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const training = kwargs?.['training'] === true;
    const [output, probs, mask] = tf.tidy(() => {
      const x = singleTensor(inputs, 'MixtureOfExperts');
      const lead = x.shape.slice(0, -1);
      const tokens = lead.reduce((a, b) => a * b, 1);
      const flat = tf.reshape(x, [tokens, x.shape.at(-1)!]);
      const probs = tf.softmax(tf.matMul(flat, this.gateKernel.read() as tf.Tensor2D), -1);
      const mask = this.topKMask(probs);
      const kept = tf.mul(probs, mask);
      const gates = tf.div(kept, tf.sum(kept, -1, true));
      const experts = this.expertOutputs(flat); // [tokens, E, units]
      const mixed = tf.matMul(tf.reshape(gates, [tokens, 1, this.numExperts]) as tf.Tensor3D, experts);
      return [tf.reshape(mixed, [...lead, this.units]), probs, mask];
    });
    if (training) {
      // Left to the caller's scope (the training step), which disposes them after the loss is taken.
      this.routing = { probs: probs!, mask: mask! };
    } else {
      tf.dispose([probs!, mask!]);
      this.routing = undefined;
    }
    return output!;
  }

  /** The gate probabilities [tokens, numExperts] for an input (tokens = batch, or batch·time): for watching expert usage. */
  gateProbabilities(x: tf.Tensor): tf.Tensor2D {
    if (!this.built) throw new DloptError('MixtureOfExperts: gateProbabilities needs a built layer (apply it first)');
    return tf.tidy(() => tf.softmax(tf.matMul(tf.reshape(x, [-1, x.shape.at(-1)!]), this.gateKernel.read() as tf.Tensor2D), -1)) as tf.Tensor2D;
  }

  /** The load-balancing loss of the last training call; 0 when there was none since the last inference call, or its step is over. */
  private loadBalanceLoss(): tf.Scalar {
    const r = this.routing;
    if (this.loadBalanceCoef === 0 || !r || r.probs.isDisposed || r.mask.isDisposed) return tf.scalar(0);
    return tf.tidy(() => {
      const fraction = tf.mean(r.mask, 0);
      const meanProb = tf.mean(r.probs, 0);
      return tf.mul(tf.sum(tf.mul(fraction, meanProb)), this.loadBalanceCoef * this.numExperts) as tf.Scalar;
    });
  }

  private expertOutputs(flat: tf.Tensor): tf.Tensor3D {
    const tokens = flat.shape[0]!;
    const e = this.numExperts;
    const act = ACTIVATIONS[this.activation]!;
    const first = this.expertHiddenUnits ?? this.units;
    // All experts' first layers as one matMul: [tokens, d] × [d, E·first].
    let y = tf.matMul(flat, tf.concat(this.expertKernels.map((w) => w.read() as tf.Tensor2D), 1));
    if (this.useBias) y = tf.add(y, tf.concat(this.expertBiases.map((b) => b.read()), 0));
    y = act(y);
    if (this.expertHiddenUnits === undefined) return tf.reshape(y, [tokens, e, this.units]);
    // Second layers as one batched matMul over the experts: [E, tokens, h] × [E, h, units].
    const hidden = tf.transpose(tf.reshape(y, [tokens, e, first]), [1, 0, 2]) as tf.Tensor3D;
    let out: tf.Tensor = tf.matMul(hidden, tf.stack(this.outputKernels.map((w) => w.read())) as tf.Tensor3D);
    if (this.useBias) out = tf.add(out, tf.reshape(tf.stack(this.outputBiases.map((b) => b.read())), [e, 1, this.units]));
    return tf.transpose(out, [1, 0, 2]) as tf.Tensor3D;
  }

  /**
   * Per example (T tokens, 1 for [batch, features] input; d features, E
   * experts, u units, h hidden units): the gate (2·d·E) and its softmax (3·E),
   * keeping the top k (mask multiply, sum, divide: 3·E; choosing them is
   * comparisons, not counted), every expert, dense as computed (2·d·u + bias +
   * activation each, or 2·d·h + h + h + 2·h·u + u for two layers), and the
   * gate-weighted sum (2·E·u). Training-only work (the loss) is not counted.
   */
  flopsPerExample(): number {
    if (!this.builtShape) throw new DloptError('MixtureOfExperts: flopsPerExample needs a built layer');
    const { tokens, features: d } = this.builtShape;
    const [e, u] = [this.numExperts, this.units];
    const bias = this.useBias ? 1 : 0;
    const act = this.activation === 'linear' ? 0 : 1;
    const gate = 2 * d * e + 3 * e + 3 * e;
    const h = this.expertHiddenUnits;
    const expert = h === undefined ? u * (2 * d + bias + act) : h * (2 * d + bias + act) + u * (2 * h + bias);
    return tokens * (gate + e * expert + 2 * e * u);
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      numExperts: this.numExperts,
      units: this.units,
      topK: this.topK,
      activation: this.activation,
      useBias: this.useBias,
      loadBalanceCoef: this.loadBalanceCoef,
      kernelInitializer: serializeOption(this.kernelInitializer),
      biasInitializer: serializeOption(this.biasInitializer),
    };
    if (this.expertHiddenUnits !== undefined) config.expertHiddenUnits = this.expertHiddenUnits;
    if (this.seed !== undefined) config.seed = this.seed;
    return { ...super.getConfig(), ...config };
  }
}

function tokensShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
  const shape = singleShape(inputShape, 'MixtureOfExperts');
  if (shape.length !== 2 && shape.length !== 3) {
    throw new DloptError(`MixtureOfExperts: input must be [batch, features] or [batch, time, features] but got ${formatShape(shape)}`);
  }
  return shape;
}

tf.serialization.registerClass(MixtureOfExperts);
