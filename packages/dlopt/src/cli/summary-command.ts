import { Command } from '@commander-js/extra-typings';
import { initBackend } from '../backend/backend.js';
import { loadModel } from '../io/model-files.js';
import { PRESETS, findPreset } from '../models/presets.js';
import { formatSummary, summarizeModel } from '../models/summary.js';
import { out } from './console.js';
import { imageShape, positiveInt } from './options.js';

export function summaryCommand() {
  return new Command('summary')
    .description('show a model\'s layers, output shapes, parameters and FLOPs')
    .option('--model <name|path>', `a preset (${PRESETS.map((p) => p.name).join(', ')}), a run directory or a model.json`, 'seed-cnn')
    .option('--input-shape <h,w,c>', 'input image shape for a preset', imageShape, [32, 32, 3] as [number, number, number])
    .option('--classes <n>', 'number of classes for a preset', positiveInt, 10)
    .option('--json', 'print the summary as JSON')
    .action(async (opts) => {
      await initBackend();
      const isPreset = PRESETS.some((p) => p.name === opts.model);
      const model = isPreset
        ? findPreset(opts.model).build({ inputShape: opts.inputShape, numClasses: opts.classes, seed: 0 })
        : (await loadModel(opts.model)).model;
      const summary = summarizeModel(model);
      out.result(opts.json ? JSON.stringify(summary, null, 2) : formatSummary(isPreset ? opts.model : model.name, summary));
    });
}
