import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** A fresh, empty database of its own. */
  url: string;
  /** Another fresh database on the same server (dropped by stop). */
  createDatabase(): Promise<string>;
  /** Drops what it created; stops and deletes a server it started. */
  stop(): Promise<void>;
}

/**
 * A PostgreSQL server for tests. With DLOPT_TEST_POSTGRES_URL (a URL whose
 * user may CREATE DATABASE) it uses that server. Otherwise it makes a
 * throwaway cluster in a temporary folder with the server's binaries
 * (Debian's /usr/lib/postgresql/N/bin, or initdb and pg_ctl on PATH), on a
 * free local port with trust authentication and its socket in that folder,
 * so nothing of a system server is touched. Without binaries it returns
 * why the tests skip, unless DLOPT_REQUIRE_POSTGRES=1 (CI), where that is an
 * error.
 */
export async function startTestPostgres(): Promise<TestPostgres | { skip: string }> {
  const external = process.env.DLOPT_TEST_POSTGRES_URL;
  if (external) return onServer(external, async () => {});
  const bin = findBinaries();
  if (!bin) {
    const reason =
      'no PostgreSQL server binaries (initdb and pg_ctl in /usr/lib/postgresql/*/bin or on PATH): install the postgresql package, or set DLOPT_TEST_POSTGRES_URL';
    if (process.env.DLOPT_REQUIRE_POSTGRES === '1') throw new Error(`${reason} (DLOPT_REQUIRE_POSTGRES=1 requires these tests to run)`);
    return { skip: reason };
  }
  return startCluster(bin);
}

interface Cluster {
  dir: string;
  data: string;
  as: { uid: number; gid: number } | undefined;
  bin: string;
}

async function startCluster(bin: string): Promise<TestPostgres> {
  // initdb refuses to run as root: the cluster belongs to the postgres user then.
  const as = process.getuid?.() === 0 ? postgresUser() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'dlopt-pg-'));
  if (as) chownSync(dir, as.uid, as.gid);
  const cluster: Cluster = { dir, data: join(dir, 'data'), as, bin };
  const stopNow = (): void => {
    spawnSync(join(bin, 'pg_ctl'), ['-D', cluster.data, '-m', 'immediate', '-w', 'stop'], { cwd: dir, stdio: 'ignore', ...(as ?? {}) });
    rmSync(dir, { recursive: true, force: true });
  };
  // A test process that ends without stop() (a crash, an uncaught error) must not leave a server running.
  process.once('exit', stopNow);
  try {
    await run(cluster, 'initdb', ['-D', cluster.data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const port = await startServer(cluster);
    return await onServer(`postgresql://postgres@127.0.0.1:${port}/postgres`, async () => {
      process.removeListener('exit', stopNow);
      stopNow();
    });
  } catch (error) {
    process.removeListener('exit', stopNow);
    stopNow();
    throw error;
  }
}

/** Starts the cluster on a free port; retries when another process took the port in between. */
async function startServer(cluster: Cluster): Promise<number> {
  const log = join(cluster.dir, 'server.log');
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const settings = [
      `-p ${port}`,
      `-k '${cluster.dir}'`,
      '-c listen_addresses=127.0.0.1',
      // A throwaway cluster: durability costs time and buys nothing.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=300',
    ].join(' ');
    try {
      await run(cluster, 'pg_ctl', ['-D', cluster.data, '-l', log, '-w', '-t', '30', '-o', settings, 'start']);
      return port;
    } catch (error) {
      lastError = error;
    }
  }
  const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '(no server log)';
  throw new Error(`the test PostgreSQL server did not start: ${String(lastError)}\n${tail}`);
}

/** The fresh databases of one test file on a running server, and their removal. */
async function onServer(adminUrl: string, shutdown: () => Promise<void>): Promise<TestPostgres> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const created: string[] = [];
  const prefix = `dlopt_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const createDatabase = async (): Promise<string> => {
    const name = `${prefix}_${created.length}`;
    await admin.query(`CREATE DATABASE ${name}`);
    created.push(name);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end().catch(() => {});
      await shutdown();
    }
  };
  try {
    return { url: await createDatabase(), createDatabase, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The newest Debian server's bin folder, else the folder on PATH with both initdb and pg_ctl. */
function findBinaries(): string | undefined {
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian)
    ? readdirSync(debian)
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const candidates = [...versions.map((v) => join(debian, v, 'bin')), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  return candidates.find((dir) => isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'pg_ctl')));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error('running as root, and initdb refuses root, but there is no postgres user to run it as (the postgresql package creates one)');
  }
  return { uid: Number(uid), gid: Number(gid) };
}

function run(cluster: Cluster, program: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // cwd: the server's user may not be allowed into ours (root's home).
    execFile(join(cluster.bin, program), args, { cwd: cluster.dir, timeout: 60_000, ...(cluster.as ?? {}) }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${program} failed: ${error.message}${stderr ? `\n${stderr}` : ''}`));
      else resolve();
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
