import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DloptError, describeError } from '../errors.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/**
 * Saves a layers model as TensorFlow.js's own format (model.json + one weights
 * file), which `tf.loadLayersModel(url)` reads in a browser. tfjs has no file
 * system handler without tfjs-node, hence this one. model.json is written last
 * and renamed into place, so a crash never leaves a model that looks complete.
 */
export async function saveModel(
  model: tfl.LayersModel,
  dir: string,
  metadata?: { [key: string]: {} },
): Promise<{ modelJson: string; weightBytes: number }> {
  let weightBytes = 0;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
      weightBytes = weights.byteLength;
      // The model's own metadata (e.g. from the model.json it was loaded from) unless replaced.
      const userDefinedMetadata = metadata ?? artifacts.userDefinedMetadata;
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
        convertedBy: null,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        ...(userDefinedMetadata && { userDefinedMetadata }),
      };
      await mkdir(dir, { recursive: true });
      await writeAtomic(join(dir, WEIGHTS_BIN), new Uint8Array(weights));
      await writeAtomic(join(dir, MODEL_JSON), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(json) };
    }),
  );
  return { modelJson: join(dir, MODEL_JSON), weightBytes };
}

/** Writes to a temporary name and renames, so readers never see half a file. */
export async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Finds model.json given a run directory or the file itself. */
export async function resolveModelJson(path: string): Promise<string> {
  const info = await stat(path).catch((error: unknown) => {
    throw new DloptError(`cannot read model ${path}: ${describeError(error)}`, { cause: error });
  });
  if (!info.isDirectory()) return path;
  const inner = join(path, MODEL_JSON);
  const found = await stat(inner).then(
    () => true,
    () => false,
  );
  if (!found) {
    throw new DloptError(`${path} has no ${MODEL_JSON} (is it a run directory of a run that finished?)`);
  }
  return inner;
}

/** model.json of a run directory or the file itself, parsed and checked to be a layers model with a weights manifest. */
export async function readModelJson(path: string): Promise<{ file: string; modelJson: tf.io.ModelJSON }> {
  const file = await resolveModelJson(path);
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(await readFile(file, 'utf8')) as tf.io.ModelJSON;
  } catch (error) {
    throw new DloptError(`${file} is not valid JSON: ${describeError(error)}`, { cause: error });
  }
  if (typeof modelJson !== 'object' || modelJson === null || !modelJson.modelTopology) {
    throw new DloptError(`${file} is not a TensorFlow.js layers model (no modelTopology)`);
  }
  if (!Array.isArray(modelJson.weightsManifest)) throw new DloptError(`${file} has no weightsManifest`);
  return { file, modelJson };
}

/** Loads a model saved by saveModel (or any tfjs layers model.json with its weight files beside it). */
export async function loadModel(path: string): Promise<{ model: tfl.LayersModel; modelJson: tf.io.ModelJSON; file: string }> {
  const { file, modelJson } = await readModelJson(path);
  const base = dirname(file);
  try {
    const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (groups) => {
      const specs = groups.flatMap((g) => g.weights);
      const parts: ArrayBuffer[] = [];
      for (const group of groups) {
        for (const p of group.paths) parts.push(await readWeightFile(file, base, p));
      }
      const data = tf.io.CompositeArrayBuffer.join(parts);
      const expected = expectedBytes(specs);
      if (expected !== undefined && expected !== data.byteLength) {
        throw new DloptError(
          `weights of ${file} are ${data.byteLength} bytes but its manifest describes ${expected} (truncated or mismatched weight file)`,
        );
      }
      return [specs, data];
    });
    const model = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    return { model, modelJson, file };
  } catch (error) {
    if (error instanceof DloptError) throw error;
    throw new DloptError(`cannot load model ${file}: ${describeError(error)}`, { cause: error });
  }
}

async function readWeightFile(file: string, base: string, relative: string): Promise<ArrayBuffer> {
  const rel = normalize(relative);
  if (isAbsolute(rel) || rel.startsWith(`..${sep}`) || rel === '..') {
    throw new DloptError(`${file} refers to weight file "${relative}" outside its directory`);
  }
  try {
    const bytes = await readFile(join(base, rel));
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  } catch (error) {
    throw new DloptError(`cannot read weight file ${join(base, rel)} listed in ${file}: ${describeError(error)}`, {
      cause: error,
    });
  }
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint8: 1, uint16: 2 };

function expectedBytes(specs: tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const s of specs) {
    const dtype = s.quantization?.dtype ?? s.dtype;
    const bytes = DTYPE_BYTES[dtype];
    if (bytes === undefined) return undefined;
    total += s.shape.reduce((a, b) => a * b, 1) * bytes;
  }
  return total;
}
