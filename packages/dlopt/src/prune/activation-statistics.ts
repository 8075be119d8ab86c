import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { makeBatch } from '../data/batches.js';
import type { ImageSet } from '../data/image-set.js';
import { DloptError } from '../errors.js';
import type { ChannelGroup } from './channel-graph.js';
import { addNormalized } from './channel-importance.js';

/** Ranks channels by how they behave on data. */
export type ActivationCriterion = 'apoz' | 'mean-activation';

export interface ActivationStatisticsOptions {
  /** Images the statistics are measured on (the first `limit` of them). */
  images: ImageSet;
  numClasses: number;
  limit?: number;
  batchSize?: number;
}

/**
 * Scores channels from their activations on data (higher: keep). APoZ
 * (Hu et al. 2016) is the fraction of zeros a channel has after its ReLU,
 * over images and positions: a channel that is almost always zero carries
 * little, so the score is 1 − APoZ. Mean activation (Molchanov et al. 2017's
 * baseline) is the channel's mean after the ReLU, or its mean magnitude
 * where the group has no ReLU. Groups joined by residual adds average the
 * statistic over every ReLU on them.
 */
export function activationScores(
  model: tfl.LayersModel,
  groups: readonly ChannelGroup[],
  criterion: ActivationCriterion,
  options: ActivationStatisticsOptions,
): Map<ChannelGroup, Float64Array> {
  const points: { group: ChannelGroup; layer: string; relu: boolean }[] = [];
  for (const group of groups) {
    const relus = group.reluOutputs;
    if (relus.length > 0) for (const l of relus) points.push({ group, layer: l.name, relu: true });
    else if (criterion === 'apoz') {
      throw new DloptError(
        `--method apoz counts zeros after a ReLU, but layer '${group.name}' is not followed by one; use mean-activation, l1 or l2`,
      );
    } else for (const l of group.producers) points.push({ group, layer: l.name, relu: false });
  }
  const { images, numClasses } = options;
  const count = Math.min(images.count, options.limit ?? 1000);
  if (count === 0) throw new DloptError(`--method ${criterion} needs images to measure activations on, but none were given`);
  const batchSize = options.batchSize ?? 128;

  const probe = tfl.model({ inputs: model.inputs, outputs: points.map((p) => model.getLayer(p.layer).output as tfl.SymbolicTensor) });
  const sums = points.map((p) => new Float64Array(p.group.size));
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    const { x, y } = makeBatch(images, indices, numClasses);
    const stats = tf.tidy(() => {
      const outputs = probe.predict(x) as tf.Tensor | tf.Tensor[];
      return (Array.isArray(outputs) ? outputs : [outputs]).map((t, i) => {
        const axes = t.shape.slice(0, -1).map((_, a) => a);
        const per =
          criterion === 'apoz' ? tf.cast(tf.equal(t, 0), 'float32') : points[i]!.relu ? t : tf.abs(t);
        // Summed over the batch so batches of different sizes weigh by their images.
        return tf.mul(tf.mean(per, axes), indices.length);
      });
    });
    tf.dispose([x, y]);
    stats.forEach((s, i) => {
      const values = s.dataSync();
      for (let c = 0; c < values.length; c++) sums[i]![c]! += values[c]!;
    });
    tf.dispose(stats);
  }

  const scores = new Map<ChannelGroup, Float64Array>();
  points.forEach((p, i) => {
    const mean = sums[i]!.map((v) => v / count);
    const score = criterion === 'apoz' ? mean.map((v) => 1 - v) : mean;
    const total = scores.get(p.group) ?? new Float64Array(p.group.size);
    if (criterion === 'apoz') for (let c = 0; c < score.length; c++) total[c]! += score[c]!;
    else addNormalized(total, score);
    scores.set(p.group, total);
  });
  return scores;
}
