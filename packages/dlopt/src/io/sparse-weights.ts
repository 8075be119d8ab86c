import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, gzip } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { DloptError, describeError } from '../errors.js';
import { readModelJson, saveModel, writeAtomic } from './model-files.js';

export const SPARSE_WEIGHTS_BIN = 'weights.sparse.bin';

/*
 * weights.sparse.bin, little-endian throughout:
 *
 *   "DLSW"  u16 version (1)  u16 flags (0)  u32 weight count  u32 dense byte length
 *   per weight, in manifest order:
 *     u8 encoding  u32 element count
 *     encoding 0 (dense):  the weight's bytes as in weights.bin
 *     encoding 1 (bitmap): u32 nonzero count, one bit per element (LSB first, 1 = stored),
 *                          then the stored 4-byte elements in order
 *   u32 CRC-32 of everything before it
 *
 * "Zero" means all 32 bits zero, so −0 and NaN payloads are stored as values
 * and decoding is bit-exact. Each weight takes whichever encoding is smaller:
 * a bitmap wins below about 97% density, so a dense model costs only the
 * header, 5 bytes per weight and the checksum more than weights.bin.
 */
const MAGIC = [0x44, 0x4c, 0x53, 0x57]; // "DLSW"
const VERSION = 1;
const HEADER_BYTES = 16;
const RECORD_BYTES = 5;
const DENSE = 0;
const BITMAP = 1;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint8: 1, uint16: 2 };

function elementBytes(spec: tf.io.WeightsManifestEntry): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes = DTYPE_BYTES[dtype];
  if (bytes === undefined) throw new DloptError(`weight ${spec.name} has dtype ${dtype}, which sparse weight files do not support`);
  return bytes;
}

const elementCount = (spec: tf.io.WeightsManifestEntry): number => spec.shape.reduce((a, b) => a * b, 1);

/** Encodes the weights of a manifest (the bytes of weights.bin) as a sparse file. */
export function encodeSparseWeights(specs: readonly tf.io.WeightsManifestEntry[], data: ArrayBuffer): Uint8Array {
  const sizes = specs.map((s) => elementCount(s) * elementBytes(s));
  const denseBytes = sizes.reduce((a, b) => a + b, 0);
  if (data.byteLength !== denseBytes) {
    throw new DloptError(`weight data has ${data.byteLength} bytes but the manifest describes ${denseBytes}`);
  }
  const chunks: Uint8Array[] = [];
  const header = new DataView(new ArrayBuffer(HEADER_BYTES));
  MAGIC.forEach((b, i) => header.setUint8(i, b));
  header.setUint16(4, VERSION, true);
  header.setUint16(6, 0, true);
  header.setUint32(8, specs.length, true);
  header.setUint32(12, denseBytes, true);
  chunks.push(new Uint8Array(header.buffer));
  let offset = 0;
  specs.forEach((spec, i) => {
    const bytes = new Uint8Array(data, offset, sizes[i]!);
    offset += sizes[i]!;
    const count = elementCount(spec);
    const record = new DataView(new ArrayBuffer(RECORD_BYTES));
    record.setUint32(1, count, true);
    chunks.push(new Uint8Array(record.buffer));
    if (elementBytes(spec) !== 4 || count === 0) {
      record.setUint8(0, DENSE);
      chunks.push(bytes);
      return;
    }
    // Word view for the zero test; copied only when an odd-sized weight before it breaks alignment.
    const words = bytes.byteOffset % 4 === 0 ? new Uint32Array(data, bytes.byteOffset, count) : new Uint32Array(bytes.slice().buffer);
    let nonzero = 0;
    for (let j = 0; j < count; j++) if (words[j] !== 0) nonzero++;
    const bitmapBytes = 4 + Math.ceil(count / 8) + 4 * nonzero;
    if (bitmapBytes >= bytes.length) {
      record.setUint8(0, DENSE);
      chunks.push(bytes);
      return;
    }
    record.setUint8(0, BITMAP);
    const out = new Uint8Array(bitmapBytes);
    new DataView(out.buffer).setUint32(0, nonzero, true);
    const bitmap = out.subarray(4, 4 + Math.ceil(count / 8));
    // Bytes copied as they are: no float conversion, no endianness question.
    let to = 4 + bitmap.length;
    for (let j = 0; j < count; j++) {
      if (words[j] !== 0) {
        bitmap[j >>> 3]! |= 1 << (j & 7);
        const from = 4 * j;
        out[to++] = bytes[from]!;
        out[to++] = bytes[from + 1]!;
        out[to++] = bytes[from + 2]!;
        out[to++] = bytes[from + 3]!;
      }
    }
    chunks.push(out);
  });
  const body = concat(chunks, 4);
  const end = body.length - 4;
  new DataView(body.buffer).setUint32(end, crc32(body.subarray(0, end)), true);
  return body;
}

/**
 * Decodes a sparse file back into the bytes of weights.bin (bit-exact).
 * `source` names the file in error messages.
 */
export function decodeSparseWeights(bytes: Uint8Array, specs: readonly tf.io.WeightsManifestEntry[], source = 'sparse weight file'): ArrayBuffer {
  const fail = (why: string): never => {
    throw new DloptError(`${source} is corrupt or does not belong to this model: ${why}`);
  };
  if (bytes.length < HEADER_BYTES + 4 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a dlopt sparse weight file (no DLSW header)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (version !== VERSION) fail(`format version ${version}, but this dlopt reads version ${VERSION}`);
  const end = bytes.length - 4;
  if (crc32(bytes.subarray(0, end)) !== view.getUint32(end, true)) fail('checksum mismatch (truncated or damaged)');
  const count = view.getUint32(8, true);
  if (count !== specs.length) fail(`it holds ${count} weights but model.json lists ${specs.length}`);
  const sizes = specs.map((s) => elementCount(s) * elementBytes(s));
  const denseBytes = sizes.reduce((a, b) => a + b, 0);
  if (view.getUint32(12, true) !== denseBytes) fail(`it decodes to ${view.getUint32(12, true)} bytes but model.json describes ${denseBytes}`);
  const out = new Uint8Array(denseBytes);
  let at = HEADER_BYTES;
  let written = 0;
  const need = (n: number, what: string): void => {
    if (at + n > end) fail(`it ends inside ${what}`);
  };
  specs.forEach((spec, i) => {
    need(RECORD_BYTES, `the record of ${spec.name}`);
    const encoding = view.getUint8(at);
    const elements = view.getUint32(at + 1, true);
    at += RECORD_BYTES;
    if (elements !== elementCount(spec)) fail(`${spec.name} has ${elements} elements but model.json says ${elementCount(spec)}`);
    if (encoding === DENSE) {
      need(sizes[i]!, spec.name);
      out.set(bytes.subarray(at, at + sizes[i]!), written);
      at += sizes[i]!;
    } else if (encoding === BITMAP && elementBytes(spec) === 4) {
      need(4, spec.name);
      const nonzero = view.getUint32(at, true);
      const bitmapLength = Math.ceil(elements / 8);
      need(4 + bitmapLength + 4 * nonzero, spec.name);
      const bitmap = bytes.subarray(at + 4, at + 4 + bitmapLength);
      let from = at + 4 + bitmapLength;
      const last = from + 4 * nonzero;
      for (let j = 0; j < elements; j++) {
        if ((bitmap[j >>> 3]! >>> (j & 7)) & 1) {
          if (from === last) fail(`${spec.name}'s bitmap marks more than its ${nonzero} stored values`);
          const to = written + 4 * j;
          out[to] = bytes[from]!;
          out[to + 1] = bytes[from + 1]!;
          out[to + 2] = bytes[from + 2]!;
          out[to + 3] = bytes[from + 3]!;
          from += 4;
        }
      }
      if (from !== last) fail(`${spec.name}'s bitmap marks ${(from - (last - 4 * nonzero)) / 4} values but ${nonzero} are stored`);
      at += 4 + bitmapLength + 4 * nonzero;
    } else {
      fail(`unknown encoding ${encoding} for ${spec.name}`);
    }
    written += sizes[i]!;
  });
  if (at !== end) fail(`${end - at} bytes left over after the last weight`);
  return out.buffer;
}

/** Sizes of a saved model's weights, for reporting what sparsity buys. */
export interface SparseModelSizes {
  /** weights.bin (float32, what tf.loadLayersModel reads). */
  denseBytes: number;
  /** weights.sparse.bin. */
  sparseBytes: number;
  /** weights.bin gzipped, as a web server with gzip would send it. */
  gzipDenseBytes: number;
  /** weights.sparse.bin gzipped. */
  gzipSparseBytes: number;
}

/**
 * Saves a model as saveModel does (model.json + dense weights.bin, which any
 * TensorFlow.js loader reads) plus weights.sparse.bin, the compact copy of the
 * same weights that loadSparseModel reads. The sparse file is written first,
 * so model.json still marks a complete save.
 */
export async function saveSparseModel(
  model: tfl.LayersModel,
  dir: string,
  metadata?: { [key: string]: {} },
): Promise<SparseModelSizes> {
  let specs: tf.io.WeightsManifestEntry[] = [];
  let data = new ArrayBuffer(0);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      specs = artifacts.weightSpecs ?? [];
      if (artifacts.weightData) data = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const sparse = encodeSparseWeights(specs, data);
  const dense = new Uint8Array(data);
  const sparsePath = join(dir, SPARSE_WEIGHTS_BIN);
  try {
    await mkdir(dir, { recursive: true });
    await writeAtomic(sparsePath, sparse);
  } catch (error) {
    throw new DloptError(`cannot write ${sparsePath}: ${describeError(error)}`, { cause: error });
  }
  await saveModel(model, dir, metadata);
  const gzipped = promisify(gzip);
  const [gzipDense, gzipSparse] = await Promise.all([gzipped(dense), gzipped(sparse)]);
  return { denseBytes: dense.length, sparseBytes: sparse.length, gzipDenseBytes: gzipDense.length, gzipSparseBytes: gzipSparse.length };
}

/**
 * Loads a model saved by saveSparseModel from model.json and
 * weights.sparse.bin alone (weights.bin need not be there). `path` is the
 * directory or its model.json.
 */
export async function loadSparseModel(path: string): Promise<tfl.LayersModel> {
  const { file, modelJson } = await readModelJson(path);
  const sparsePath = join(dirname(file), SPARSE_WEIGHTS_BIN);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(sparsePath);
  } catch (error) {
    throw new DloptError(`cannot read ${sparsePath}: ${describeError(error)}`, { cause: error });
  }
  const specs = modelJson.weightsManifest!.flatMap((g) => g.weights);
  const data = decodeSparseWeights(bytes, specs, sparsePath);
  try {
    const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async () => [specs, data]);
    return await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    throw new DloptError(`cannot load model ${file} with ${sparsePath}: ${describeError(error)}`, { cause: error });
  }
}

function concat(chunks: readonly Uint8Array[], extra: number): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0) + extra);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
