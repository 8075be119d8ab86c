import type { backend_util } from '@tensorflow/tfjs-core';

/** ConvGeom for the addon (src/kernels.h), from tfjs's own conv info. */
export function convGeometry(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth,
    info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  ]);
}

/** PoolGeom for the addon. */
export function poolGeometry(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth,
    info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth,
    info.padInfo.top, info.padInfo.left,
  ]);
}
