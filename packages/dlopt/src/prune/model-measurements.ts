import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { gzipSync } from 'node:zlib';
import { pixelsToTensor } from '../data/batches.js';
import { encodeSparseWeights } from '../io/sparse-weights.js';
import type { ImageSet } from '../data/image-set.js';
import { layerFlops } from '../models/flops.js';
import { summarizeModel } from '../models/summary.js';

/** Size and cost of a model, counted without running it. */
export interface ModelCounts {
  params: number;
  /** Parameters that are not exactly zero (what a sparse format stores). */
  nonzeroParams: number;
  /** FLOPs per image of dense inference. */
  flops: number;
  /** FLOPs per image if multiply-adds with a zero weight were skipped (conv and dense kernels). */
  sparseFlops: number;
  flopsComplete: boolean;
}

export function countModel(model: tfl.LayersModel): ModelCounts {
  const summary = summarizeModel(model);
  let nonzero = 0;
  let sparseFlops = 0;
  for (const layer of model.layers) {
    const values = layer.getWeights().map((w) => w.dataSync());
    for (const v of values) for (let i = 0; i < v.length; i++) if (v[i] !== 0) nonzero++;
    const flops = layerFlops(layer) ?? 0;
    // A kernel's density scales the multiply-adds, which dominate conv and dense layers.
    const kernel = layer.weights.findIndex((w) => /(^|\/)(kernel|pointwise_kernel)$/.test(w.originalName));
    if (kernel >= 0) {
      const v = values[kernel]!;
      let nz = 0;
      for (let i = 0; i < v.length; i++) if (v[i] !== 0) nz++;
      sparseFlops += flops * (v.length > 0 ? nz / v.length : 1);
    } else sparseFlops += flops;
  }
  return { params: summary.params, nonzeroParams: nonzero, flops: summary.flops, sparseFlops, flopsComplete: summary.flopsComplete };
}

export interface ThroughputOptions {
  /** Images each timed pass runs (the first of the set, cycled if the set is smaller). */
  images: number;
  batchSize: number;
  /** Timed passes per model; the best counts (others lose to the machine's noise). */
  rounds: number;
}

/**
 * Inference images per second of several models on the same images, in
 * one run: passes alternate between the models so drift in the machine's
 * speed hits each the same, after an untimed warm-up pass each.
 */
export async function measureThroughput(models: readonly tfl.LayersModel[], set: ImageSet, options: ThroughputOptions): Promise<number[]> {
  const { images, batchSize, rounds } = options;
  const batches: tf.Tensor4D[] = [];
  for (let start = 0; start < images; start += batchSize) {
    const n = Math.min(batchSize, images - start);
    const indices = Array.from({ length: n }, (_, i) => (start + i) % set.count);
    batches.push(pixelsToTensor(set.images, indices, [n, set.height, set.width, set.channels]));
  }
  const pass = async (model: tfl.LayersModel) => {
    const started = performance.now();
    for (const x of batches) {
      // predict() would split the batch into Keras's default of 32 otherwise.
      const p = model.predict(x, { batchSize }) as tf.Tensor;
      await p.data();
      p.dispose();
    }
    return images / ((performance.now() - started) / 1000);
  };
  try {
    for (const m of models) await pass(m);
    const best = models.map(() => 0);
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < models.length; i++) best[i] = Math.max(best[i]!, await pass(models[i]!));
    }
    return best;
  } finally {
    tf.dispose(batches);
  }
}

/** Bytes of a model as files: model.json, weights.bin, the sparse weights file, and both weight files gzipped. */
export interface FileSizes {
  model_json: number;
  weights: number;
  weights_gzip: number;
  sparse_weights: number;
  sparse_weights_gzip: number;
}

/** What saving the model would write, measured in memory (the same serialization saveModel uses). */
export async function modelFileSizes(model: tfl.LayersModel): Promise<FileSizes> {
  let specs: tf.io.WeightsManifestEntry[] = [];
  let data = new ArrayBuffer(0);
  let topology = 0;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      specs = artifacts.weightSpecs ?? [];
      if (artifacts.weightData) data = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      topology = JSON.stringify({ modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] }).length;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const sparse = encodeSparseWeights(specs, data);
  return {
    model_json: topology,
    weights: data.byteLength,
    weights_gzip: gzipSync(new Uint8Array(data)).length,
    sparse_weights: sparse.length,
    sparse_weights_gzip: gzipSync(sparse).length,
  };
}
