import type * as tfl from '@tensorflow/tfjs-layers';

type Layer = tfl.LayersModel['layers'][number];

/**
 * What a weight's axis holds, which decides what pruning a channel does to it:
 * `output` — a producer's filters/units (kernel's last axis, bias);
 * `scale` — a per-channel layer's parameters that must become zero to silence
 *   a channel (batch norm's gamma, beta and moving mean; a depthwise kernel);
 * `stat` — per-channel statistics only sliced (batch norm's moving variance);
 * `input` — a consumer's input channels (kernel rows), only sliced.
 */
export type SliceRole = 'output' | 'scale' | 'stat' | 'input';

/** One axis of one weight of one layer that follows a channel layout. */
export interface WeightSlice {
  layer: Layer;
  /** The weight's own name without the layer prefix (`kernel`, `gamma`, …). */
  weight: string;
  /** Index into layer.weights. */
  index: number;
  axis: number;
  role: SliceRole;
  layout: Layout;
  /**
   * Entries per channel along the axis, adjacent (a separable conv's
   * pointwise kernel has depthMultiplier rows per input channel).
   */
  multiplier: number;
}

/**
 * The channels of one tensor, in order: the groups it is made of (several
 * after a concatenation) and, after a Flatten, how many spatial positions
 * each channel repeats at (NHWC flattening puts channels innermost).
 */
export interface Layout {
  groups: ChannelGroup[];
  positions: number;
}

/**
 * A set of channels that can only be removed together: the outputs of one
 * producer (a conv's filters, a dense layer's units), joined with every
 * layer that acts per channel on them (batch norm, depthwise conv, pooling,
 * activations) and, across residual adds, with the producers of every other
 * tensor added to them. Channel i of a group is channel i of each member.
 */
export class ChannelGroup {
  /** Layers whose outputs these channels are, in model order. */
  readonly producers: Layer[] = [];
  /** Every weight axis that follows these channels. */
  readonly slices: WeightSlice[] = [];
  /** Layers whose output is exactly this group after a ReLU: where APoZ and mean activation are measured. */
  readonly reluOutputs: Layer[] = [];
  /** Why the group must keep all its channels (empty: it may be pruned). */
  readonly frozen: string[] = [];
  parent: ChannelGroup = this;

  constructor(
    readonly id: number,
    readonly size: number,
  ) {}

  /** The group's name: its first producer, or what it is when it has none. */
  get name(): string {
    return this.producers[0]?.name ?? `group${this.id}`;
  }

  get prunable(): boolean {
    return this.frozen.length === 0 && this.producers.length > 0;
  }
}

export interface ChannelGraph {
  /** Distinct groups (after merging), in the order their first producer appears. */
  groups: ChannelGroup[];
  /** Layers whose output widths come from a group (conv filters, dense units). */
  producerOf: Map<Layer, ChannelGroup>;
  /** Every weight slice of every group, by layer. */
  slicesByLayer: Map<Layer, WeightSlice[]>;
  /** Layers structured pruning does not understand, with the reason (their channels are kept). */
  unsupported: { layer: string; type: string; reason: string }[];
}

// Elementwise layers and activations with f(0) = 0: a silenced channel stays silent through them.
const ZERO_PRESERVING_ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'elu', 'selu', 'tanh', 'softsign', 'swish', 'mish', 'gelu', 'gelu_new']);
const RELU_ACTIVATIONS = new Set(['relu', 'relu6']);
const PASS_THROUGH = new Set([
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'MaxPooling1D',
  'MaxPooling2D',
  'AveragePooling1D',
  'AveragePooling2D',
  'ZeroPadding2D',
  'Cropping2D',
  'UpSampling2D',
  'ReLU',
  'ELU',
  'LeakyReLU',
  'ThresholdedReLU',
]);
const GLOBAL_POOLING = new Set(['GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D']);
const MERGE = new Set(['Add', 'Average', 'Multiply', 'Subtract']);

/**
 * Traces which channels of a layers model are coupled, the way DepGraph does
 * for PyTorch, but from the model's layer graph instead of autograd: a
 * producer starts a group; per-channel layers join it; adds merge groups;
 * concatenations and flattens build layouts out of them. Anything unknown
 * freezes the groups it touches, so pruning can only ever remove channels
 * whose every use is understood.
 */
export function traceChannels(model: tfl.LayersModel): ChannelGraph {
  const layouts = new Map<number, Layout>();
  const all: ChannelGroup[] = [];
  const slices: WeightSlice[] = [];
  const unsupported: ChannelGraph['unsupported'] = [];
  const producerOf = new Map<Layer, ChannelGroup>();
  const newGroup = (size: number) => {
    const g = new ChannelGroup(all.length, size);
    all.push(g);
    return g;
  };
  const single = (g: ChannelGroup): Layout => ({ groups: [g], positions: 1 });
  const freeze = (layout: Layout, reason: string) => {
    for (const g of layout.groups) find(g).frozen.push(reason);
  };

  for (const input of model.inputs) {
    const g = newGroup(input.shape.at(-1) ?? 0);
    g.frozen.push('the model input');
    layouts.set(input.id, single(g));
  }

  for (const layer of model.layers) {
    const type = layer.getClassName();
    if (type === 'InputLayer') continue;
    const nodes = layer.inboundNodes.filter((n) => n.inputTensors.every((t) => layouts.has(t.id)));
    const config = layer.getConfig() as Record<string, unknown>;
    const weightIndex = (name: string) => layer.weights.findIndex((w) => weightName(w) === name);
    const slice = (name: string, axis: number, role: SliceRole, layout: Layout, multiplier = 1) => {
      const index = weightIndex(name);
      if (index >= 0) slices.push({ layer, weight: name, index, axis, role, layout, multiplier });
    };
    const unknown = (reason: string) => {
      unsupported.push({ layer: layer.name, type, reason });
      for (const node of nodes) {
        for (const t of node.inputTensors) freeze(layouts.get(t.id)!, `used by layer '${layer.name}' (${type}), which ${reason}`);
        for (const t of node.outputTensors) {
          const g = newGroup(t.shape.at(-1) ?? 0);
          g.frozen.push(`the output of layer '${layer.name}' (${type}), which ${reason}`);
          layouts.set(t.id, single(g));
        }
      }
    };
    if (nodes.length !== 1) {
      unknown(nodes.length === 0 ? 'is not connected to the model inputs' : 'is called more than once (shared)');
      continue;
    }
    const node = nodes[0]!;
    const inputs = node.inputTensors.map((t) => layouts.get(t.id)!);
    const outputs = node.outputTensors;
    const setOutput = (layout: Layout) => {
      for (const t of outputs) layouts.set(t.id, layout);
    };
    const channelsLast = config.dataFormat === undefined || config.dataFormat === 'channelsLast';
    const activation = typeof config.activation === 'string' ? config.activation : 'linear';
    const out = outputs[0];

    if (outputs.length !== 1 || !out) {
      unknown('has several outputs');
      continue;
    }
    if (!channelsLast) {
      unknown('is channels-first');
      continue;
    }

    switch (type) {
      case 'Conv2D':
      case 'Conv1D':
      case 'Dense':
      case 'SeparableConv2D': {
        const input = inputs[0]!;
        const rank = layer.weights[weightIndex(type === 'SeparableConv2D' ? 'pointwise_kernel' : 'kernel')]?.shape.length ?? 0;
        if (type === 'SeparableConv2D') {
          const multiplier = Number(config.depthMultiplier ?? 1);
          slice('depthwise_kernel', 2, 'input', input);
          slice('pointwise_kernel', 2, 'input', input, multiplier);
        } else {
          if (input.positions !== 1 && type !== 'Dense') {
            unknown('reads a flattened tensor');
            continue;
          }
          slice('kernel', rank - 2, 'input', input);
        }
        const g = newGroup(out.shape.at(-1) ?? 0);
        g.producers.push(layer);
        producerOf.set(layer, g);
        const own = single(g);
        slice(type === 'SeparableConv2D' ? 'pointwise_kernel' : 'kernel', rank - 1, 'output', own);
        slice('bias', 0, 'output', own);
        if (!ZERO_PRESERVING_ACTIVATIONS.has(activation)) g.frozen.push(`layer '${layer.name}' has activation ${activation}, which is not zero at zero`);
        if (RELU_ACTIVATIONS.has(activation)) g.reluOutputs.push(layer);
        setOutput(own);
        break;
      }
      case 'DepthwiseConv2D': {
        if (Number(config.depthMultiplier ?? 1) !== 1) {
          unknown('has a depth multiplier other than 1');
          continue;
        }
        const input = inputs[0]!;
        slice('depthwise_kernel', 2, 'scale', input);
        slice('bias', 0, 'scale', input);
        if (!ZERO_PRESERVING_ACTIVATIONS.has(activation)) freeze(input, `layer '${layer.name}' has activation ${activation}, which is not zero at zero`);
        noteRelu(input, layer, activation);
        setOutput(input);
        break;
      }
      case 'BatchNormalization':
      case 'BatchRenormalization': {
        const axis = Number(Array.isArray(config.axis) ? NaN : config.axis ?? -1);
        const rank = out.shape.length;
        if (!(axis === -1 || axis === rank - 1)) {
          unknown('normalizes an axis other than the last');
          continue;
        }
        const input = inputs[0]!;
        for (const name of ['gamma', 'beta', 'moving_mean']) slice(name, 0, 'scale', input);
        for (const name of ['moving_variance', 'renorm_mean', 'renorm_stddev']) slice(name, 0, 'stat', input);
        setOutput(input);
        break;
      }
      case 'Activation': {
        if (!ZERO_PRESERVING_ACTIVATIONS.has(activation)) {
          unknown(`applies ${activation}, which is not zero at zero (or mixes channels)`);
          continue;
        }
        noteRelu(inputs[0]!, layer, activation);
        setOutput(inputs[0]!);
        break;
      }
      case 'Flatten': {
        const input = inputs[0]!;
        const inner = node.inputTensors[0]!.shape.slice(1, -1).reduce<number>((a, b) => a * (b ?? NaN), 1);
        if (!Number.isFinite(inner)) {
          unknown('flattens a tensor of unknown size');
          continue;
        }
        setOutput({ groups: input.groups, positions: input.positions * inner });
        break;
      }
      case 'Concatenate': {
        const rank = out.shape.length;
        const axis = Number(config.axis ?? -1);
        if (axis !== -1 && axis !== rank - 1) {
          // Along a spatial axis the channels line up, as in an add.
          const merged = mergeLayouts(inputs);
          if (!merged) unknown('concatenates tensors whose channels cannot be matched');
          else setOutput(merged);
          break;
        }
        if (inputs.some((l) => l.positions !== 1)) {
          unknown('concatenates flattened tensors');
          continue;
        }
        setOutput({ groups: inputs.flatMap((l) => l.groups), positions: 1 });
        break;
      }
      default: {
        if (PASS_THROUGH.has(type)) {
          if (type === 'ReLU') noteRelu(inputs[0]!, layer, 'relu');
          setOutput(inputs[0]!);
        } else if (GLOBAL_POOLING.has(type)) {
          setOutput({ groups: inputs[0]!.groups, positions: 1 });
        } else if (MERGE.has(type)) {
          const merged = mergeLayouts(inputs);
          if (!merged) unknown('merges tensors whose channels cannot be matched');
          else setOutput(merged);
        } else if (type === 'Maximum' || type === 'Minimum') {
          // max(0, x) is not 0: a silenced channel would come back through the other input.
          for (const l of inputs) freeze(l, `merged by layer '${layer.name}' (${type}), which is not zero when one input is`);
          setOutput(mergeLayouts(inputs) ?? inputs[0]!);
        } else {
          unknown('structured pruning does not know how to slice');
        }
      }
    }
  }

  for (const t of model.outputs) {
    const layout = layouts.get(t.id);
    if (layout) freeze(layout, 'the model output');
  }

  // Resolve merged groups: every record points at its root.
  for (const s of slices) s.layout = { groups: s.layout.groups.map(find), positions: s.layout.positions };
  const roots = [...new Set(all.map(find))];
  for (const s of slices) {
    for (const g of s.layout.groups) if (!g.slices.includes(s)) g.slices.push(s);
  }
  for (const [layer, g] of producerOf) producerOf.set(layer, find(g));
  const slicesByLayer = new Map<Layer, WeightSlice[]>();
  for (const s of slices) {
    const list = slicesByLayer.get(s.layer) ?? [];
    list.push(s);
    slicesByLayer.set(s.layer, list);
  }
  return { groups: roots, producerOf, slicesByLayer, unsupported };

  function noteRelu(layout: Layout, layer: Layer, activation: string) {
    if (RELU_ACTIVATIONS.has(activation) && layout.groups.length === 1 && layout.positions === 1) find(layout.groups[0]!).reluOutputs.push(layer);
  }
}

function find(g: ChannelGroup): ChannelGroup {
  while (g.parent !== g) {
    g.parent = g.parent.parent;
    g = g.parent;
  }
  return g;
}

function union(a: ChannelGroup, b: ChannelGroup): ChannelGroup {
  const ra = find(a);
  const rb = find(b);
  if (ra === rb) return ra;
  // The older group stays the root, so a group keeps the name of its first producer.
  const [root, child] = ra.id < rb.id ? [ra, rb] : [rb, ra];
  child.parent = root;
  root.producers.push(...child.producers);
  root.reluOutputs.push(...child.reluOutputs);
  root.frozen.push(...child.frozen);
  // Layer ids grow in creation order, which for a model built or loaded in one go is model order.
  root.producers.sort((x, y) => x.id - y.id);
  return root;
}

/** Joins, channel for channel, the layouts of tensors combined elementwise; undefined when they do not line up. */
function mergeLayouts(layouts: Layout[]): Layout | undefined {
  const [first, ...rest] = layouts;
  if (!first) return undefined;
  for (const other of rest) {
    if (other.positions !== first.positions || other.groups.length !== first.groups.length) return undefined;
    if (other.groups.some((g, i) => g.size !== first.groups[i]!.size)) return undefined;
  }
  const groups = first.groups.map((g, i) => rest.reduce((acc, l) => union(acc, l.groups[i]!), find(g)));
  return { groups, positions: first.positions };
}

/** A weight's name without its layer's prefix (`conv1/kernel` → `kernel`). */
export function weightName(w: { originalName: string }): string {
  return w.originalName.split('/').pop()!;
}

/** The indices along a weight axis that survive, given the kept channels of each group. */
export function keptIndices(slice: WeightSlice, kept: Map<ChannelGroup, readonly number[]>): number[] {
  const { layout, multiplier } = slice;
  const total = layout.groups.reduce((n, g) => n + g.size, 0);
  const indices: number[] = [];
  for (let p = 0; p < layout.positions; p++) {
    let offset = p * total;
    for (const g of layout.groups) {
      const keep = kept.get(g);
      for (const c of keep ?? range(g.size)) {
        for (let j = 0; j < multiplier; j++) indices.push((offset + c) * multiplier + j);
      }
      offset += g.size;
    }
  }
  return indices;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
