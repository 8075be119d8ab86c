import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DloptError } from '../errors.js';
import { tempDir } from '../test-support/fixtures.js';
import { studyTrials, writePruningRun, writeStudy, writeTrainingRun } from '../test-support/report-fixtures.js';
import { InMemoryStorage } from '../tune/storages/in-memory-storage.js';
import { buildReport } from './build-report.js';
import { HEIGHT, values, WIDTH, withDefaults } from './chart-specs.js';
import { chartSvg, svgToPng, writeChartImages } from './png-export.js';
import type { Report, ReportChart } from './report-model.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's IHDR chunk (right after the signature and the chunk's length and type). */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  assert.deepEqual([...bytes.subarray(0, 8)], PNG_SIGNATURE, 'not a PNG');
  assert.equal(Buffer.from(bytes.subarray(12, 16)).toString('ascii'), 'IHDR');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function lineChart(id: string, title: string): ReportChart {
  return {
    id,
    title,
    spec: withDefaults({
      data: values([
        { epoch: 1, value: 2 },
        { epoch: 2, value: 1.5 },
        { epoch: 3, value: 1.2 },
      ]),
      mark: { type: 'line', point: true },
      encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'value', type: 'quantitative' } },
    }),
  };
}

function barChart(id: string, title: string): ReportChart {
  return {
    id,
    title,
    spec: withDefaults({
      width: 300,
      height: 120,
      data: values([
        { layer: 'conv1', value: 0.4 },
        { layer: 'conv2', value: 0.7 },
      ]),
      mark: { type: 'bar' },
      encoding: { x: { field: 'layer', type: 'nominal' }, y: { field: 'value', type: 'quantitative' } },
    }),
  };
}

function report(...charts: ReportChart[][]): Report {
  return {
    title: 't',
    generatedAt: '2025-01-01T00:00:00.000Z',
    sources: [],
    sections: charts.map((c, i) => ({ id: `s${i}`, title: `S${i}`, notes: [], charts: c, tables: [] })),
  };
}

describe('chartSvg', () => {
  it('renders a small chart to SVG carrying its title', async () => {
    const svg = await chartSvg(lineChart('c', 'Loss per epoch'));
    assert.match(svg, /^<svg[\s>]/);
    assert.match(svg, /<\/svg>\s*$/);
    assert.ok(svg.includes('Loss per epoch'));
  });

  it('escapes a title with markup in it', async () => {
    const svg = await chartSvg(lineChart('c', 'a < b & <img src=x>'));
    assert.doesNotMatch(svg, /<img/);
    assert.ok(svg.includes('a &lt; b &amp; &lt;img src=x&gt;'));
  });
});

describe('svgToPng', () => {
  it('scales the image', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"><rect width="30" height="20" fill="red"/></svg>';
    assert.deepEqual(pngSize(await svgToPng(svg)), { width: 60, height: 40 });
    assert.deepEqual(pngSize(await svgToPng(svg, 1)), { width: 30, height: 20 });
    assert.deepEqual(pngSize(await svgToPng(svg, 3)), { width: 90, height: 60 });
  });
});

describe('writeChartImages', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await tempDir('dlopt-report-png-'));
  });
  after(() => cleanup());

  it('writes one PNG per chart, named by chart id, at twice the size', async () => {
    const out = join(dir, 'images', 'nested');
    const files = await writeChartImages(report([lineChart('s0-loss', 'Loss')], [barChart('s1-layers', 'Layers')]), out);
    assert.deepEqual(files, [join(out, 's0-loss.png'), join(out, 's1-layers.png')]);
    assert.deepEqual((await readdir(out)).sort(), ['s0-loss.png', 's1-layers.png']);

    const loss = pngSize(await readFile(files[0]!));
    // The spec's size is the plot's; axes, title and padding come on top, then all of it doubled.
    assert.ok(loss.width > 2 * WIDTH && loss.width < 2 * (WIDTH + 200), `width ${loss.width}`);
    assert.ok(loss.height > 2 * HEIGHT && loss.height < 2 * (HEIGHT + 200), `height ${loss.height}`);
    const bars = pngSize(await readFile(files[1]!));
    assert.ok(bars.width > 2 * 300 && bars.width < 2 * (300 + 200), `width ${bars.width}`);
    assert.ok(bars.height > 2 * 120, `height ${bars.height}`);
  });

  it('scale 1 gives images about the spec’s size', async () => {
    const out = join(dir, 'scale-1');
    const [file] = await writeChartImages(report([lineChart('c', 'Loss')]), out, { scale: 1 });
    const { width, height } = pngSize(await readFile(file!));
    assert.ok(width > WIDTH && width < WIDTH + 200, `width ${width}`);
    assert.ok(height > HEIGHT && height < HEIGHT + 200, `height ${height}`);
  });

  it('every chart of a report of a study, a training run and a pruning run renders headlessly', async () => {
    const storage = new InMemoryStorage();
    await writeStudy(storage, 'demo', studyTrials(6));
    const paths = [await writeTrainingRun(join(dir, 'runs', 'train')), await writePruningRun(join(dir, 'runs', 'prune'))];
    const full = await buildReport({ paths, study: { storage, name: 'demo', url: 'memory' } });
    const charts = full.sections.flatMap((s) => s.charts);
    assert.ok(charts.length >= 8, charts.map((c) => c.id).join(' '));
    // SVG only (rasterizing them all would make this file slow): a spec Vega rejects fails here.
    const svgs = await Promise.all(charts.map((c) => chartSvg(c)));
    svgs.forEach((svg, i) => {
      assert.match(svg, /^<svg[\s>]/, charts[i]!.id);
      assert.ok(svg.includes(charts[i]!.title.replace(/&/g, '&amp;')), charts[i]!.id);
    });
  });

  it('a report without charts writes nothing', async () => {
    const out = join(dir, 'none');
    assert.deepEqual(await writeChartImages(report([]), out), []);
    assert.deepEqual(await readdir(out), []);
  });

  it('a chart that cannot be drawn is a DloptError naming it', async () => {
    const broken: ReportChart = {
      id: 's0-broken',
      title: 'Broken chart',
      spec: withDefaults({ data: values([{ x: 1 }]), mark: { type: 'no-such-mark' }, encoding: { x: { field: 'x', type: 'quantitative' } } }),
    };
    const out = join(dir, 'broken');
    await assert.rejects(writeChartImages(report([lineChart('s0-ok', 'Fine')], [broken]), out), (error: unknown) => {
      assert.ok(error instanceof DloptError, String(error));
      assert.match(error.message, /Broken chart/);
      assert.ok(error.message.includes(join(out, 's0-broken.png')), error.message);
      return true;
    });
    assert.deepEqual(await readdir(out), ['s0-ok.png']);
  });
});
