import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UsageError } from '../errors.js';
import type { CountsFlops } from './counts-flops.js';
import type { Constraint, Identifier, Initializer, LayerArgs, Regularizer } from './layer-options.js';
import { formatShape, formatValue, positiveInteger, resolveConstraint, resolveInitializer, resolveRegularizer, serializeOption, singleShape, singleTensor } from './layer-options.js';

type Padding = 'valid' | 'same';
type ActivationName = Parameters<typeof tfl.layers.activation>[0]['activation'];

export interface GroupedConv2DArgs extends LayerArgs {
  filters: number;
  kernelSize: number | number[];
  strides?: number | number[];
  padding?: Padding;
  /** Only 'channelsLast' (NHWC); accepted so Keras-style configs load. */
  dataFormat?: 'channelsLast';
  dilationRate?: number | number[];
  /** Input channels and filters are split into this many groups; each group of filters sees only its group of channels. */
  groups?: number;
  /** Any tfjs-layers activation name (default 'linear'). */
  activation?: string;
  useBias?: boolean;
  kernelInitializer?: Identifier<Initializer>;
  biasInitializer?: Identifier<Initializer>;
  kernelRegularizer?: Identifier<Regularizer> | null;
  biasRegularizer?: Identifier<Regularizer> | null;
  kernelConstraint?: Identifier<Constraint> | null;
  biasConstraint?: Identifier<Constraint> | null;
}

// Activations tf.fused.conv2d applies itself, so each group's output is
// finished in one kernel call; the others run once on the concatenated output.
const FUSABLE = new Set(['linear', 'relu', 'relu6', 'elu', 'sigmoid']);

/**
 * 2-D convolution with grouped channels (Keras `Conv2D(groups=g)`, ResNeXt's
 * cardinality): the input's channels and the filters are split into `groups`
 * consecutive blocks, and filter block i convolves channel block i only, so
 * the layer costs 1/groups of a full Conv2D. The kernel has Keras's layout,
 * [kh, kw, inChannels / groups, filters]. NHWC only.
 */
export class GroupedConv2D extends tfl.layers.Layer implements CountsFlops {
  static className = 'GroupedConv2D';

  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly dilationRate: [number, number];
  readonly groups: number;
  readonly activation: string;
  readonly useBias: boolean;
  private readonly kernelInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private readonly kernelRegularizer: Regularizer | null;
  private readonly biasRegularizer: Regularizer | null;
  private readonly kernelConstraint: Constraint | null;
  private readonly biasConstraint: Constraint | null;
  private readonly activationLayer: tfl.layers.Layer;
  private kernel: tfl.LayerVariable | null = null;
  private bias: tfl.LayerVariable | null = null;
  /** [height, width, channels] of the input the layer was built for. */
  private builtFor: [number | null, number | null, number] | null = null;

  constructor(args: GroupedConv2DArgs) {
    super(args);
    this.filters = positiveInteger(args.filters, 'GroupedConv2D: filters');
    this.groups = positiveInteger(args.groups ?? 1, 'GroupedConv2D: groups');
    if (this.filters % this.groups !== 0) {
      throw new UsageError(`filters must be divisible by groups (got ${this.filters} filters, ${this.groups} groups)`);
    }
    if (args.kernelSize === undefined) throw new UsageError('GroupedConv2D needs kernelSize');
    this.kernelSize = positivePair(args.kernelSize, 'GroupedConv2D: kernelSize');
    this.strides = positivePair(args.strides ?? 1, 'GroupedConv2D: strides');
    this.dilationRate = positivePair(args.dilationRate ?? 1, 'GroupedConv2D: dilationRate');
    // Keras forbids it too; the space-to-batch dilation in call() relies on it.
    if (this.strides.some((s) => s > 1) && this.dilationRate.some((d) => d > 1)) {
      throw new UsageError(
        `strides and dilationRate cannot both be above 1 (got strides ${this.strides.join('x')}, dilationRate ${this.dilationRate.join('x')})`,
      );
    }
    const padding = args.padding ?? 'valid';
    if (padding !== 'valid' && padding !== 'same') throw new UsageError(`padding must be 'valid' or 'same' (got ${formatValue(padding)})`);
    this.padding = padding;
    const dataFormat = args.dataFormat ?? 'channelsLast';
    if (dataFormat !== 'channelsLast') {
      throw new UsageError(`GroupedConv2D supports only dataFormat 'channelsLast' (NHWC) (got ${formatValue(dataFormat)})`);
    }
    const activation = args.activation ?? 'linear';
    try {
      // Named, so it takes no number from tfjs's automatic layer names.
      this.activationLayer = tfl.layers.activation({ activation: activation as ActivationName, name: `${this.name}_activation` });
    } catch {
      throw new UsageError(`unknown activation ${formatValue(activation)}`);
    }
    // The activation's own name for itself, so configs are canonical.
    this.activation = String(this.activationLayer.getConfig().activation);
    this.useBias = args.useBias ?? true;
    // tfjs-layers' Conv2D default (Keras uses glorotUniform).
    this.kernelInitializer = resolveInitializer(args.kernelInitializer ?? 'glorotNormal', 'GroupedConv2D: kernelInitializer');
    this.biasInitializer = resolveInitializer(args.biasInitializer ?? 'zeros', 'GroupedConv2D: biasInitializer');
    this.kernelRegularizer = resolveRegularizer(args.kernelRegularizer, 'GroupedConv2D: kernelRegularizer');
    this.biasRegularizer = resolveRegularizer(args.biasRegularizer, 'GroupedConv2D: biasRegularizer');
    this.kernelConstraint = resolveConstraint(args.kernelConstraint, 'GroupedConv2D: kernelConstraint');
    this.biasConstraint = resolveConstraint(args.biasConstraint, 'GroupedConv2D: biasConstraint');
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = singleShape(inputShape, 'GroupedConv2D');
    if (shape.length !== 4) throw new UsageError(`GroupedConv2D expects NHWC input of rank 4 (got shape ${formatShape(shape)})`);
    const channels = shape[3];
    if (channels == null) throw new UsageError('GroupedConv2D needs the input channel count to be known');
    if (channels % this.groups !== 0) {
      throw new UsageError(`input channels must be divisible by groups (got ${channels} channels, ${this.groups} groups)`);
    }
    const [outH, outW] = this.outputSize(shape[1] ?? null, shape[2] ?? null);
    if ((outH !== null && outH < 1) || (outW !== null && outW < 1)) {
      throw new UsageError(
        `kernel ${this.kernelSize.join('x')} (dilation ${this.dilationRate.join('x')}) does not fit the ${shape[1] ?? '?'}x${shape[2] ?? '?'} input with 'valid' padding`,
      );
    }
    this.kernel = this.addWeight(
      'kernel',
      [...this.kernelSize, channels / this.groups, this.filters],
      'float32',
      this.kernelInitializer,
      this.kernelRegularizer ?? undefined,
      true,
      this.kernelConstraint ?? undefined,
    );
    if (this.useBias) {
      this.bias = this.addWeight('bias', [this.filters], 'float32', this.biasInitializer, this.biasRegularizer ?? undefined, true, this.biasConstraint ?? undefined);
    }
    this.inputSpec = [new tfl.InputSpec({ ndim: 4, axes: { 3: channels } })];
    this.builtFor = [shape[1] ?? null, shape[2] ?? null, channels];
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs, 'GroupedConv2D') as tf.Tensor4D;
      if (this.dilationRate.every((d) => d === 1)) return this.convolve(x, this.padding);
      // tfjs has no gradient for dilated convolutions, so dilate the way
      // TensorFlow's atrous_conv2d does: a dilated convolution is an
      // undilated one on the rate x rate phase-shifted sub-images of the input
      // (space-to-batch), whose outputs interleave back (batch-to-space); both
      // moves have gradients. Strides are 1 here (the constructor checks).
      const [h, w] = x.shape.slice(1, 3) as [number, number];
      const paddings: [number, number][] = [];
      const crops: [number, number][] = [];
      [h, w].forEach((size, i) => {
        const rate = this.dilationRate[i]!;
        const span = (this.kernelSize[i]! - 1) * rate + 1;
        const start = this.padding === 'same' ? Math.floor((span - 1) / 2) : 0;
        const end = this.padding === 'same' ? span - 1 - start : 0;
        const extra = (rate - ((size + start + end) % rate)) % rate;
        paddings.push([start, end + extra]);
        crops.push([0, extra]);
      });
      const phases = tf.spaceToBatchND(x, this.dilationRate, paddings);
      return tf.batchToSpaceND(this.convolve(phases, 'valid'), this.dilationRate, crops);
    });
  }

  /** The undilated grouped convolution, bias and activation. */
  private convolve(x: tf.Tensor4D, pad: Padding): tf.Tensor4D {
    const kernel = this.kernel!.read() as tf.Tensor4D;
    const bias = this.bias?.read() as tf.Tensor1D | undefined;
    const fused = FUSABLE.has(this.activation) ? (this.activation as tf.fused.Activation) : 'linear';
    const common = { strides: this.strides, pad, activation: fused } as const;
    let y: tf.Tensor4D;
    if (this.groups === 1) {
      y = tf.fused.conv2d({ x, filter: kernel, bias, ...common });
    } else if (kernel.shape[2] === 1) {
      // One channel per group: a depthwise convolution whose channel
      // multiplier is filters/groups computes exactly this (its output
      // channel c·m + j is group c's filter j), in one kernel call.
      const filter = tf.reshape(kernel, [...this.kernelSize, this.groups, this.filters / this.groups]) as tf.Tensor4D;
      y = tf.fused.depthwiseConv2d({ x, filter, bias, ...common });
    } else {
      const xs = tf.split(x, this.groups, 3);
      const ks = tf.split(kernel, this.groups, 3);
      const bs = bias ? tf.split(bias, this.groups) : [];
      const parts = xs.map((xi, i) => tf.fused.conv2d({ x: xi as tf.Tensor4D, filter: ks[i] as tf.Tensor4D, bias: bs[i], ...common }));
      y = tf.concat(parts, 3);
    }
    return fused === this.activation ? y : (this.activationLayer.call(y, {}) as tf.Tensor4D);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = singleShape(inputShape, 'GroupedConv2D');
    const [outH, outW] = this.outputSize(shape[1] ?? null, shape[2] ?? null);
    return [shape[0] ?? null, outH, outW, this.filters];
  }

  /**
   * Each output element is a dot product over kh·kw·(inChannels/groups)
   * inputs (that many multiply-adds), plus its bias and activation. Unknown
   * spatial sizes count as 1, as in models/flops.ts.
   */
  flopsPerExample(): number {
    if (!this.builtFor) throw new Error(`${this.name}: flopsPerExample() needs the layer built (apply it to an input first)`);
    const [h, w, channels] = this.builtFor;
    const [outH, outW] = this.outputSize(h, w);
    const outElems = (outH ?? 1) * (outW ?? 1) * this.filters;
    const macs = outElems * this.kernelSize[0] * this.kernelSize[1] * (channels / this.groups);
    const activation = this.activation === 'linear' ? 0 : this.activation === 'softmax' ? 3 * outElems : outElems;
    return 2 * macs + (this.useBias ? outElems : 0) + activation;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      filters: this.filters,
      kernelSize: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      dataFormat: 'channelsLast',
      dilationRate: [...this.dilationRate],
      groups: this.groups,
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: serializeOption(this.kernelInitializer),
      biasInitializer: serializeOption(this.biasInitializer),
      kernelRegularizer: serializeOption(this.kernelRegularizer),
      biasRegularizer: serializeOption(this.biasRegularizer),
      kernelConstraint: serializeOption(this.kernelConstraint),
      biasConstraint: serializeOption(this.biasConstraint),
      ...super.getConfig(),
    };
  }

  private outputSize(h: number | null, w: number | null): [number | null, number | null] {
    return [0, 1].map((i) => {
      const size = i === 0 ? h : w;
      if (size === null) return null;
      const k = this.kernelSize[i]!;
      const span = k + (k - 1) * (this.dilationRate[i]! - 1);
      const length = this.padding === 'same' ? size : size - span + 1;
      return Math.ceil(length / this.strides[i]!);
    }) as [number | null, number | null];
  }
}
tf.serialization.registerClass(GroupedConv2D);

function positivePair(value: unknown, what: string): [number, number] {
  const pair = Array.isArray(value) ? (value.length === 1 ? [value[0], value[0]] : value) : [value, value];
  if (pair.length !== 2 || !pair.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 1)) {
    throw new UsageError(`${what} must be a positive integer or a pair of them but got ${formatValue(value)}`);
  }
  return [pair[0] as number, pair[1] as number];
}
