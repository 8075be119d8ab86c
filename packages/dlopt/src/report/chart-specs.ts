import type { TopLevelSpec } from 'vega-lite';

/**
 * What every chart shares. Sizes are fixed so the HTML and the PNGs agree, and
 * the schema URL is only a label: nothing fetches it.
 */
export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
export const WIDTH = 440;
export const HEIGHT = 240;

/** Drag to pan, wheel to zoom; double-click resets. */
export const ZOOM = { name: 'zoom', select: 'interval', bind: 'scales' } as const;

/** Values inlined as the chart's data: `undefined` fields dropped, so JSON and the spec agree. */
export function values<T extends object>(rows: readonly T[]): { values: Record<string, unknown>[] } {
  return { values: rows.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))) };
}

export function withDefaults(spec: Record<string, unknown>): TopLevelSpec {
  return {
    $schema: SCHEMA,
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', view: { stroke: '#ddd' }, axis: { labelFontSize: 11, titleFontSize: 12 } },
    ...spec,
  } as TopLevelSpec;
}
