import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import { DataError, describeError } from '../errors.js';
import { formatInt } from '../util/format.js';
import type { Dataset } from './dataset.js';
import type { ImageSet } from './image-set.js';

/** File extensions read as images (case-insensitive); other files are ignored, as torchvision's ImageFolder does. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp'] as const;

export interface ImageFolderOptions {
  /** Images are resized (centre-cropped to square) to side × side pixels. Default 32. */
  imageSize?: number;
  /** Read the test/ folder when the root has train/ and test/ (default true). */
  test?: boolean;
}

/**
 * Reads an image-folder dataset: ROOT/<class>/*.jpg|png, class indices from the
 * sorted folder names. If ROOT holds train/ (and optionally test/) folders in
 * that shape, they become the splits.
 */
export async function loadImageFolder(root: string, options: ImageFolderOptions = {}): Promise<Dataset> {
  const side = options.imageSize ?? 32;
  if (!Number.isInteger(side) || side < 1 || side > 4096) throw new DataError(`image size must be 1–4096, got ${side}`);
  const top = await listDirectory(root);
  const splitDirs = top.dirs.includes('train');
  const trainRoot = splitDirs ? join(root, 'train') : root;
  const trainFiles = await listClasses(trainRoot);
  const classNames = [...trainFiles.keys()];
  const train = await decodeAll(trainFiles, classNames, side);

  let test: ImageSet | undefined;
  if (splitDirs && top.dirs.includes('test') && options.test !== false) {
    const testFiles = await listClasses(join(root, 'test'));
    const unknown = [...testFiles.keys()].filter((c) => !classNames.includes(c));
    if (unknown.length > 0) {
      throw new DataError(`${join(root, 'test')} has classes that train/ does not: ${unknown.join(', ')}`);
    }
    test = await decodeAll(testFiles, classNames, side);
  }
  return {
    format: 'image-folder',
    source: root,
    classNames,
    train,
    trainInfo: { description: `${trainRoot} (${formatInt(train.count)} images)` },
    ...(test && { test, testInfo: { description: `${join(root, 'test')} (${formatInt(test.count)} images)` } }),
    orderedByClass: true,
  };
}

async function listDirectory(dir: string): Promise<{ dirs: string[]; files: string[] }> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new DataError(`cannot read image folder ${dir}: ${describeError(error)}`, { cause: error });
  }
  const visible = entries.filter((e) => !e.name.startsWith('.'));
  const dirs: string[] = [];
  const files: string[] = [];
  for (const e of visible) {
    // Follow symlinks: datasets are often assembled from links. A dangling link counts as a file (so an
    // image one fails to decode, naming it, as torchvision's ImageFolder does) instead of a raw ENOENT.
    const isDir =
      e.isDirectory() ||
      (e.isSymbolicLink() && (await stat(join(dir, e.name)).then((s) => s.isDirectory(), () => false)));
    (isDir ? dirs : files).push(e.name);
  }
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return { dirs: dirs.sort(byName), files: files.sort(byName) };
}

/** Class name → image paths, classes in sorted order. */
async function listClasses(dir: string): Promise<Map<string, string[]>> {
  const { dirs } = await listDirectory(dir);
  if (dirs.length === 0) {
    throw new DataError(`${dir} has no class folders (expected ${dir}/<class>/*.jpg|png)`);
  }
  if (dirs.length > 256) throw new DataError(`${dir} has ${dirs.length} class folders; at most 256 are supported`);
  const classes = new Map<string, string[]>();
  for (const name of dirs) {
    const { files } = await listDirectory(join(dir, name));
    const images = files.filter((f) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase()));
    if (images.length === 0) {
      throw new DataError(`class folder ${join(dir, name)} has no images (${IMAGE_EXTENSIONS.join(', ')})`);
    }
    classes.set(name, images.map((f) => join(dir, name, f)));
  }
  return classes;
}

async function decodeAll(files: Map<string, string[]>, classNames: readonly string[], side: number): Promise<ImageSet> {
  const jobs: { path: string; label: number }[] = [];
  for (const [name, paths] of files) {
    const label = classNames.indexOf(name);
    for (const path of paths) jobs.push({ path, label });
  }
  const size = side * side * 3;
  const images = new Uint8Array(jobs.length * size);
  const labels = new Uint8Array(jobs.length);
  // sharp decodes on libuv's thread pool; a few requests in flight keep it busy.
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const job = jobs[i]!;
      try {
        images.set(await decodeImage(job.path, side), i * size);
      } catch (error) {
        next = jobs.length; // the others stop at their next image
        throw error;
      }
      labels[i] = job.label;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { images, labels, count: jobs.length, height: side, width: side, channels: 3 };
}

/** One image as side × side × 3 RGB bytes: EXIF orientation applied, alpha dropped, grey expanded. */
export async function decodeImage(path: string, side: number): Promise<Uint8Array> {
  try {
    const { data, info } = await sharp(path)
      .rotate()
      .resize(side, side, { fit: 'cover' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== side * side * 3) {
      throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${side}×${side}×3`);
    }
    return data;
  } catch (error) {
    throw new DataError(`cannot decode image ${path}: ${describeError(error)}`, { cause: error });
  }
}
