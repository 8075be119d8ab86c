import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DloptError } from '../errors.js';
import { tempDir } from '../test-support/fixtures.js';
import { DownloadError, downloadVerified } from './download.js';

const BODY = Buffer.from(Array.from({ length: 1_000_000 }, (_, i) => (i * 131 + (i >> 9)) % 256));
const MD5 = createHash('md5').update(BODY).digest('hex');
const HINT = 'Copy the archive here by hand.';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Awaits a rejection that must be a DownloadError whose message matches every pattern. */
async function downloadError(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<string> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof DownloadError, `expected a DownloadError, got ${String(caught)}`);
  assert.ok(caught instanceof DloptError);
  for (const pattern of patterns) assert.match(caught.message, pattern);
  return caught.message;
}

describe('downloadVerified', () => {
  let server: Server;
  let base = '';
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let n = 0;
  /** A destination in a folder of its own (which does not exist yet). */
  const fresh = () => join(dir, `case${n++}`, 'file.tar.gz');
  const leftovers = async (dest: string) => {
    const folder = join(dest, '..');
    return (await exists(folder)) ? (await readdir(folder)).filter((f) => f.endsWith('.part')) : [];
  };

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    server = createServer((req, res) => {
      if (req.url === '/file') {
        res.writeHead(200, { 'content-length': BODY.length });
        res.end(BODY);
      } else if (req.url === '/chunked') {
        // No content-length: the total comes from the request's `bytes`.
        res.writeHead(200);
        res.write(BODY.subarray(0, 300_000));
        setTimeout(() => res.end(BODY.subarray(300_000)), 10);
      } else if (req.url === '/cut') {
        // Promises the whole body, sends a part, then drops the connection.
        res.writeHead(200, { 'content-length': BODY.length });
        res.write(BODY.subarray(0, 100_000), () => setTimeout(() => res.destroy(), 20));
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not here');
      }
    });
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await cleanup();
  });

  it('saves a download whose MD5 matches, creating the folder, with no .part file left', async () => {
    const dest = fresh();
    const calls: [number, number | undefined][] = [];
    await downloadVerified({
      url: `${base}/file`,
      dest,
      md5: MD5,
      onProgress: (received, total) => calls.push([received, total]),
    });
    assert.deepEqual(await readFile(dest), BODY);
    assert.deepEqual(await leftovers(dest), []);
    assert.deepEqual(await readdir(join(dest, '..')), ['file.tar.gz']);

    assert.ok(calls.length >= 2, `expected several progress calls, got ${calls.length}`);
    for (let i = 1; i < calls.length; i++) assert.ok(calls[i]![0] > calls[i - 1]![0], 'received only grows');
    assert.ok(calls.every(([, total]) => total === BODY.length), 'total is the content-length');
    assert.equal(calls.at(-1)![0], BODY.length);
  });

  it('accepts the MD5 in upper case', async () => {
    const dest = fresh();
    await downloadVerified({ url: `${base}/file`, dest, md5: MD5.toUpperCase() });
    assert.equal((await stat(dest)).size, BODY.length);
  });

  it('takes the total from `bytes` when the server sends no length', async () => {
    const dest = fresh();
    const totals = new Set<number | undefined>();
    let last = 0;
    await downloadVerified({
      url: `${base}/chunked`,
      dest,
      md5: MD5,
      bytes: 123_456_789,
      onProgress: (received, total) => {
        totals.add(total);
        last = received;
      },
    });
    assert.deepEqual([...totals], [123_456_789]);
    assert.equal(last, BODY.length);
    assert.deepEqual(await readFile(dest), BODY);
  });

  it('keeps nothing when the MD5 does not match', async () => {
    const dest = fresh();
    const wrong = '0123456789abcdef0123456789abcdef';
    const message = await downloadError(
      downloadVerified({ url: `${base}/file`, dest, md5: wrong, bytes: 42, offlineHint: HINT }),
      /is corrupt/,
      new RegExp(`MD5 ${MD5} \\(1000000 bytes\\), expected ${wrong} \\(42 bytes\\); nothing was kept`),
    );
    assert.ok(message.endsWith(`\n${HINT}`));
    assert.equal(await exists(dest), false);
    assert.deepEqual(await leftovers(dest), []);
  });

  it('reports an HTTP error status', async () => {
    const dest = fresh();
    await downloadError(
      downloadVerified({ url: `${base}/nope`, dest, md5: MD5, offlineHint: HINT }),
      new RegExp(`^cannot download ${base}/nope: HTTP 404 Not Found\\n${HINT}$`),
    );
    assert.equal(await exists(dest), false);
    assert.deepEqual(await leftovers(dest), []);
  });

  it('reports a connection dropped mid-download and removes the partial file', async () => {
    const dest = fresh();
    let received = 0;
    await downloadError(
      downloadVerified({ url: `${base}/cut`, dest, md5: MD5, onProgress: (r) => (received = r) }),
      new RegExp(`^download of ${base}/cut failed after \\d+ bytes: `),
    );
    assert.ok(received > 0 && received < BODY.length, `received ${received}`);
    assert.equal(await exists(dest), false);
    assert.deepEqual(await leftovers(dest), []);
  });

  it('says the machine looks offline when nothing listens, with the hint', async () => {
    // A port that was just in use and is now closed refuses connections.
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const dest = fresh();
    const url = `http://127.0.0.1:${port}/cifar.tar.gz`;
    const message = await downloadError(
      downloadVerified({ url, dest, md5: MD5, offlineHint: HINT }),
      new RegExp(`^cannot download ${url.replace(/\./g, '\\.')}: `),
      /ECONNREFUSED/,
      /looks offline or cannot reach the host/,
    );
    assert.ok(message.endsWith(`\n${HINT}`));
    assert.equal(await exists(dest), false);
    assert.deepEqual(await leftovers(dest), []);
  });

  it('leaves the hint out when none is given', async () => {
    const message = await downloadError(downloadVerified({ url: `${base}/nope`, dest: fresh(), md5: MD5 }));
    assert.ok(!message.includes('\n'), message);
  });
});
