import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { keptIndices, type ChannelGraph, type ChannelGroup, type WeightSlice } from './channel-graph.js';

/** For each group that loses channels, the channels it keeps, ascending. */
export type KeptChannels = Map<ChannelGroup, readonly number[]>;

type LayerJson = { class_name: string; config: { name: string; [key: string]: unknown } };

/** A copy of a model (architecture from its JSON, weights copied), independent of the original. */
export async function cloneModel(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  const copy = await tfl.models.modelFromJSON({ modelTopology: model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'] } as tf.io.ModelJSON);
  copy.setWeights(model.getWeights());
  return copy;
}

/**
 * The smaller model: the same architecture with the widths of the pruned
 * producers reduced, and every weight that follows a pruned group gathered
 * down to the kept channels (filters of producers, per-channel parameters,
 * input rows of every consumer — after a Flatten, at every position). The
 * result is an ordinary layers model that saves and loads without dlopt.
 */
export async function shrinkModel(model: tfl.LayersModel, graph: ChannelGraph, kept: KeptChannels): Promise<tfl.LayersModel> {
  const topology = model.toJSON(null, false) as { class_name: string; config: { layers: LayerJson[] } | LayerJson[] };
  const layers = Array.isArray(topology.config) ? topology.config : topology.config.layers;
  for (const [layer, group] of graph.producerOf) {
    const keep = kept.get(group);
    if (!keep) continue;
    const entry = layers.find((l) => l.config.name === layer.name);
    if (!entry) throw new Error(`shrinkModel: layer ${layer.name} is missing from the model's JSON`);
    const key = 'filters' in entry.config ? 'filters' : 'units';
    entry.config[key] = keep.length;
  }
  const shrunk = await tfl.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] } as tf.io.ModelJSON);
  for (const layer of shrunk.layers) {
    if (layer.weights.length === 0) continue;
    const source = model.getLayer(layer.name);
    const slices = graph.slicesByLayer.get(source) ?? [];
    const values = tf.tidy(() =>
      source.getWeights().map((w, index) => {
        let v = w;
        for (const s of slices.filter((s) => s.index === index)) {
          const indices = keptIndices(s, kept);
          if (indices.length !== v.shape[s.axis]) v = tf.gather(v, tf.tensor1d(indices, 'int32'), s.axis);
        }
        return v === w ? tf.clone(w) : v;
      }),
    );
    const expected = layer.weights.map((w) => w.shape.join('x'));
    const got = values.map((v) => v.shape.join('x'));
    if (expected.join() !== got.join()) {
      tf.dispose(values);
      shrunk.dispose();
      throw new Error(`shrinkModel: layer ${layer.name} expects weights ${expected.join(', ')} but slicing gave ${got.join(', ')}`);
    }
    layer.setWeights(values);
    tf.dispose(values);
  }
  return shrunk;
}

/**
 * Silences the channels pruning removes, in place: a removed channel's
 * filter and bias, and its batch norm gamma, beta and moving mean (or
 * depthwise kernel), become zero, so the channel is exactly zero at every
 * point of the graph. Consumers are left alone: they read zeros. A model
 * masked this way computes what the shrunk model computes, which is how
 * shrinking is checked.
 */
export function maskModel(model: tfl.LayersModel, graph: ChannelGraph, kept: KeptChannels): void {
  for (const [source, slices] of graph.slicesByLayer) {
    const layer = model.getLayer(source.name);
    const silencing = slices.filter((s) => s.role === 'output' || s.role === 'scale');
    if (silencing.length === 0) continue;
    const values = tf.tidy(() =>
      layer.getWeights().map((w, index) => {
        let v = w;
        for (const s of silencing.filter((s) => s.index === index)) v = tf.mul(v, keepMask(s, kept, v.shape));
        return v === w ? tf.clone(w) : v;
      }),
    );
    layer.setWeights(values);
    tf.dispose(values);
  }
}

function keepMask(slice: WeightSlice, kept: KeptChannels, shape: number[]): tf.Tensor {
  const n = shape[slice.axis]!;
  const mask = new Float32Array(n);
  for (const i of keptIndices(slice, kept)) mask[i] = 1;
  const broadcast = shape.map((_, i) => (i === slice.axis ? n : 1));
  return tf.tensor(mask, broadcast, 'float32');
}
