import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { DataError, describeError } from '../errors.js';

/**
 * Reads chosen regular-file members of a .tar or .tar.gz into memory, streaming:
 * nothing is extracted to disk, and no path from the archive is ever used as a
 * file system path. Stops reading once every wanted member has been seen.
 *
 * @param want   decides, from a member's path, whether to keep it
 * @param expect how many members are wanted at most (lets reading stop early)
 * @returns the kept members by path, and every regular-file path seen (for error messages)
 */
export async function readTarMembers(
  archivePath: string,
  want: (path: string) => boolean,
  expect = Infinity,
): Promise<{ members: Map<string, Buffer>; seen: string[] }> {
  const gzipped = await isGzip(archivePath);
  const members = new Map<string, Buffer>();
  const seen: string[] = [];
  const extract = tarStream.extract();
  let done = false;

  const consume = (async () => {
    for await (const entry of extract) {
      const { name, type } = entry.header;
      if (type === 'file' || type === 'contiguous-file') {
        const path = name.replace(/^\.\//, '');
        seen.push(path);
        if (want(path)) {
          const chunks: Buffer[] = [];
          for await (const chunk of entry) chunks.push(chunk as Buffer);
          members.set(path, Buffer.concat(chunks));
          if (members.size >= expect) {
            done = true;
            return;
          }
          continue;
        }
      }
      entry.resume();
    }
  })();

  const source = createReadStream(archivePath);
  const sink = extract as unknown as Writable;
  try {
    await Promise.all([
      (gzipped ? pipeline(source, createGunzip(), sink) : pipeline(source, sink)).catch((error: unknown) => {
        if (!done) throw error;
      }),
      consume.then(() => {
        if (done) source.destroy();
      }),
    ]);
  } catch (error) {
    if (done) return { members, seen };
    throw new DataError(`cannot read archive ${archivePath}: ${explainArchiveError(error, gzipped)}`, { cause: error });
  }
  return { members, seen };
}

async function isGzip(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new DataError(`cannot open ${path}: ${describeError(error)}`, { cause: error });
  }
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

function explainArchiveError(error: unknown, gzipped: boolean): string {
  const message = describeError(error);
  if (/unexpected end of file/i.test(message)) return 'the file is truncated (gzip stream ends early)';
  // zlib reports every kind of bad deflate data (and a wrong CRC or length) as Z_DATA_ERROR.
  if (/incorrect header check|invalid (block|distance|code)|Z_DATA_ERROR/i.test(message)) {
    return `corrupt gzip data (${message})`;
  }
  if (/unexpected end of data/i.test(message)) {
    return `the tar data ends early: the file is truncated or is not a tar${gzipped ? '' : ' or tar.gz'} archive (${message})`;
  }
  if (/invalid tar header|size mismatch/i.test(message)) {
    return gzipped ? `the gzip data is not a valid tar archive (${message})` : `not a tar or tar.gz archive (${message})`;
  }
  return message;
}
