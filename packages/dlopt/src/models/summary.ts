import type * as tfl from '@tensorflow/tfjs-layers';
import { formatCompact, formatInt } from '../util/format.js';
import { layerFlops } from './flops.js';

export interface LayerRow {
  name: string;
  type: string;
  /** Output shape without the batch dimension. */
  outputShape: (number | null)[] | (number | null)[][];
  params: number;
  /** Undefined when the layer type's cost is not known. */
  flops: number | undefined;
}

export interface ModelSummary {
  layers: LayerRow[];
  params: number;
  trainableParams: number;
  /** FLOPs per image; a lower bound when `flopsComplete` is false. */
  flops: number;
  flopsComplete: boolean;
}

export function summarizeModel(model: tfl.LayersModel): ModelSummary {
  const layers: LayerRow[] = model.layers.map((layer) => ({
    name: layer.name,
    type: layer.getClassName(),
    outputShape: dropBatch(layer.outputShape),
    params: layer.countParams(),
    flops: layerFlops(layer),
  }));
  const trainableParams = model.trainableWeights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
  return {
    layers,
    params: model.countParams(),
    trainableParams,
    flops: layers.reduce((n, l) => n + (l.flops ?? 0), 0),
    flopsComplete: layers.every((l) => l.flops !== undefined),
  };
}

function dropBatch(shape: tfl.Shape | tfl.Shape[]): LayerRow['outputShape'] {
  if (Array.isArray(shape[0])) return (shape as tfl.Shape[]).map((s) => s.slice(1));
  return (shape as tfl.Shape).slice(1);
}

/** Keras-style text table. */
export function formatSummary(title: string, summary: ModelSummary): string {
  const rows = summary.layers.map((l) => [
    `${l.name} (${l.type})`,
    JSON.stringify(l.outputShape).replaceAll('null', 'None').replaceAll(',', ', '),
    formatInt(l.params),
    l.flops === undefined ? '?' : formatInt(l.flops),
  ]);
  const header = ['Layer (type)', 'Output shape', 'Params', 'FLOPs'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1));
  const flops = `${formatInt(summary.flops)} (${formatCompact(summary.flops)})`;
  return [
    `Model: ${title}`,
    rule('='),
    line(header),
    rule('='),
    ...rows.map(line),
    rule('='),
    `Total params: ${formatInt(summary.params)}`,
    `Trainable params: ${formatInt(summary.trainableParams)}`,
    `Non-trainable params: ${formatInt(summary.params - summary.trainableParams)}`,
    `FLOPs per image: ${flops}${summary.flopsComplete ? '' : ' — lower bound: layers marked ? are not counted'}`,
    '(FLOPs count a multiply-add as 2; bias adds and activations as 1 per element)',
  ].join('\n');
}
