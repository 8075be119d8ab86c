import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UsageError } from '../errors.js';
import type { CountsFlops } from './counts-flops.js';
import type { Constraint, Identifier, Initializer, LayerArgs, Regularizer } from './layer-options.js';
import { formatShape, formatValue, resolveConstraint, resolveInitializer, resolveRegularizer, serializeOption, singleShape, singleTensor } from './layer-options.js';

export interface BatchRenormalizationArgs extends LayerArgs {
  /** The features axis, normalized separately; statistics are taken over all others. Default -1. */
  axis?: number;
  /** Of the moving mean and variance used at inference. Default 0.99. */
  momentum?: number;
  /** Added to variances before the square root. Default 1e-3. */
  epsilon?: number;
  /** Learn an offset beta. Default true. */
  center?: boolean;
  /** Learn a scale gamma. Default true. */
  scale?: boolean;
  betaInitializer?: Identifier<Initializer>;
  gammaInitializer?: Identifier<Initializer>;
  movingMeanInitializer?: Identifier<Initializer>;
  movingVarianceInitializer?: Identifier<Initializer>;
  betaRegularizer?: Identifier<Regularizer> | null;
  gammaRegularizer?: Identifier<Regularizer> | null;
  betaConstraint?: Identifier<Constraint> | null;
  gammaConstraint?: Identifier<Constraint> | null;
  /** Of the renorm mean and standard deviation that r and d correct towards. Default 0.99. */
  renormMomentum?: number;
  /** r is clipped to [1/rMax, rMax]. Default 3; 1 makes r always 1. */
  rMax?: number;
  /** d is clipped to [-dMax, dMax]. Default 5; 0 makes d always 0. */
  dMax?: number;
}

/**
 * Batch renormalization (Ioffe 2017; Keras `BatchNormalization(renorm=True)`).
 * Training normalizes with the batch's statistics and then corrects towards
 * running ones:
 *
 *   x̂ = (x − μ_B) / σ_B · r + d,  r = clip(σ_B / σ, 1/rMax, rMax),  d = clip((μ_B − μ) / σ, −dMax, dMax)
 *   y = γ x̂ + β
 *
 * where μ, σ are the renorm mean and standard deviation (moving averages
 * with renormMomentum) and r, d are constants to the gradient, so training
 * sees what inference will. Inference normalizes with the moving mean and
 * variance (momentum), like BatchNormalization. With rMax = 1 and dMax = 0 it
 * is batch normalization. Moving statistics are updated in training calls,
 * as tfjs-layers' BatchNormalization does.
 *
 * rMax and dMax may be changed between steps (the paper ramps them up from
 * 1 and 0 over training); they are saved with the layer's config.
 */
export class BatchRenormalization extends tfl.layers.Layer implements CountsFlops {
  static className = 'BatchRenormalization';

  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly renormMomentum: number;
  private rMaxValue: number;
  private dMaxValue: number;
  private readonly betaInitializer: Initializer;
  private readonly gammaInitializer: Initializer;
  private readonly movingMeanInitializer: Initializer;
  private readonly movingVarianceInitializer: Initializer;
  private readonly betaRegularizer: Regularizer | null;
  private readonly gammaRegularizer: Regularizer | null;
  private readonly betaConstraint: Constraint | null;
  private readonly gammaConstraint: Constraint | null;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;
  private movingMean: tfl.LayerVariable | null = null;
  private movingVariance: tfl.LayerVariable | null = null;
  private renormMean: tfl.LayerVariable | null = null;
  private renormStddev: tfl.LayerVariable | null = null;
  /** The input's shape without the batch dimension, for flopsPerExample. */
  private builtFor: (number | null)[] | null = null;

  constructor(args: BatchRenormalizationArgs = {}) {
    super(args);
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis)) throw new UsageError(`axis must be an integer (got ${formatValue(args.axis)})`);
    this.momentum = unitInterval(args.momentum ?? 0.99, 'momentum');
    this.renormMomentum = unitInterval(args.renormMomentum ?? 0.99, 'renormMomentum');
    this.epsilon = args.epsilon ?? 1e-3;
    if (typeof this.epsilon !== 'number' || !(this.epsilon > 0) || !Number.isFinite(this.epsilon)) {
      throw new UsageError(`epsilon must be a positive number (got ${formatValue(args.epsilon)})`);
    }
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.rMaxValue = checkRMax(args.rMax ?? 3);
    this.dMaxValue = checkDMax(args.dMax ?? 5);
    this.betaInitializer = resolveInitializer(args.betaInitializer ?? 'zeros', 'BatchRenormalization: betaInitializer');
    this.gammaInitializer = resolveInitializer(args.gammaInitializer ?? 'ones', 'BatchRenormalization: gammaInitializer');
    this.movingMeanInitializer = resolveInitializer(args.movingMeanInitializer ?? 'zeros', 'BatchRenormalization: movingMeanInitializer');
    this.movingVarianceInitializer = resolveInitializer(args.movingVarianceInitializer ?? 'ones', 'BatchRenormalization: movingVarianceInitializer');
    this.betaRegularizer = resolveRegularizer(args.betaRegularizer, 'BatchRenormalization: betaRegularizer');
    this.gammaRegularizer = resolveRegularizer(args.gammaRegularizer, 'BatchRenormalization: gammaRegularizer');
    this.betaConstraint = resolveConstraint(args.betaConstraint, 'BatchRenormalization: betaConstraint');
    this.gammaConstraint = resolveConstraint(args.gammaConstraint, 'BatchRenormalization: gammaConstraint');
  }

  get rMax(): number {
    return this.rMaxValue;
  }
  set rMax(value: number) {
    this.rMaxValue = checkRMax(value);
  }
  get dMax(): number {
    return this.dMaxValue;
  }
  set dMax(value: number) {
    this.dMaxValue = checkDMax(value);
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = singleShape(inputShape, 'BatchRenormalization');
    const axis = this.resolvedAxis(shape.length);
    const dim = shape[axis];
    if (dim == null) throw new UsageError(`BatchRenormalization needs axis ${this.axis} of its input to have a known size (got shape ${formatShape(shape)})`);
    const param = [dim];
    if (this.scale) this.gamma = this.addWeight('gamma', param, 'float32', this.gammaInitializer, this.gammaRegularizer ?? undefined, true, this.gammaConstraint ?? undefined);
    if (this.center) this.beta = this.addWeight('beta', param, 'float32', this.betaInitializer, this.betaRegularizer ?? undefined, true, this.betaConstraint ?? undefined);
    this.movingMean = this.addWeight('moving_mean', param, 'float32', this.movingMeanInitializer, undefined, false);
    this.movingVariance = this.addWeight('moving_variance', param, 'float32', this.movingVarianceInitializer, undefined, false);
    // As Keras: the renorm statistics start where the moving ones do.
    this.renormMean = this.addWeight('renorm_mean', param, 'float32', this.movingMeanInitializer, undefined, false);
    this.renormStddev = this.addWeight('renorm_stddev', param, 'float32', this.movingVarianceInitializer, undefined, false);
    tf.tidy(() => {
      this.renormStddev!.write(tf.sqrt(this.renormStddev!.read()));
    });
    this.inputSpec = [new tfl.InputSpec({ ndim: shape.length, axes: { [axis]: dim } })];
    this.builtFor = shape.slice(1);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = singleTensor(inputs, 'BatchRenormalization');
      const axis = this.resolvedAxis(x.rank);
      const reductionAxes = [...Array(x.rank).keys()].filter((a) => a !== axis);
      const broadcast = x.shape.map((d, a) => (a === axis ? d : 1));
      const gamma = this.gamma?.read();
      const beta = this.beta?.read();
      // y = (x − mean) · a + b, with a = γ·(scale) and b = β + γ·(offset): one pass over x.
      const normalize = (mean: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor | null): tf.Tensor => {
        const a = gamma ? tf.mul(gamma, scale) : scale;
        let b = offset && gamma ? tf.mul(gamma, offset) : offset;
        if (beta) b = b ? tf.add(b, beta) : beta;
        const y = tf.mul(tf.sub(x, tf.reshape(mean, broadcast)), tf.reshape(a, broadcast));
        return b ? tf.add(y, tf.reshape(b, broadcast)) : y;
      };

      if (kwargs['training'] !== true) {
        return normalize(this.movingMean!.read(), tf.rsqrt(tf.add(this.movingVariance!.read(), this.epsilon)), null);
      }

      const { mean, variance } = tf.moments(x, reductionAxes);
      const stddev = tf.sqrt(tf.add(variance, this.epsilon));
      const renormMean = this.renormMean!.read();
      // As Keras: keeps r and d finite while the running deviation is near 0.
      const renormStddev = tf.maximum(this.renormStddev!.read(), Math.sqrt(this.epsilon));
      const r = asConstant(tf.clipByValue(tf.div(stddev, renormStddev), 1 / this.rMaxValue, this.rMaxValue));
      const d = asConstant(tf.clipByValue(tf.div(tf.sub(mean, renormMean), renormStddev), -this.dMaxValue, this.dMaxValue));
      const y = normalize(mean, tf.div(r, stddev), d);

      // After r and d, which must use the statistics from before this batch.
      movingAverage(this.movingMean!, mean, this.momentum);
      movingAverage(this.movingVariance!, variance, this.momentum);
      movingAverage(this.renormMean!, mean, this.renormMomentum);
      movingAverage(this.renormStddev!, stddev, this.renormMomentum);
      return y;
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return [...singleShape(inputShape, 'BatchRenormalization')];
  }

  /** At inference the layer folds to one multiply and one add per element, as BatchNormalization in models/flops.ts. */
  flopsPerExample(): number {
    if (!this.builtFor) throw new Error(`${this.name}: flopsPerExample() needs the layer built (apply it to an input first)`);
    return 2 * this.builtFor.reduce<number>((n, d) => n * (d ?? 1), 1);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: serializeOption(this.betaInitializer),
      gammaInitializer: serializeOption(this.gammaInitializer),
      movingMeanInitializer: serializeOption(this.movingMeanInitializer),
      movingVarianceInitializer: serializeOption(this.movingVarianceInitializer),
      betaRegularizer: serializeOption(this.betaRegularizer),
      gammaRegularizer: serializeOption(this.gammaRegularizer),
      betaConstraint: serializeOption(this.betaConstraint),
      gammaConstraint: serializeOption(this.gammaConstraint),
      renormMomentum: this.renormMomentum,
      rMax: this.rMaxValue,
      dMax: this.dMaxValue,
      ...super.getConfig(),
    };
  }

  private resolvedAxis(rank: number): number {
    const axis = this.axis < 0 ? this.axis + rank : this.axis;
    if (axis < 0 || axis >= rank) throw new UsageError(`axis ${this.axis} is out of range for an input of rank ${rank}`);
    if (axis === 0) throw new UsageError('axis must not be the batch axis (0)');
    return axis;
  }
}
tf.serialization.registerClass(BatchRenormalization);

/**
 * The identity whose gradient is zero (tfjs has no stopGradient): r and d
 * scale the normalized batch but are not differentiated through.
 */
const asConstant = tf.customGrad((x) => ({ value: tf.clone(x as tf.Tensor), gradFunc: (dy) => tf.zerosLike(dy) })) as (x: tf.Tensor) => tf.Tensor;

function movingAverage(variable: tfl.LayerVariable, value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const old = variable.read();
    variable.write(tf.sub(old, tf.mul(tf.sub(old, value), 1 - momentum)));
  });
}

function unitInterval(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new UsageError(`${name} must be between 0 and 1 (got ${formatValue(value)})`);
  return value;
}

function checkRMax(value: unknown): number {
  if (typeof value !== 'number' || !(value >= 1) || !Number.isFinite(value)) throw new UsageError(`rMax must be a number of at least 1 (got ${formatValue(value)})`);
  return value;
}

function checkDMax(value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) throw new UsageError(`dMax must be a non-negative number (got ${formatValue(value)})`);
  return value;
}
