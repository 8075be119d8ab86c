import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { CIFAR10 } from './cifar10-format.js';
import { downloadVerified } from './download.js';

/** The official CIFAR-10 binary archive. */
export const CIFAR10_ARCHIVE = {
  url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  fileName: 'cifar-10-binary.tar.gz',
  bytes: 170_052_171,
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
} as const;

/** `$XDG_CACHE_HOME/dlopt`, else `~/.cache/dlopt`. */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(env.HOME || homedir(), '.cache'), 'dlopt');
}

export interface LocateOptions {
  /** --data, which wins over everything else. */
  data?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Download CIFAR-10 into the cache when no data is found (default true). */
  download?: boolean;
  onDownloadStart?: (url: string, dest: string) => void;
  onDownloadProgress?: (received: number, total: number | undefined) => void;
}

/**
 * Finds the dataset to use: --data, then DLOPT_DATA, then CIFAR-10 in the cache
 * directory, downloading it there if absent. Returns a path that exists.
 */
export async function locateData(options: LocateOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const given = options.data ?? (env.DLOPT_DATA || undefined);
  if (given !== undefined) {
    const from = options.data !== undefined ? '--data' : 'DLOPT_DATA';
    if (!(await exists(given))) throw new DataError(`${from} ${given}: no such file or directory`);
    return given;
  }
  const cache = cacheDirectory(env);
  for (const candidate of [join(cache, CIFAR10.directory), join(cache, CIFAR10_ARCHIVE.fileName)]) {
    if (await exists(candidate)) return candidate;
  }
  const dest = join(cache, CIFAR10_ARCHIVE.fileName);
  const howTo =
    `To use a copy you already have, pass it with --data PATH (a ${CIFAR10_ARCHIVE.fileName} archive, ` +
    `a folder holding ${CIFAR10.directory}/, or an image folder), set DLOPT_DATA=PATH, ` +
    `or place the archive at ${dest} (${CIFAR10_ARCHIVE.bytes} bytes, MD5 ${CIFAR10_ARCHIVE.md5}).`;
  if (options.download === false) throw new DataError(`no dataset found. ${howTo}`);
  const url = env.DLOPT_CIFAR10_URL || CIFAR10_ARCHIVE.url;
  options.onDownloadStart?.(url, dest);
  await downloadVerified({
    url,
    dest,
    md5: CIFAR10_ARCHIVE.md5,
    bytes: CIFAR10_ARCHIVE.bytes,
    offlineHint: howTo,
    ...(options.onDownloadProgress && { onProgress: options.onDownloadProgress }),
  });
  return dest;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
