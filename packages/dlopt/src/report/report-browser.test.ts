import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { tempDir } from '../test-support/fixtures.js';
import { studyTrials, writePruningRun, writeStudy, writeTrainingRun } from '../test-support/report-fixtures.js';
import { InMemoryStorage } from '../tune/storages/in-memory-storage.js';
import { buildReport, type ReportInputs } from './build-report.js';
import { renderHtml } from './html-page.js';
import type { Report } from './report-model.js';
import { vegaBundles } from './vega-bundles.js';

/**
 * End to end: a report opened in headless Chromium, offline, draws every
 * chart, logs nothing, fetches nothing and sorts its tables. Skipped where
 * Chromium is missing, unless DLOPT_REQUIRE_CHROMIUM=1 (CI).
 */

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const REQUIRED = process.env.DLOPT_REQUIRE_CHROMIUM === '1';
const skip = HAVE_CHROMIUM || REQUIRED ? false : `Chromium not found at ${CHROMIUM} (apt-get install chromium)`;
if (skip) console.warn(`report browser tests SKIPPED: ${skip}`);

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface OpenedReport {
  page: Page;
  context: BrowserContext;
  /** Console errors and warnings, and uncaught page errors. */
  problems: string[];
  /** Every request for anything but a file: URL (all aborted). */
  offline: string[];
}

describe('dlopt report in Chromium', () => {
  let browser: Browser | undefined;
  let dir = '';
  let cleanup = async () => {};

  before(async () => {
    if (skip) return;
    if (!HAVE_CHROMIUM) {
      throw new Error(`Chromium not found at ${CHROMIUM}: DLOPT_REQUIRE_CHROMIUM=1 requires the report browser tests to run (apt-get install chromium)`);
    }
    ({ dir, cleanup } = await tempDir('dlopt-report-browser-'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  });

  after(async () => {
    await browser?.close();
    await cleanup();
  });

  /** Builds the report, writes it as `name`.html and returns the Report object and the file. */
  async function writeReport(name: string, inputs: ReportInputs): Promise<{ report: Report; file: string }> {
    const report = await buildReport({ ...inputs, now: new Date('2025-01-02T03:04:05Z') });
    const file = join(dir, `${name}.html`);
    await writeFile(file, renderHtml(report, await vegaBundles()));
    return { report, file };
  }

  /** Opens `file` with every request but file: ones aborted, and waits for body[data-ready]. */
  async function open(file: string): Promise<OpenedReport> {
    const context = await browser!.newContext({ viewport: { width: 1300, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    const offline: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !offline.includes(r.url())) offline.push(r.url());
    });
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      if (!offline.includes(url)) offline.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-ready]', { state: 'attached', timeout: 10_000 });
    return { page, context, problems, offline };
  }

  /** The data-sort value of `column` in each body row of table `id`, in page order, with the row's trial number (column 0). */
  function columnKeys(page: Page, id: string, column: number): Promise<{ trial: string; key: string }[]> {
    return page.locator(`table[id="${id}"] tbody tr`).evaluateAll(
      (rows, c) => rows.map((r) => ({ trial: r.children[0]!.getAttribute('data-sort') ?? '', key: r.children[c]!.getAttribute('data-sort') ?? '' })),
      column,
    );
  }

  it('draws every chart offline, sorts the trials table and takes a screenshot', { skip }, async () => {
    const storage = new InMemoryStorage();
    await writeStudy(storage, 'demo', studyTrials(20));
    const runs = join(dir, 'runs');
    await mkdir(runs);
    const paths = [
      await writeTrainingRun(join(runs, 'six-epochs'), { epochs: 6 }),
      await writeTrainingRun(join(runs, 'one-epoch'), { epochs: 1 }),
      await writePruningRun(join(runs, 'prune-l1'), { method: 'l1' }),
      await writePruningRun(join(runs, 'prune-magnitude'), { method: 'magnitude' }),
    ];
    const { report, file } = await writeReport('full', { paths, study: { storage, name: 'demo', url: 'memory' } });
    const expectedCharts = report.sections.flatMap((s) => s.charts.map((c) => c.id));
    assert.deepEqual(
      report.sections.map((s) => s.charts.length > 0),
      [true, true, true],
      'the fixture should give study, training and pruning charts',
    );

    const { page, context, problems, offline } = await open(file);
    try {
      assert.equal(await page.getAttribute('body', 'data-ready'), '1', `charts failed to render: ${problems.join('; ')}`);

      // Every chart is in the page, in order, as an SVG with data marks in it.
      const chartIds = await page.locator('.chart').evaluateAll((els) => els.map((e) => e.id));
      assert.deepEqual(chartIds, expectedCharts);
      for (const id of expectedCharts) {
        const chart = page.locator(`.chart[id="${id}"]`);
        assert.equal(await chart.locator('svg.marks').count(), 1, `chart ${id} has no Vega svg`);
        const marks = await chart.locator('svg.marks g[class*="mark-"].role-mark path').count();
        assert.ok(marks > 0, `chart ${id} drew no marks (no path in a mark group)`);
      }

      // The trials table sorts by the metric, both ways, and then by state.
      const trials = report.sections[0]!.tables[0]!;
      const metricColumn = trials.columns.findIndex((c) => c.label === 'val_accuracy');
      const stateColumn = trials.columns.findIndex((c) => c.label === 'state');
      assert.ok(metricColumn >= 0 && stateColumn >= 0, `columns: ${trials.columns.map((c) => c.label).join(', ')}`);
      const header = (column: number) => page.locator(`table[id="${trials.id}"] th[data-column="${column}"]`);
      const pairs = (rows: { trial: string; key: string }[]) => rows.map((r) => `${r.trial}:${r.key}`).sort();
      const initial = await columnKeys(page, trials.id, metricColumn);
      assert.equal(initial.length, 20);
      assert.ok(initial.every((r) => r.key !== ''), 'every trial of the fixture has a value');
      const values = initial.map((r) => Number(r.key));
      const ascending = [...values].sort((a, b) => a - b);
      assert.notDeepEqual(values, ascending, 'the fixture should not list trials already sorted by value');
      assert.equal(await header(metricColumn).getAttribute('aria-sort'), 'none');

      await header(metricColumn).locator('button').click();
      const up = await columnKeys(page, trials.id, metricColumn);
      assert.deepEqual(up.map((r) => Number(r.key)), ascending, 'one click sorts by val_accuracy, ascending');
      assert.deepEqual(pairs(up), pairs(initial), 'whole rows move, not cells');
      assert.equal(await header(metricColumn).getAttribute('aria-sort'), 'ascending');

      await header(metricColumn).locator('button').click();
      const down = await columnKeys(page, trials.id, metricColumn);
      assert.deepEqual(down.map((r) => Number(r.key)), [...ascending].reverse(), 'a second click sorts descending');
      assert.deepEqual(pairs(down), pairs(initial));
      assert.equal(await header(metricColumn).getAttribute('aria-sort'), 'descending');

      await header(stateColumn).locator('button').click();
      const states = (await columnKeys(page, trials.id, stateColumn)).map((r) => r.key);
      assert.deepEqual(states, [...states].sort((a, b) => a.localeCompare(b)));
      assert.ok(states.includes('COMPLETE') && states.includes('PRUNED'));
      assert.equal(await header(stateColumn).getAttribute('aria-sort'), 'ascending');
      assert.equal(await header(metricColumn).getAttribute('aria-sort'), 'none', 'sorting by another column resets the first');

      // The one-epoch run's note is shown.
      const note = page.locator('p.note', { hasText: 'one-epoch: only one epoch' });
      assert.equal(await note.count(), 1);
      assert.ok(await note.isVisible(), 'the one-epoch note is not visible');

      const shot = join(dir, 'full.png');
      await page.screenshot({ path: shot, fullPage: true });
      const png = await readFile(shot);
      assert.ok(png.length > 10_000, `screenshot is ${png.length} bytes`);
      assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE, 'screenshot is not a PNG');

      assert.deepEqual(problems, [], 'console errors or warnings, or page errors');
      assert.deepEqual(offline, [], 'requests for anything but the file itself');
    } finally {
      await context.close();
    }
  });

  it('shows notes instead of charts for an empty study and a one-epoch run', { skip }, async () => {
    const storage = new InMemoryStorage();
    await writeStudy(storage, 'empty', []);
    const run = await writeTrainingRun(join(dir, 'single'), { epochs: 1, confusion: false });
    const { report, file } = await writeReport('empty', { paths: [run], study: { storage, name: 'empty', url: 'memory' } });
    assert.equal(report.sections.flatMap((s) => s.charts).length, 0);

    const { page, context, problems, offline } = await open(file);
    try {
      assert.equal(await page.getAttribute('body', 'data-ready'), '1');
      assert.equal(await page.locator('.chart').count(), 0);
      for (const text of ['has no trials yet', 'No run has two epochs']) {
        const note = page.locator('p.note', { hasText: text });
        assert.equal(await note.count(), 1, `no note saying '${text}'`);
        assert.ok(await note.isVisible(), `the note '${text}' is not visible`);
      }
      assert.deepEqual(problems, []);
      assert.deepEqual(offline, []);
    } finally {
      await context.close();
    }
  });
});
