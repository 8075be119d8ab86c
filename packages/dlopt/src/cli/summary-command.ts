import { Command } from '@commander-js/extra-typings';
import { initBackend } from '../backend/backend.js';
import { loadModel } from '../io/model-files.js';
import { PRESETS, findPreset } from '../models/presets.js';
import { formatSummary, summarizeModel } from '../models/summary.js';
import { formatCompact, formatInt } from '../util/format.js';
import { out } from './console.js';
import { imageShape, positiveInt } from './options.js';

export function summaryCommand() {
  return new Command('summary')
    .description('show a model\'s layers, output shapes, parameters and FLOPs')
    .option('--model <name|path>', `a preset (${PRESETS.map((p) => p.name).join(', ')}), a run directory or a model.json`, 'seed-cnn')
    .option('--input-shape <h,w,c>', 'input image shape for a preset', imageShape, [32, 32, 3] as [number, number, number])
    .option('--classes <n>', 'number of classes for a preset', positiveInt, 10)
    .option('--json', 'print the summary as JSON')
    .option('--all', 'compare every preset: parameters and FLOPs per image, side by side')
    .action(async (opts) => {
      await initBackend();
      if (opts.all) {
        const rows = PRESETS.map((p) => {
          const s = summarizeModel(p.build({ inputShape: opts.inputShape, numClasses: opts.classes, seed: 0 }));
          return { model: p.name, params: s.params, flops: s.flops, flopsComplete: s.flopsComplete, description: p.description };
        });
        out.result(opts.json ? JSON.stringify(rows, null, 2) : formatPresetTable(rows));
        return;
      }
      const isPreset = PRESETS.some((p) => p.name === opts.model);
      const model = isPreset
        ? findPreset(opts.model).build({ inputShape: opts.inputShape, numClasses: opts.classes, seed: 0 })
        : (await loadModel(opts.model)).model;
      const summary = summarizeModel(model);
      out.result(opts.json ? JSON.stringify(summary, null, 2) : formatSummary(isPreset ? opts.model : model.name, summary));
    });
}

function formatPresetTable(rows: { model: string; params: number; flops: number; flopsComplete: boolean; description: string }[]): string {
  const cells = rows.map((r) => [r.model, formatInt(r.params), `${formatCompact(r.flops)}${r.flopsComplete ? '' : '+'}`, r.description]);
  const header = ['Model', 'Params', 'FLOPs/image', 'Description'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 1 || i === 2 ? v.padStart(widths[i]!) : i === 3 ? v : v.padEnd(widths[i]!))).join('   ');
  return [line(header), ...cells.map(line)].join('\n');
}
