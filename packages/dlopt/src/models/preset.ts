import type * as tfl from '@tensorflow/tfjs-layers';

export interface ModelBuildOptions {
  /** [height, width, channels] of one input image. */
  inputShape: readonly [number, number, number];
  numClasses: number;
  /** Seed for weight initialisation. */
  seed: number;
  /** Weight penalties, constraints and dropout (presets apply them to their kernels). */
  regularization?: Regularization;
}

export interface Regularization {
  /** L1 penalty on kernels (added to the loss). */
  l1?: number;
  /** L2 penalty on kernels (added to the loss). */
  l2?: number;
  /** Max-norm constraint on each unit's incoming weights. */
  maxNorm?: number;
  /** Dropout rate where the preset has a dropout slot (0: none). */
  dropout?: number;
  /** SpatialDropout2D rate after each pooling stage, in presets that have stages (0: none). */
  spatialDropout?: number;
}

/** A named model recipe: architecture plus the optimizer settings it is trained with. */
export interface ModelPreset {
  readonly name: string;
  readonly description: string;
  readonly defaultLearningRate: number;
  build(options: ModelBuildOptions): tfl.LayersModel;
}
