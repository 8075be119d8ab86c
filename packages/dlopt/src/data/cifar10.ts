import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DataError, describeError } from '../errors.js';
import { formatInt } from '../util/format.js';
import { CIFAR10, decodeCifarBatch, parseCifarMeta } from './cifar10-format.js';
import type { Dataset } from './dataset.js';
import { concatImageSets, type ImageSet } from './image-set.js';
import { readTarMembers } from './tar-members.js';

/** 'required': fail without the split; 'optional': read it when present; 'skip': never read it. */
export type SplitMode = 'required' | 'optional' | 'skip';

export interface Cifar10LoadOptions {
  /** The five training batches (default 'required'). */
  train?: SplitMode;
  /** test_batch.bin (default 'optional'). */
  test?: SplitMode;
}

/**
 * Loads CIFAR-10 in the official binary layout from a directory (the
 * `cifar-10-batches-bin` folder or one that contains it) or straight from a
 * .tar.gz archive, streamed.
 */
export async function loadCifar10(path: string, options: Cifar10LoadOptions = {}): Promise<Dataset> {
  const trainMode = options.train ?? 'required';
  const testMode = options.test ?? 'optional';
  const info = await stat(path).catch((error: unknown) => {
    throw new DataError(`cannot read CIFAR-10 data at ${path}: ${describeError(error)}`, { cause: error });
  });
  const files = info.isDirectory()
    ? await readFromDirectory(path, trainMode, testMode)
    : await readFromArchive(path, trainMode, testMode);

  const metaBytes = files.get(CIFAR10.metaFile);
  if (!metaBytes) throw missing(path, [CIFAR10.metaFile], files.found);
  const classNames = parseCifarMeta(CIFAR10.metaFile, metaBytes.toString('utf8'));

  let train: ImageSet | undefined;
  const absent = CIFAR10.trainFiles.filter((f) => !files.has(f));
  if (trainMode === 'required' && absent.length > 0) throw missing(path, absent, files.found);
  // A partial set of training batches is an error even when training data is optional.
  if (trainMode !== 'skip' && absent.length > 0 && absent.length < CIFAR10.trainFiles.length) {
    throw missing(path, absent, files.found);
  }
  if (trainMode !== 'skip' && absent.length === 0) {
    train = concatImageSets(CIFAR10.trainFiles.map((f) => decodeCifarBatch(f, files.get(f)!)));
  }
  let test: ImageSet | undefined;
  const testBytes = files.get(CIFAR10.testFile);
  if (testMode === 'required' && !testBytes) {
    throw missing(path, [CIFAR10.testFile], files.found, ' (the test split was asked for)');
  }
  if (testMode !== 'skip' && testBytes) test = decodeCifarBatch(CIFAR10.testFile, testBytes);

  return {
    format: 'cifar10',
    source: path,
    classNames,
    ...(train && {
      train,
      trainInfo: { description: `${CIFAR10.trainFiles.length} training batches (${formatInt(train.count)} images)` },
    }),
    ...(test && { test, testInfo: { description: `${CIFAR10.testFile} (${formatInt(test.count)} images)` } }),
    orderedByClass: false,
  };
}

/** Member files by their CIFAR file name, plus what was found (for error messages). */
class FileSet extends Map<string, Buffer> {
  constructor(readonly found: string[]) {
    super();
  }
}

function wantedNames(trainMode: SplitMode, testMode: SplitMode): string[] {
  return [
    CIFAR10.metaFile,
    ...(trainMode === 'skip' ? [] : CIFAR10.trainFiles),
    ...(testMode === 'skip' ? [] : [CIFAR10.testFile]),
  ];
}

async function readFromDirectory(path: string, trainMode: SplitMode, testMode: SplitMode): Promise<FileSet> {
  // Accept the batches folder itself or a folder that contains it.
  let dir = path;
  if (basename(path) !== CIFAR10.directory) {
    const inner = join(path, CIFAR10.directory);
    const isDir = await stat(inner).then((s) => s.isDirectory(), () => false);
    if (isDir) dir = inner;
  }
  const files = new FileSet([]);
  for (const name of wantedNames(trainMode, testMode)) {
    try {
      files.set(name, await readFile(join(dir, name)));
      files.found.push(name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new DataError(`cannot read ${join(dir, name)}: ${describeError(error)}`, { cause: error });
      }
    }
  }
  if (files.size === 0) {
    throw new DataError(
      `${path} does not look like CIFAR-10 data: no ${CIFAR10.metaFile} or *.bin batch files in it` +
        (dir === path && basename(path) !== CIFAR10.directory ? ` or in ${join(path, CIFAR10.directory)}` : ''),
    );
  }
  return files;
}

async function readFromArchive(path: string, trainMode: SplitMode, testMode: SplitMode): Promise<FileSet> {
  const wanted = new Set(wantedNames(trainMode, testMode));
  const nameOf = (member: string): string | undefined => {
    const parts = member.split('/').filter((p) => p.length > 0);
    const file = parts.at(-1);
    const parent = parts.at(-2);
    if (!file || !wanted.has(file)) return undefined;
    return parts.length === 1 || parent === CIFAR10.directory ? file : undefined;
  };
  // An optional member may be absent, which is only known at the end of the archive.
  const expect = testMode === 'optional' || trainMode === 'optional' ? Infinity : wanted.size;
  // Keep the first member of each name, so a repeated name cannot count twice towards `expect`.
  const taken = new Set<string>();
  const want = (member: string): boolean => {
    const name = nameOf(member);
    if (name === undefined || taken.has(name)) return false;
    taken.add(name);
    return true;
  };
  const { members, seen } = await readTarMembers(path, want, expect);
  const files = new FileSet(seen);
  for (const [member, bytes] of members) files.set(nameOf(member)!, bytes);
  if (files.size === 0) {
    throw new DataError(
      `archive ${path} has none of the CIFAR-10 binary files (${CIFAR10.directory}/${CIFAR10.metaFile}, ` +
        `data_batch_*.bin, ${CIFAR10.testFile})${foundList(seen)}`,
    );
  }
  return files;
}

function missing(path: string, names: readonly string[], found: string[], why = ''): DataError {
  return new DataError(`CIFAR-10 data at ${path} is missing ${names.join(', ')}${why}${foundList(found)}`);
}

function foundList(found: string[]): string {
  if (found.length === 0) return '; it contains no files';
  const shown = found.slice(0, 8).join(', ');
  return `; found: ${shown}${found.length > 8 ? `, … (${found.length} files)` : ''}`;
}
