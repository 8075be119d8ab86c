import * as tf from '@tensorflow/tfjs-core';

interface CpuBackendLike {
  data: { get(dataId: object): { values: tf.TypedArray } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo;
}

/**
 * Weight gradient of a 2-D convolution (NHWC), as plain loops over typed
 * arrays. tfjs's cpu kernel reads every element through TensorBuffer.get,
 * which made it 90 % of a training step (seconds per call); this version
 * walks x and dy once per output position and adds an outer product of a
 * channel row of x and a channel row of dy to each filter tap.
 * Accumulates in float64, like the original.
 */
export function conv2dBackpropFilterNhwc(
  x: Float32Array,
  dy: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): Float32Array {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const tap = inChannels * outChannels;
  const acc = new Float64Array(filterHeight * filterWidth * tap);
  for (let b = 0; b < batchSize; b++) {
    for (let yR = 0; yR < outHeight; yR++) {
      for (let yC = 0; yC < outWidth; yC++) {
        const dyAt = ((b * outHeight + yR) * outWidth + yC) * outChannels;
        for (let wR = 0; wR < filterHeight; wR++) {
          const xR = yR * strideHeight + wR - top;
          if (xR < 0 || xR >= inHeight) continue;
          for (let wC = 0; wC < filterWidth; wC++) {
            const xC = yC * strideWidth + wC - left;
            if (xC < 0 || xC >= inWidth) continue;
            const xAt = ((b * inHeight + xR) * inWidth + xC) * inChannels;
            let accAt = (wR * filterWidth + wC) * tap;
            for (let d1 = 0; d1 < inChannels; d1++) {
              const xv = x[xAt + d1]!;
              if (xv !== 0) {
                for (let d2 = 0; d2 < outChannels; d2++) acc[accAt + d2] = acc[accAt + d2]! + xv * dy[dyAt + d2]!;
              }
              accAt += outChannels;
            }
          }
        }
      }
    }
  }
  return Float32Array.from(acc);
}

/** Kernel function with the same contract as tfjs-backend-cpu's Conv2DBackpropFilter. */
export function makeConv2dBackpropFilterKernel(fallback: tf.KernelFunc): tf.KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as unknown as CpuBackendLike;
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const format = tf.backend_util.convertConv2DDataFormat(dataFormat);
    if (format !== 'channelsLast' || x.dtype !== 'float32' || dy.dtype !== 'float32') return fallback(args);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      format,
    );
    const values = conv2dBackpropFilterNhwc(
      backend.data.get(x.dataId).values as Float32Array,
      backend.data.get(dy.dataId).values as Float32Array,
      info,
    );
    return backend.makeTensorInfo(info.filterShape, 'float32', values);
  };
}
