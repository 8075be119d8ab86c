import { readdir, stat } from 'node:fs/promises';
import { DataError, describeError } from '../errors.js';
import { CIFAR10 } from './cifar10-format.js';
import { loadCifar10, type Cifar10LoadOptions } from './cifar10.js';
import type { Dataset } from './dataset.js';
import { loadImageFolder } from './image-folder.js';

export interface LoadDatasetOptions {
  /** Which CIFAR-10 splits to read (ignored for image folders). */
  cifar?: Cifar10LoadOptions;
  /** Side length image-folder images are resized to. */
  imageSize?: number;
}

/**
 * Opens a dataset whatever its form: a CIFAR-10 archive, a CIFAR-10 binary
 * folder, or an image folder (ROOT/<class>/*.jpg|png).
 */
export async function loadDataset(path: string, options: LoadDatasetOptions = {}): Promise<Dataset> {
  const info = await stat(path).catch((error: unknown) => {
    throw new DataError(`cannot read dataset ${path}: ${describeError(error)}`, { cause: error });
  });
  if (!info.isDirectory()) return loadCifar10(path, options.cifar);
  if (await looksLikeCifar(path)) return loadCifar10(path, options.cifar);
  return loadImageFolder(path, options.imageSize === undefined ? {} : { imageSize: options.imageSize });
}

async function looksLikeCifar(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const markers: string[] = [CIFAR10.directory, CIFAR10.metaFile, CIFAR10.testFile, ...CIFAR10.trainFiles];
  return names.some((n) => markers.includes(n));
}
