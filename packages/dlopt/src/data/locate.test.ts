import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataError, DloptError } from '../errors.js';
import { tempDir } from '../test-support/fixtures.js';
import { DownloadError } from './download.js';
import { CIFAR10_ARCHIVE, cacheDirectory, locateData } from './locate.js';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function listing(path: string): Promise<string[]> {
  return stat(path).then(
    () => readdir(path, { recursive: true }),
    () => [],
  );
}

describe('cacheDirectory', () => {
  it('uses $XDG_CACHE_HOME/dlopt when XDG_CACHE_HOME is absolute', () => {
    assert.equal(cacheDirectory({ XDG_CACHE_HOME: '/var/cache/me' }), '/var/cache/me/dlopt');
  });

  it('falls back to ~/.cache/dlopt when XDG_CACHE_HOME is unset, empty or relative', () => {
    const fallback = join(homedir(), '.cache', 'dlopt');
    assert.equal(cacheDirectory({}), fallback);
    assert.equal(cacheDirectory({ XDG_CACHE_HOME: '' }), fallback);
    assert.equal(cacheDirectory({ XDG_CACHE_HOME: 'relative/cache' }), fallback);
  });
});

describe('locateData', () => {
  let dir = '';
  let cleanup: () => Promise<void> = async () => {};
  let n = 0;
  /** A fresh, empty XDG cache home; the dlopt cache directory inside it does not exist yet. */
  const freshCache = () => join(dir, `xdg${n++}`);
  let given = '';
  let other = '';

  before(async () => {
    ({ dir, cleanup } = await tempDir());
    given = join(dir, 'given.tar.gz');
    other = join(dir, 'other-dataset');
    await writeFile(given, 'x');
    await mkdir(other);
  });
  after(() => cleanup());

  it('returns --data when it exists, ahead of DLOPT_DATA and the cache', async () => {
    const xdg = freshCache();
    await mkdir(join(xdg, 'dlopt', 'cifar-10-batches-bin'), { recursive: true });
    const env = { XDG_CACHE_HOME: xdg, DLOPT_DATA: other };
    assert.equal(await locateData({ data: given, env, download: false }), given);
  });

  it('returns DLOPT_DATA when there is no --data', async () => {
    const env = { XDG_CACHE_HOME: freshCache(), DLOPT_DATA: other };
    assert.equal(await locateData({ env, download: false }), other);
    assert.equal(await locateData({ data: undefined, env, download: false }), other);
  });

  it('fails on a --data path that does not exist, naming the flag', async () => {
    const missing = join(dir, 'missing.tar.gz');
    await assert.rejects(
      locateData({ data: missing, env: { XDG_CACHE_HOME: freshCache(), DLOPT_DATA: other } }),
      (error: unknown) => {
        assert.ok(error instanceof DataError);
        assert.equal(error.message, `--data ${missing}: no such file or directory`);
        return true;
      },
    );
  });

  it('fails on a DLOPT_DATA path that does not exist, naming the variable', async () => {
    const missing = join(dir, 'missing-dir');
    await assert.rejects(locateData({ env: { XDG_CACHE_HOME: freshCache(), DLOPT_DATA: missing } }), (error: unknown) => {
      assert.ok(error instanceof DataError);
      assert.equal(error.message, `DLOPT_DATA ${missing}: no such file or directory`);
      return true;
    });
  });

  it('ignores an empty DLOPT_DATA', async () => {
    const xdg = freshCache();
    const archive = join(xdg, 'dlopt', CIFAR10_ARCHIVE.fileName);
    await mkdir(join(xdg, 'dlopt'), { recursive: true });
    await writeFile(archive, 'x');
    assert.equal(await locateData({ env: { XDG_CACHE_HOME: xdg, DLOPT_DATA: '' }, download: false }), archive);
  });

  it('finds cifar-10-binary.tar.gz in the cache directory', async () => {
    const xdg = freshCache();
    const archive = join(xdg, 'dlopt', 'cifar-10-binary.tar.gz');
    await mkdir(join(xdg, 'dlopt'), { recursive: true });
    await writeFile(archive, 'x');
    assert.equal(await locateData({ env: { XDG_CACHE_HOME: xdg }, download: false }), archive);
  });

  it('finds cifar-10-batches-bin in the cache directory, preferring it to the archive', async () => {
    const xdg = freshCache();
    const folder = join(xdg, 'dlopt', 'cifar-10-batches-bin');
    await mkdir(folder, { recursive: true });
    assert.equal(await locateData({ env: { XDG_CACHE_HOME: xdg }, download: false }), folder);
    await writeFile(join(xdg, 'dlopt', 'cifar-10-binary.tar.gz'), 'x');
    assert.equal(await locateData({ env: { XDG_CACHE_HOME: xdg }, download: false }), folder);
  });

  it('with download: false and nothing cached, says how to supply the data', async () => {
    const xdg = freshCache();
    let started = false;
    await assert.rejects(
      locateData({ env: { XDG_CACHE_HOME: xdg }, download: false, onDownloadStart: () => (started = true) }),
      (error: unknown) => {
        assert.ok(error instanceof DataError);
        assert.match(error.message, /^no dataset found\. /);
        assert.match(error.message, /pass it with --data PATH/);
        assert.match(error.message, /set DLOPT_DATA=PATH/);
        assert.ok(error.message.includes(join(xdg, 'dlopt', 'cifar-10-binary.tar.gz')), error.message);
        assert.ok(error.message.includes(CIFAR10_ARCHIVE.md5), error.message);
        return true;
      },
    );
    assert.equal(started, false);
    assert.deepEqual(await listing(xdg), []);
  });

  describe('downloading', () => {
    let server: Server;
    let base = '';
    const served = Buffer.from('these bytes are not the CIFAR-10 archive');
    let requests: string[] = [];

    before(async () => {
      server = createServer((req, res) => {
        requests.push(req.url ?? '');
        res.writeHead(200, { 'content-length': served.length });
        res.end(served);
      });
      base = `http://127.0.0.1:${await listen(server)}`;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('downloads from DLOPT_CIFAR10_URL and refuses bytes with the wrong MD5, keeping nothing', async () => {
      requests = [];
      const xdg = freshCache();
      const url = `${base}/mirror/cifar-10-binary.tar.gz`;
      const starts: [string, string][] = [];
      const progress: [number, number | undefined][] = [];
      await assert.rejects(
        locateData({
          env: { XDG_CACHE_HOME: xdg, DLOPT_CIFAR10_URL: url },
          onDownloadStart: (u, d) => starts.push([u, d]),
          onDownloadProgress: (r, t) => progress.push([r, t]),
        }),
        (error: unknown) => {
          assert.ok(error instanceof DownloadError);
          assert.ok(error instanceof DloptError);
          assert.match(error.message, /is corrupt: MD5 /);
          assert.ok(error.message.includes(`expected ${CIFAR10_ARCHIVE.md5}`), error.message);
          assert.match(error.message, /nothing was kept/);
          assert.match(error.message, /--data PATH/);
          return true;
        },
      );
      assert.deepEqual(requests, ['/mirror/cifar-10-binary.tar.gz']);
      assert.deepEqual(starts, [[url, join(xdg, 'dlopt', 'cifar-10-binary.tar.gz')]]);
      assert.deepEqual(progress.at(-1), [served.length, served.length]);
      // The cache folder may have been created, but holds no file, partial or whole.
      assert.deepEqual(await listing(join(xdg, 'dlopt')), []);
    });

    it('says the machine looks offline when the download URL cannot be reached, with the how-to', async () => {
      const closed = createServer();
      const port = await listen(closed);
      await new Promise((resolve) => closed.close(resolve));
      const xdg = freshCache();
      await assert.rejects(
        locateData({ env: { XDG_CACHE_HOME: xdg, DLOPT_CIFAR10_URL: `http://127.0.0.1:${port}/c.tar.gz` } }),
        (error: unknown) => {
          assert.ok(error instanceof DownloadError);
          assert.match(error.message, /looks offline or cannot reach the host/);
          assert.match(error.message, /\nTo use a copy you already have, pass it with --data PATH/);
          return true;
        },
      );
      assert.deepEqual(await listing(join(xdg, 'dlopt')), []);
    });
  });
});
