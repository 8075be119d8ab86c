import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../test-support/fixtures.js';
import { studyTrials, writePruningRun, writeStudy, writeTrainingRun } from '../test-support/report-fixtures.js';
import type { Distribution } from '../tune/distributions.js';
import { InMemoryStorage } from '../tune/storages/in-memory-storage.js';
import { buildReport } from './build-report.js';
import { escapeHtml, inlineScript, renderHtml, scriptJson } from './html-page.js';
import type { Report } from './report-model.js';
import { vegaBundles } from './vega-bundles.js';

const HOSTILE = '<img src=x onerror=alert(1)>';

/** The text of the first <script type="application/json" id="dlopt-charts"> element, as an HTML parser would end it. */
function chartsScript(html: string): string {
  const open = '<script type="application/json" id="dlopt-charts">';
  const start = html.indexOf(open);
  assert.ok(start >= 0, 'no dlopt-charts script');
  const body = html.slice(start + open.length);
  const end = body.search(/<\/script/i);
  assert.ok(end >= 0);
  return body.slice(0, end);
}

/** Every src and href attribute value in the page. */
function links(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/gi)].map((m) => m[2] ?? m[3] ?? m[4] ?? '');
}

describe('escapeHtml', () => {
  it('escapes the five characters HTML gives meaning to', () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    assert.equal(escapeHtml(HOSTILE), '&lt;img src=x onerror=alert(1)&gt;');
  });

  it('leaves other text as it is, and escapes & once', () => {
    assert.equal(escapeHtml('val_accuracy 0.66 → 0.65 ×2.5 −50%'), 'val_accuracy 0.66 → 0.65 ×2.5 −50%');
    assert.equal(escapeHtml('&amp;'), '&amp;amp;');
    assert.equal(escapeHtml(''), '');
  });
});

describe('scriptJson', () => {
  it('no string can close the script element, and the JSON reads back the same', () => {
    const value = {
      a: '</script><script>alert(1)</script>',
      b: '</SCRIPT >',
      c: '<!-- <script>',
      d: 'line\u2028separator\u2029paragraph',
      e: [1, null, true, 'x < y && y > z'],
    };
    const json = scriptJson(value);
    assert.doesNotMatch(json, /<\/script/i);
    assert.doesNotMatch(json, /</);
    assert.doesNotMatch(json, /[\u2028\u2029]/);
    const page = `<script type="application/json" id="dlopt-charts">${json}</script>`;
    assert.deepEqual(JSON.parse(chartsScript(page)), value);
  });

  it('is valid JavaScript too (a JSON literal evaluates to the same value)', () => {
    const value = { s: '</script>\u2028' };
    assert.deepEqual(new Function(`return ${scriptJson(value)};`)(), value);
  });
});

describe('inlineScript', () => {
  it('no </script in any case survives, and the code means the same', () => {
    const source = 'var a = "</script>"; var b = \'</SCRIPT >\'; var c = `</Script`; return [a, b, c];';
    const inlined = inlineScript(source);
    assert.doesNotMatch(inlined, /<\/script/i);
    assert.deepEqual(new Function(inlined)(), ['</script>', '</SCRIPT >', '</Script']);
  });

  it('leaves code without </script untouched', () => {
    const source = 'if (a < b && c > d) { x = "<div></div>"; } /* </style> */';
    assert.equal(inlineScript(source), source);
  });
});

describe('renderHtml', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let report: Report;
  before(async () => {
    ({ dir, cleanup } = await tempDir('dlopt-report-html-'));
    const storage = new InMemoryStorage();
    await writeStudy(storage, HOSTILE, studyTrials(8));
    // A parameter whose name and choices are hostile too.
    const study = (await storage.getStudy(HOSTILE))!;
    const hostileParam: Distribution = { type: 'categorical', choices: [HOSTILE, '"quoted" & \'single\''] };
    for (const [i, value] of [HOSTILE, '"quoted" & \'single\'', HOSTILE].entries()) {
      const trial = await storage.createTrial(study.id);
      await storage.setTrialParam(trial.id, HOSTILE, hostileParam, value);
      await storage.setTrialIntermediateValue(trial.id, 1, 0.9 + i / 100);
      await storage.finishTrial(trial.id, 'COMPLETE', 0.9 + i / 100);
    }
    const train = await writeTrainingRun(join(dir, HOSTILE), { epochs: 3, model: HOSTILE });
    const train2 = await writeTrainingRun(join(dir, 'plain'), { epochs: 3 });
    const prune = await writePruningRun(join(dir, `prune ${HOSTILE}`));
    report = await buildReport({ paths: [train, train2, prune], study: { storage, name: HOSTILE, url: `memory ${HOSTILE}` }, now: new Date('2025-01-02T03:04:05.678Z') });
    report.title = `Report ${HOSTILE} "title"`;
  });
  after(() => cleanup());

  it('the report has the sections and charts the page must show', () => {
    assert.equal(report.sections.length, 3);
    assert.ok(report.sections.every((s) => s.charts.length > 0));
  });

  it('hostile titles, names, parameters and values are escaped everywhere', () => {
    const html = renderHtml(report, []);
    assert.doesNotMatch(html, /<img/i);
    assert.ok(html.includes(`<title>Report ${escapeHtml(HOSTILE)} &quot;title&quot;</title>`));
    assert.ok(html.includes(`<h1>Report ${escapeHtml(HOSTILE)} &quot;title&quot;</h1>`));
    assert.ok(html.includes(escapeHtml(HOSTILE)));
    // Only the page's two scripts: the chart data and the script that draws them.
    assert.equal(html.match(/<script\b/gi)!.length, 2);
    assert.equal(html.match(/<\/script/gi)!.length, 2);
    // The chart data still carries the names, intact.
    const charts = JSON.parse(chartsScript(html)) as { id: string; spec: unknown }[];
    assert.ok(JSON.stringify(charts).includes(HOSTILE));
  });

  it('makes no network reference, and forbids any with a Content-Security-Policy', async () => {
    const html = renderHtml(report, await vegaBundles());
    for (const link of links(html)) assert.doesNotMatch(link, /^\s*(https?:)?\/\//i, link);
    const csp = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]*)">/);
    assert.ok(csp, 'no Content-Security-Policy meta');
    assert.match(csp[1]!, /default-src 'none'/);
    assert.match(csp[1]!, /connect-src 'none'/);
    assert.doesNotMatch(csp[1]!, /https?:/);
    assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<script'), 'the policy must come before any script');
    // Each library inlined, none loaded.
    assert.equal(html.match(/<script\b[^>]*\bsrc\s*=/gi), null);
    assert.equal(html.match(/<link\b/gi), null);
  });

  it('every chart has an element with its id, and the chart data lists every chart once', () => {
    const html = renderHtml(report, []);
    const chartIds = report.sections.flatMap((s) => s.charts.map((c) => c.id));
    assert.equal(new Set(chartIds).size, chartIds.length, 'chart ids repeat');
    for (const id of chartIds) assert.ok(html.includes(`<div class="chart" id="${id}"></div>`), id);
    const elementIds = [...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]);
    assert.equal(new Set(elementIds).size, elementIds.length, 'element ids repeat');
    const charts = JSON.parse(chartsScript(html)) as { id: string; spec: { data?: unknown } }[];
    assert.deepEqual(
      charts.map((c) => c.id),
      chartIds,
    );
    assert.deepEqual(
      charts.map((c) => c.spec),
      report.sections.flatMap((s) => s.charts.map((c) => JSON.parse(JSON.stringify(c.spec)))),
    );
  });

  it('sections, navigation, tables and sources', () => {
    const html = renderHtml(report, []);
    for (const s of report.sections) {
      assert.ok(html.includes(`<section id="${s.id}">`), s.id);
      assert.ok(html.includes(`<a href="#${s.id}">`), s.id);
      for (const t of s.tables) assert.match(html, new RegExp(`<table id="${t.id}"`), t.id);
    }
    assert.match(html, /<table id="[a-z0-9-]+-trials" class="sortable">/);
    assert.match(html, /<tr class="best">/);
    assert.ok(html.includes('2025-01-02 03:04:05 UTC'));
    for (const source of report.sources) assert.ok(html.includes(`<li><code>${escapeHtml(source)}</code></li>`));
  });

  it('one section: no navigation', () => {
    const html = renderHtml({ ...report, sections: report.sections.slice(0, 1) }, []);
    assert.doesNotMatch(html, /<nav>/);
  });

  it('inlines each library in its own script element, in order', () => {
    const html = renderHtml(report, ['var first = 1;', 'var second = "</script>";']);
    assert.ok(html.indexOf('var first = 1;') < html.indexOf('var second'));
    assert.ok(html.includes('<script>var second = "<\\/script>";</script>'));
    assert.ok(html.indexOf('dlopt-charts') < html.indexOf('var first'));
  });
});
