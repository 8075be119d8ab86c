import { Command } from '@commander-js/extra-typings';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DloptError, UsageError, describeError } from '../errors.js';
import { writeAtomic } from '../io/model-files.js';
import { buildReport, type ReportInputs } from '../report/build-report.js';
import { renderHtml } from '../report/html-page.js';
import { writeChartImages } from '../report/png-export.js';
import { vegaBundles } from '../report/vega-bundles.js';
import type { StudyStorage } from '../tune/storages/storage.js';
import { out, style } from './console.js';
import { openStudyStorage } from './study-command.js';

export function reportCommand() {
  return new Command('report')
    .description('write one self-contained HTML report (works offline) of training runs, pruning runs and a study')
    .argument('[paths...]', 'run directories of dlopt train or dlopt prune, or folders of them (such as runs/)')
    .option('--study <name>', 'a study to report (with --storage; may be left out when the storage holds one study)')
    .option('--storage <url>', 'storage the study is in: sqlite:PATH or postgresql://user@host/db')
    .option('--out <file>', 'HTML file to write', 'report.html')
    .option('--png <dir>', 'also write every chart as a PNG image into this directory')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  dlopt report runs/20261207-101500-seed-cnn\n' +
        '  dlopt report runs/ --out all-runs.html           # every run in runs/, overlaid\n' +
        '  dlopt report --storage sqlite:study.db --study cifar --png charts/',
    )
    .action(async (paths, opts) => {
      if (opts.study !== undefined && opts.storage === undefined) throw new UsageError('--study needs --storage (where the study is kept)');
      if (paths.length === 0 && opts.storage === undefined) {
        throw new UsageError('nothing to report: give run directories (dlopt report RUN_DIR…), or a study (--storage URL --study NAME)');
      }
      if (!opts.out.toLowerCase().endsWith('.html') && !opts.out.toLowerCase().endsWith('.htm')) {
        throw new UsageError(`--out ${opts.out}: the report is an HTML file; give a name ending in .html`);
      }
      let storage: StudyStorage | undefined;
      try {
        const inputs: ReportInputs = { paths };
        if (opts.storage !== undefined) {
          storage = await openStudyStorage(opts.storage, { purpose: 'show' });
          inputs.study = { storage, name: opts.study ?? (await onlyStudy(storage, opts.storage)), url: opts.storage };
        }
        const report = await buildReport(inputs);
        const html = renderHtml(report, await vegaBundles());
        const file = resolve(opts.out);
        try {
          await mkdir(dirname(file), { recursive: true });
        } catch (error) {
          throw new DloptError(`cannot create the directory of ${opts.out}: ${describeError(error)}`, { cause: error });
        }
        try {
          await writeAtomic(file, html);
        } catch (error) {
          throw new DloptError(`cannot write the report to ${opts.out}: ${describeError(error)}`, { cause: error });
        }
        const charts = report.sections.reduce((n, s) => n + s.charts.length, 0);
        const notes = report.sections.flatMap((s) => s.notes);
        out.result(style.bold(`Report: ${file}`) + ` (${charts} chart${charts === 1 ? '' : 's'}, ${(html.length / 1e6).toFixed(2)} MB, opens offline)`);
        for (const n of notes) out.info(`  note: ${n}`);
        if (opts.png !== undefined) {
          const images = await writeChartImages(report, opts.png);
          out.result(`Charts as PNG: ${images.length} file${images.length === 1 ? '' : 's'} in ${resolve(opts.png)}`);
        }
      } finally {
        await storage?.close();
      }
    });
}

/** The storage's one study; a storage with several needs --study (the message lists them). */
async function onlyStudy(storage: StudyStorage, url: string): Promise<string> {
  const studies = await storage.listStudies();
  if (studies.length === 1) return studies[0]!.name;
  if (studies.length === 0) throw new DloptError(`the storage ${url} holds no study yet`);
  throw new UsageError(`the storage ${url} holds ${studies.length} studies (${studies.map((s) => `'${s.name}'`).join(', ')}): choose one with --study`);
}
