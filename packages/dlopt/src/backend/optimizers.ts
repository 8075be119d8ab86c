import * as tf from '@tensorflow/tfjs-core';
import { nativeBackendModule } from './backend.js';

/**
 * Adam: the native backend's single-kernel version when that backend is
 * loaded (it behaves as tf.train.adam on any other backend), else tfjs's own.
 */
export function createAdam(learningRate: number): tf.Optimizer {
  const native = nativeBackendModule();
  return native ? new native.NativeAdam(learningRate) : tf.train.adam(learningRate);
}
