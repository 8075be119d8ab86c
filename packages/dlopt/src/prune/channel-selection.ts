import { DloptError } from '../errors.js';
import type { ChannelGroup } from './channel-graph.js';

export interface ChannelSelectionOptions {
  /** Fraction of channels to remove, relative to the original widths. */
  sparsity: number;
  /** `layer`: each group loses the same fraction; `global`: one ranking across groups. */
  scope: 'layer' | 'global';
  /** No group is left narrower than this (default 1). */
  minWidth?: number;
  /** Kept widths are rounded up to a multiple of this (vector-friendly kernels); default 1. */
  roundTo?: number;
  /** The width each group had before the first pruning step (by group name); default its current size. */
  baseWidths?: ReadonlyMap<string, number>;
}

/**
 * Chooses which channels each prunable group keeps from its scores (higher:
 * keep). Layer scope removes round(sparsity · width) from every group and
 * refuses to empty one; global scope ranks all channels together after
 * dividing each group's scores by their mean (raw norms grow with fan-in),
 * removing the weakest until the total width is met, never taking a group
 * below the minimum width. Groups left whole are absent from the result.
 */
export function selectChannels(
  scores: ReadonlyMap<ChannelGroup, Float64Array>,
  options: ChannelSelectionOptions,
): Map<ChannelGroup, number[]> {
  const { sparsity, scope } = options;
  if (!(sparsity >= 0 && sparsity < 1)) throw new DloptError(`sparsity must be in [0, 1) but got ${sparsity}`);
  const minWidth = options.minWidth ?? 1;
  const roundTo = options.roundTo ?? 1;
  if (!(Number.isInteger(minWidth) && minWidth >= 1)) throw new DloptError(`minimum width must be a positive integer but got ${minWidth}`);
  if (!(Number.isInteger(roundTo) && roundTo >= 1)) throw new DloptError(`round-to must be a positive integer but got ${roundTo}`);
  const base = (g: ChannelGroup) => options.baseWidths?.get(g.name) ?? g.size;

  const keepCount = new Map<ChannelGroup, number>();
  if (scope === 'layer') {
    for (const g of scores.keys()) {
      const target = base(g) - Math.round(sparsity * base(g));
      if (target < 1) {
        throw new DloptError(
          `sparsity ${sparsity} would leave layer '${g.name}' with no channels (it has ${base(g)}); lower the sparsity`,
        );
      }
      keepCount.set(g, Math.min(g.size, Math.max(target, minWidth)));
    }
  } else {
    const totalBase = [...scores.keys()].reduce((n, g) => n + base(g), 0);
    let toRemove = [...scores.keys()].reduce((n, g) => n + g.size, 0) - (totalBase - Math.round(sparsity * totalBase));
    const candidates: { g: ChannelGroup; c: number; s: number }[] = [];
    for (const [g, s] of scores) {
      keepCount.set(g, g.size);
      const mean = s.reduce((a, b) => a + b, 0) / s.length;
      s.forEach((v, c) => candidates.push({ g, c, s: mean > 0 ? v / mean : 0 }));
    }
    candidates.sort((a, b) => a.s - b.s || a.g.id - b.g.id || a.c - b.c);
    for (const { g } of candidates) {
      if (toRemove <= 0) break;
      const k = keepCount.get(g)!;
      if (k <= Math.max(minWidth, 1)) continue;
      keepCount.set(g, k - 1);
      toRemove--;
    }
  }

  const kept = new Map<ChannelGroup, number[]>();
  for (const [g, s] of scores) {
    const k = Math.min(g.size, Math.ceil(keepCount.get(g)! / roundTo) * roundTo);
    if (k >= g.size) continue;
    const order = Array.from({ length: g.size }, (_, i) => i).sort((a, b) => s[b]! - s[a]! || a - b);
    kept.set(g, order.slice(0, k).sort((a, b) => a - b));
  }
  return kept;
}
