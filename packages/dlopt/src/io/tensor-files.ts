import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { DloptError, describeError } from '../errors.js';
import { writeAtomic } from './model-files.js';

export interface TensorSpec {
  name?: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

/**
 * Writes tensors as one binary file (their values back to back, little-endian
 * float32/int32) and returns the specs needed to read them back.
 */
export async function writeTensors(path: string, tensors: { name?: string; tensor: tf.Tensor }[]): Promise<TensorSpec[]> {
  const specs: TensorSpec[] = [];
  const parts: Uint8Array[] = [];
  for (const { name, tensor } of tensors) {
    const dtype = tensor.dtype === 'int32' ? 'int32' : 'float32';
    const values = dtype === 'int32' ? Int32Array.from(tensor.dataSync() as Int32Array) : Float32Array.from(tensor.dataSync());
    parts.push(new Uint8Array(values.buffer));
    specs.push({ ...(name !== undefined && { name }), shape: [...tensor.shape], dtype });
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  await writeAtomic(path, bytes);
  return specs;
}

/** Reads tensors written by writeTensors; checks the file holds exactly what the specs describe. */
export async function readTensors(path: string, specs: TensorSpec[]): Promise<tf.Tensor[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new DloptError(`cannot read ${path}: ${describeError(error)}`, { cause: error });
  }
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (bytes.length !== expected) throw new DloptError(`${path} has ${bytes.length} bytes but should have ${expected} (truncated or mismatched)`);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const out: tf.Tensor[] = [];
  let at = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const values = s.dtype === 'int32' ? new Int32Array(buffer, at, n) : new Float32Array(buffer, at, n);
    out.push(tf.tensor(values.slice(), s.shape, s.dtype));
    at += n * 4;
  }
  return out;
}
