import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DloptError, describeError } from '../errors.js';

export interface DownloadRequest {
  url: string;
  /** Final path; written only after the checksum matches. */
  dest: string;
  /** Expected MD5, hex. */
  md5: string;
  /** Expected size in bytes, if known (used for progress when the server sends no length). */
  bytes?: number;
  onProgress?: (received: number, total: number | undefined) => void;
  /** How to get the file by hand; appended to network errors. */
  offlineHint?: string;
}

/** Network failure, as opposed to a bad download. */
export class DownloadError extends DloptError {
  override readonly name = 'DownloadError';
}

/**
 * Downloads to a temporary file beside `dest` and renames it into place only
 * after the MD5 matches, so an interrupted or corrupt download never looks
 * like a good file. Concurrent downloads of the same file are harmless: each
 * writes its own temporary file and the rename is atomic.
 */
export async function downloadVerified(request: DownloadRequest): Promise<void> {
  const { url, dest, md5 } = request;
  const part = `${dest}.${process.pid}.part`;
  const hint = request.offlineHint ? `\n${request.offlineHint}` : '';
  await mkdir(dirname(dest), { recursive: true });

  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause ?? error;
    throw new DownloadError(
      `cannot download ${url}: ${describeError(cause)} — this machine looks offline or cannot reach the host.${hint}`,
      { cause: error },
    );
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new DownloadError(`cannot download ${url}: HTTP ${response.status} ${response.statusText}${hint}`);
  }
  const header = Number(response.headers.get('content-length'));
  const total = Number.isFinite(header) && header > 0 ? header : request.bytes;

  const hash = createHash('md5');
  let received = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      received += chunk.length;
      request.onProgress?.(received, total);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), meter, createWriteStream(part));
  } catch (error) {
    await rm(part, { force: true });
    throw new DownloadError(`download of ${url} failed after ${received} bytes: ${describeError(error)}${hint}`, {
      cause: error,
    });
  }
  const digest = hash.digest('hex');
  if (digest !== md5.toLowerCase()) {
    await rm(part, { force: true });
    throw new DownloadError(
      `download of ${url} is corrupt: MD5 ${digest} (${received} bytes), expected ${md5}` +
        (request.bytes !== undefined ? ` (${request.bytes} bytes)` : '') +
        `; nothing was kept${hint}`,
    );
  }
  await rename(part, dest);
}
