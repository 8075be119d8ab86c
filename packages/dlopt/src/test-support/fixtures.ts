import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import * as tarStream from 'tar-stream';
import { CIFAR10, encodeCifarBatch } from '../data/cifar10-format.js';
import type { ImageSet } from '../data/image-set.js';
import { Random } from '../util/random.js';

export const CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'dlopt-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Random 32×32 RGB images whose class is learnable: each class has its own
 * mean colour, plus noise, so a small model can beat chance within an epoch.
 */
export function syntheticImages(count: number, seed: number, side = 32, classes = 10): ImageSet {
  const rng = new Random(seed);
  const images = new Uint8Array(count * side * side * 3);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % classes;
    labels[i] = label;
    const base = [(label * 73) % 256, (label * 151 + 40) % 256, (label * 37 + 90) % 256];
    for (let p = 0; p < side * side; p++) {
      for (let c = 0; c < 3; c++) {
        const v = base[c]! + (rng.next() - 0.5) * 60;
        images[(i * side * side + p) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return { images, labels, count, height: side, width: side, channels: 3 };
}

export interface CifarFixture {
  /** File name → bytes, as they appear inside cifar-10-batches-bin/. */
  files: Map<string, Buffer>;
  train: ImageSet[];
  test?: ImageSet;
}

/** Builds the files of a small CIFAR-10 dataset: `perBatch` images in each of the 5 training batches. */
export function cifarFixture(perBatch: number, testCount: number | null, seed = 1): CifarFixture {
  const files = new Map<string, Buffer>();
  files.set(CIFAR10.metaFile, Buffer.from(CLASS_NAMES.join('\n') + '\n\n'));
  const train = CIFAR10.trainFiles.map((name, b) => {
    const set = syntheticImages(perBatch, seed * 100 + b);
    files.set(name, encodeCifarBatch(set));
    return set;
  });
  let test: ImageSet | undefined;
  if (testCount !== null) {
    test = syntheticImages(testCount, seed * 100 + 99);
    files.set(CIFAR10.testFile, encodeCifarBatch(test));
  }
  return test ? { files, train, test } : { files, train };
}

export async function writeCifarDirectory(root: string, files: Map<string, Buffer>): Promise<string> {
  const dir = join(root, CIFAR10.directory);
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
  return dir;
}

/** Writes files into a .tar.gz (or plain .tar) under cifar-10-batches-bin/, like the official archive. */
export async function writeTarGz(
  path: string,
  files: Map<string, Buffer>,
  options: { gzip?: boolean; prefix?: string } = {},
): Promise<string> {
  const pack = tarStream.pack();
  const prefix = options.prefix ?? `${CIFAR10.directory}/`;
  if (prefix) pack.entry({ name: prefix, type: 'directory' });
  for (const [name, bytes] of files) pack.entry({ name: prefix + name }, bytes);
  pack.finalize();
  const out = createWriteStream(path);
  if (options.gzip === false) await pipeline(pack, out);
  else await pipeline(pack, createGzip(), out);
  return path;
}
