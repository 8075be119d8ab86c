import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { DloptError } from '../errors.js';
import { activationScores, type ActivationCriterion, type ActivationStatisticsOptions } from './activation-statistics.js';
import { traceChannels, type ChannelGraph, type ChannelGroup } from './channel-graph.js';
import { weightScores, type WeightCriterion } from './channel-importance.js';
import { selectChannels, type ChannelSelectionOptions } from './channel-selection.js';
import { cloneModel, maskModel, shrinkModel } from './shrink-model.js';

export type StructuredCriterion = WeightCriterion | ActivationCriterion;
export const STRUCTURED_CRITERIA: readonly StructuredCriterion[] = ['l1', 'l2', 'bn', 'apoz', 'mean-activation'];

export interface StructuredPruningOptions extends ChannelSelectionOptions {
  criterion: StructuredCriterion;
  /** Data for the activation criteria (and the first images check the shrunk model). */
  calibration?: ActivationStatisticsOptions;
  /** Prune only the groups these layers produce (default: every group that can be pruned). */
  layers?: readonly string[];
  /** Largest difference allowed between the masked and the shrunk model's outputs (default 1e-4). */
  tolerance?: number;
}

export interface GroupChange {
  /** The group's first producer. */
  name: string;
  /** Every layer whose output width is this group's (several across residual adds). */
  layers: string[];
  before: number;
  after: number;
}

export interface StructuredPruningResult {
  /** The shrunk model (a new model; the input is left as it was). */
  model: tfl.LayersModel;
  /** Every prunable group, pruned or not. */
  groups: GroupChange[];
  /** Groups kept whole, with why. */
  frozen: { name: string; reasons: string[] }[];
  /** Largest |masked − shrunk| over the check batch, relative to the outputs' scale. */
  maxDifference: number;
}

/**
 * Structured pruning end to end: trace the coupled channel groups, score
 * their channels, choose the ones to keep, build the smaller model, and
 * check it: the original with the removed channels silenced and the shrunk
 * model must give the same outputs on the same inputs, or nothing is
 * returned.
 */
export async function pruneStructured(model: tfl.LayersModel, options: StructuredPruningOptions): Promise<StructuredPruningResult> {
  const graph = traceChannels(model);
  const frozen = graph.groups.filter((g) => g.producers.length > 0 && !g.prunable);
  let candidates = graph.groups.filter((g) => g.prunable);
  if (options.layers) {
    const chosen = new Set<ChannelGroup>();
    for (const name of options.layers) {
      const layer = model.layers.find((l) => l.name === name);
      if (!layer) throw new DloptError(`the model has no layer '${name}' (its layers: ${model.layers.map((l) => l.name).join(', ')})`);
      const group = graph.producerOf.get(layer);
      if (!group) throw new DloptError(`layer '${name}' (${layer.getClassName()}) has no filters or units to prune`);
      if (!group.prunable) throw new DloptError(`layer '${name}' cannot be pruned: its channels are ${[...new Set(group.frozen)].join('; ')}`);
      chosen.add(group);
    }
    candidates = candidates.filter((g) => chosen.has(g));
  }
  if (candidates.length === 0) {
    const why = [...graph.unsupported.map((u) => `layer '${u.layer}' (${u.type}) ${u.reason}`), ...frozen.map((g) => `'${g.name}': ${[...new Set(g.frozen)].join('; ')}`)];
    throw new DloptError(`no layer of the model can be pruned structurally${why.length ? `: ${why.join('; ')}` : ''}`);
  }

  const scores =
    options.criterion === 'apoz' || options.criterion === 'mean-activation'
      ? activationScores(model, candidates, options.criterion, requireCalibration(options))
      : new Map(candidates.map((g) => [g, weightScores(g, options.criterion as WeightCriterion)]));
  const kept = selectChannels(scores, options);

  const shrunk = await shrinkModel(model, graph, kept);
  let maxDifference: number;
  try {
    maxDifference = await compareOutputs(model, shrunk, graph, kept);
  } catch (error) {
    shrunk.dispose();
    throw error;
  }
  const tolerance = options.tolerance ?? 1e-4;
  if (!(maxDifference <= tolerance)) {
    shrunk.dispose();
    throw new DloptError(
      `the shrunk model's outputs differ from the pruned model's by ${maxDifference.toExponential(2)} (more than ${tolerance}); ` +
        'this is a bug in dlopt: please report it with the model',
    );
  }
  return {
    model: shrunk,
    groups: candidates.map((g) => ({ name: g.name, layers: g.producers.map((l) => l.name), before: g.size, after: kept.get(g)?.length ?? g.size })),
    frozen: frozen.map((g) => ({ name: g.name, reasons: [...new Set(g.frozen)] })),
    maxDifference,
  };
}

function requireCalibration(options: StructuredPruningOptions): ActivationStatisticsOptions {
  if (!options.calibration) throw new DloptError(`--method ${options.criterion} measures activations and needs data (--data)`);
  return options.calibration;
}

/** Runs the masked original and the shrunk model on one batch; the largest difference relative to the outputs' scale. */
async function compareOutputs(
  model: tfl.LayersModel,
  shrunk: tfl.LayersModel,
  graph: ChannelGraph,
  kept: Map<ChannelGroup, number[]>,
): Promise<number> {
  const masked = await cloneModel(model);
  try {
    maskModel(masked, graph, kept);
    const shape = model.inputs[0]!.shape.slice(1).map((d) => d ?? 1);
    return tf.tidy(() => {
      // Inputs in the range the models see: pixels scaled to [0, 1).
      const x = tf.randomUniform([8, ...shape], 0, 1, 'float32', 1234);
      const a = masked.predict(x) as tf.Tensor;
      const b = shrunk.predict(x) as tf.Tensor;
      const scale = Math.max(1, tf.max(tf.abs(a)).dataSync()[0]!);
      return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / scale;
    });
  } finally {
    masked.dispose();
  }
}
