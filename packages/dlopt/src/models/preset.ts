import type * as tfl from '@tensorflow/tfjs-layers';

export interface ModelBuildOptions {
  /** [height, width, channels] of one input image. */
  inputShape: readonly [number, number, number];
  numClasses: number;
  /** Seed for weight initialisation. */
  seed: number;
}

/** A named model recipe: architecture plus the optimizer settings it is trained with. */
export interface ModelPreset {
  readonly name: string;
  readonly description: string;
  readonly defaultLearningRate: number;
  build(options: ModelBuildOptions): tfl.LayersModel;
}
