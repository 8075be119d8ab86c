import { DloptError } from '../errors.js';
import type { ChannelGroup, WeightSlice } from './channel-graph.js';

/** Ranks channels from weights alone (activation statistics are in activation-statistics.ts). */
export type WeightCriterion = 'l1' | 'l2' | 'bn';

/**
 * One score per channel of a group (higher: more important): the L1 or L2
 * norm of each producer's filter for that channel, or |gamma| of each batch
 * norm on it. A group with several members (a residual add) sums their
 * scores, each first divided by its mean so a wide 3×3 conv does not drown a
 * 1×1 projection.
 */
export function weightScores(group: ChannelGroup, criterion: WeightCriterion): Float64Array {
  const members =
    criterion === 'bn'
      ? group.slices.filter((s) => s.role === 'scale' && s.weight === 'gamma')
      : group.slices.filter((s) => s.role === 'output' && (s.weight === 'kernel' || s.weight === 'pointwise_kernel'));
  if (members.length === 0) {
    throw new DloptError(
      criterion === 'bn'
        ? `--method bn ranks channels by batch-norm scale, but layer '${group.name}' is not followed by batch normalization; use l1, l2, apoz or mean-activation`
        : `layer '${group.name}' has no kernel to rank its channels by`,
    );
  }
  const total = new Float64Array(group.size);
  for (const slice of members) addNormalized(total, channelNorms(slice, group, criterion));
  return total;
}

/** Adds scores divided by their mean (all-zero scores add nothing). */
export function addNormalized(total: Float64Array, scores: Float64Array): void {
  let mean = 0;
  for (const s of scores) mean += s / scores.length;
  if (!(mean > 0)) return;
  for (let i = 0; i < scores.length; i++) total[i]! += scores[i]! / mean;
}

function channelNorms(slice: WeightSlice, group: ChannelGroup, criterion: WeightCriterion): Float64Array {
  const w = slice.layer.weights[slice.index]!.read();
  const axis = slice.axis;
  const values = w.dataSync() as Float32Array;
  const shape = w.shape;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = shape[axis]!;
  const perChannel = new Float64Array(n);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % n;
    const v = values[i]!;
    perChannel[c]! += criterion === 'l2' ? v * v : Math.abs(v);
  }
  if (criterion === 'l2') for (let c = 0; c < n; c++) perChannel[c] = Math.sqrt(perChannel[c]!);
  // A per-channel layer after a concatenation covers several groups: take this group's part.
  let offset = 0;
  for (const g of slice.layout.groups) {
    if (g === group) break;
    offset += g.size;
  }
  return perChannel.slice(offset, offset + group.size);
}

