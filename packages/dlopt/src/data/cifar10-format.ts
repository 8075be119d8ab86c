import { DataError } from '../errors.js';
import type { ImageSet } from './image-set.js';

/**
 * The official CIFAR-10 *binary* layout: `cifar-10-batches-bin/` holding
 * data_batch_1..5.bin (training), test_batch.bin and batches.meta.txt.
 * A record is one label byte then 3,072 pixel bytes: the R, G and B planes of
 * a 32×32 image, each row-major.
 */
export const CIFAR10 = {
  directory: 'cifar-10-batches-bin',
  trainFiles: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  testFile: 'test_batch.bin',
  metaFile: 'batches.meta.txt',
  side: 32,
  channels: 3,
  recordBytes: 3073,
  classes: 10,
} as const;

const PLANE = CIFAR10.side * CIFAR10.side;

/**
 * Decodes one batch file's bytes into an NHWC uint8 image set, checking that
 * the file holds whole records and every label is a class index.
 */
export function decodeCifarBatch(fileName: string, bytes: Uint8Array): ImageSet {
  const { recordBytes } = CIFAR10;
  if (bytes.length === 0) throw new DataError(`${fileName} is empty`);
  if (bytes.length % recordBytes !== 0) {
    const whole = Math.floor(bytes.length / recordBytes);
    throw new DataError(
      `${fileName} is truncated: record ${whole + 1} has ${bytes.length % recordBytes} of ${recordBytes} bytes ` +
        `(file size ${bytes.length} is not a multiple of ${recordBytes})`,
    );
  }
  const count = bytes.length / recordBytes;
  const images = new Uint8Array(count * PLANE * 3);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const at = r * recordBytes;
    const label = bytes[at]!;
    if (label >= CIFAR10.classes) {
      throw new DataError(`${fileName} record ${r + 1}: label byte is ${label}, but CIFAR-10 labels are 0–9`);
    }
    labels[r] = label;
    // Planar RGB → interleaved NHWC.
    const src = at + 1;
    const dst = r * PLANE * 3;
    for (let p = 0; p < PLANE; p++) {
      images[dst + 3 * p] = bytes[src + p]!;
      images[dst + 3 * p + 1] = bytes[src + PLANE + p]!;
      images[dst + 3 * p + 2] = bytes[src + 2 * PLANE + p]!;
    }
  }
  return { images, labels, count, height: CIFAR10.side, width: CIFAR10.side, channels: CIFAR10.channels };
}

/** Class names from batches.meta.txt: one per line, blank lines ignored. */
export function parseCifarMeta(fileName: string, text: string): string[] {
  const names = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (names.length !== CIFAR10.classes) {
    throw new DataError(`${fileName} lists ${names.length} class names; CIFAR-10 needs ${CIFAR10.classes}`);
  }
  return names;
}

/** Encodes images back into records (for tests and tools that write CIFAR-format files). */
export function encodeCifarBatch(set: ImageSet): Buffer {
  if (set.height !== CIFAR10.side || set.width !== CIFAR10.side || set.channels !== 3) {
    throw new Error('CIFAR-10 records hold 32×32 RGB images');
  }
  const out = Buffer.alloc(set.count * CIFAR10.recordBytes);
  for (let r = 0; r < set.count; r++) {
    const at = r * CIFAR10.recordBytes;
    out[at] = set.labels[r]!;
    const src = r * PLANE * 3;
    for (let p = 0; p < PLANE; p++) {
      out[at + 1 + p] = set.images[src + 3 * p]!;
      out[at + 1 + PLANE + p] = set.images[src + 3 * p + 1]!;
      out[at + 1 + 2 * PLANE + p] = set.images[src + 3 * p + 2]!;
    }
  }
  return out;
}
