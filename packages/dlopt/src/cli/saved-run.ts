import type * as tfl from '@tensorflow/tfjs-layers';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DloptError, describeError } from '../errors.js';
import type { RunConfigFile } from '../runner/run-record.js';
import { RUN_FILES } from '../train/run-dir.js';

/** Settings of the run that produced a model, when it was saved in a run directory (empty for a bare model.json). */
export async function readRunConfig(modelJson: string): Promise<Partial<RunConfigFile>> {
  const path = join(dirname(modelJson), RUN_FILES.config);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return {};
  }
  try {
    return JSON.parse(text) as Partial<RunConfigFile>;
  } catch (error) {
    throw new DloptError(`${path} is not valid JSON: ${describeError(error)}`, { cause: error });
  }
}

/** Refuses data the model cannot take: another image shape or another number of classes. */
export function checkModelFitsData(
  model: tfl.LayersModel,
  file: string,
  images: { height: number; width: number; channels: number },
  classes: number,
): void {
  const expected = model.inputs[0]?.shape.slice(1);
  const actual = [images.height, images.width, images.channels];
  if (!expected || expected.some((d, i) => d !== null && d !== actual[i])) {
    throw new DloptError(`model ${file} expects images of shape ${JSON.stringify(expected)}, but the data has ${JSON.stringify(actual)}`);
  }
  const modelClasses = model.outputs[0]?.shape.at(-1);
  if (modelClasses !== classes) throw new DloptError(`model ${file} predicts ${modelClasses} classes, but the data has ${classes}`);
}
