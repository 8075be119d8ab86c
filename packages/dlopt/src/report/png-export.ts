import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DloptError, describeError } from '../errors.js';
import { writeAtomic } from '../io/model-files.js';
import type { Report, ReportChart } from './report-model.js';

/**
 * Renders one chart to SVG in Node: the same spec the page draws, through
 * Vega's headless renderer. An image stands alone, so it carries the title
 * the page shows above the chart.
 */
export async function chartSvg(chart: ReportChart): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const spec = { ...chart.spec, title: { text: chart.title, anchor: 'start' as const, fontSize: 14 } };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG to PNG at `scale`× (2 by default: sharp in READMEs on high-density screens), with the system's fonts. */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

/** Every chart of the report as `<dir>/<chart id>.png`; returns the files written. */
export async function writeChartImages(report: Report, dir: string, options: { scale?: number } = {}): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new DloptError(`cannot create the image directory ${dir}: ${describeError(error)}`, { cause: error });
  }
  const written: string[] = [];
  for (const chart of report.sections.flatMap((s) => s.charts)) {
    const file = join(dir, `${chart.id}.png`);
    let png: Uint8Array;
    try {
      png = await svgToPng(await chartSvg(chart), options.scale);
    } catch (error) {
      throw new DloptError(`cannot render chart '${chart.title}' to ${file}: ${describeError(error)}`, { cause: error });
    }
    try {
      await writeAtomic(file, png);
    } catch (error) {
      throw new DloptError(`cannot write ${file}: ${describeError(error)}`, { cause: error });
    }
    written.push(file);
  }
  return written;
}
