import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { DloptError } from '../../errors.js';
import { startTestPostgres } from '../../test-support/postgres-server.js';
import { describeStorageConformance } from '../../test-support/storage-conformance.js';
import { openStorage } from './open-storage.js';
import { PostgresStorage, describePostgresUrl } from './postgres-storage.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PACKAGE_ROOT = join(HERE, '..', '..', '..');

const server = await startTestPostgres();

if ('skip' in server) {
  console.warn(`PostgresStorage tests SKIPPED: ${server.skip}`);
  describe('PostgresStorage', () => {
    it(`skipped: ${server.skip}`, { skip: server.skip }, () => {});
  });
} else {
  after(() => server.stop());
  const { createDatabase } = server;

  describeStorageConformance('PostgresStorage', async () => {
    const url = await createDatabase();
    const storage = await PostgresStorage.open(url);
    return { storage, cleanup: () => storage.close(), openAnother: () => PostgresStorage.open(url) };
  });

  describe('PostgresStorage', () => {
    it('refuses a COMPLETE trial without a finite value', async () => {
      const storage = await PostgresStorage.open(await createDatabase());
      try {
        const study = await storage.createStudy('s', 'minimize');
        const trial = await storage.createTrial(study.id);
        await assert.rejects(storage.finishTrial(trial.id, 'COMPLETE', Number.NaN), /finite/);
        await assert.rejects(storage.finishTrial(trial.id, 'COMPLETE', null), /finite/);
        assert.equal((await storage.getTrial(trial.id)).state, 'RUNNING');
        assert.equal(await storage.finishTrial(trial.id, 'PRUNED', Number.NEGATIVE_INFINITY), true);
        assert.equal((await storage.getTrial(trial.id)).value, Number.NEGATIVE_INFINITY, 'a non-finite value of a PRUNED trial survives');
      } finally {
        await storage.close();
      }
    });

    it('keeps its state across connections and reopening', async () => {
      const url = await createDatabase();
      const first = await PostgresStorage.open(url);
      const study = await first.createStudy('kept', 'maximize');
      const trial = await first.createTrial(study.id);
      await first.setTrialParam(trial.id, 'lr', { type: 'float', low: 1e-5, high: 1, log: true }, 1e-4);
      await first.setTrialIntermediateValue(trial.id, 2, Number.NaN);
      await first.finishTrial(trial.id, 'COMPLETE', 0.5);
      await first.close();
      await first.close();
      await assert.rejects(first.listStudies(), (e: unknown) => e instanceof DloptError && /closed/.test(e.message));
      const second = await PostgresStorage.open(url);
      try {
        assert.equal((await second.getStudy('kept'))?.direction, 'maximize');
        const [loaded] = await second.getAllTrials(study.id);
        assert.deepEqual(loaded?.params, { lr: 1e-4 });
        assert.ok(Number.isNaN(loaded?.intermediate[2]));
        assert.equal(loaded?.state, 'COMPLETE');
        const next = await second.createTrial(study.id);
        assert.equal(next.number, 1, 'numbering goes on after reopening');
      } finally {
        await second.close();
      }
    });

    it('turns database errors into DloptErrors', async () => {
      const storage = await PostgresStorage.open(await createDatabase());
      try {
        const study = await storage.createStudy('s', 'minimize');
        const trial = await storage.createTrial(study.id);
        // PostgreSQL text and JSONB cannot hold NUL characters.
        await assert.rejects(storage.setTrialUserAttr(trial.id, 'k', 'a\u0000b'), (e: unknown) => e instanceof DloptError && /PostgreSQL storage postgresql:\/\//.test(e.message));
        await assert.rejects(storage.setStudyUserAttr(study.id, 'k', 1n), (e: unknown) => e instanceof DloptError && /JSON/.test(e.message));
        await assert.rejects(storage.getTrial(2 ** 40), (e: unknown) => e instanceof DloptError && /no trial/.test(e.message));
        await assert.rejects(storage.createTrial(12345), (e: unknown) => e instanceof DloptError && /no study/.test(e.message));
        await assert.rejects(storage.getAllTrials(12345), (e: unknown) => e instanceof DloptError && /no study/.test(e.message));
        await assert.rejects(storage.claimWaitingTrial(12345), (e: unknown) => e instanceof DloptError && /no study/.test(e.message));
        await assert.rejects(storage.failStaleTrials(12345, 1000), (e: unknown) => e instanceof DloptError && /no study/.test(e.message));
        await assert.rejects(storage.recordHeartbeat(12345), (e: unknown) => e instanceof DloptError && /no trial/.test(e.message));
        await assert.rejects(storage.setTrialParam(12345, 'x', { type: 'categorical', choices: [1] }, 1), (e: unknown) => e instanceof DloptError && /no trial/.test(e.message));
        assert.deepEqual(await storage.failStaleTrials(study.id, Number.POSITIVE_INFINITY), []);
        assert.equal((await storage.failStaleTrials(study.id, Number.NEGATIVE_INFINITY)).length, 1);
      } finally {
        await storage.close();
      }
    });

    describe('schema migrations', () => {
      async function versions(url: string): Promise<number[]> {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          return (await client.query<{ version: number }>('SELECT version FROM dlopt_schema_migrations ORDER BY version')).rows.map((r) => r.version);
        } finally {
          await client.end();
        }
      }

      it('applies each migration once, however often the database is opened', async () => {
        const url = await createDatabase();
        await (await PostgresStorage.open(url)).close();
        const once = await versions(url);
        assert.ok(once.length >= 1);
        assert.deepEqual(once, once.map((_, i) => i + 1));
        await (await PostgresStorage.open(url)).close();
        assert.deepEqual(await versions(url), once);
      });

      it('lets concurrent opens of a fresh database migrate it once', async () => {
        const url = await createDatabase();
        const storages = await Promise.all(Array.from({ length: 8 }, () => PostgresStorage.open(url, { max: 2 })));
        try {
          const studies = await Promise.all(storages.map((s, i) => s.createStudy(`s${i}`, 'minimize')));
          assert.equal(new Set(studies.map((s) => s.id)).size, 8);
          assert.deepEqual(await versions(url), (await versions(url)).map((_, i) => i + 1));
        } finally {
          for (const storage of storages) await storage.close();
        }
      });

      it('refuses a database whose schema is newer than this code', async () => {
        const url = await createDatabase();
        await (await PostgresStorage.open(url)).close();
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(`INSERT INTO dlopt_schema_migrations (version, name) VALUES (999, 'from the future')`);
        await client.end();
        await assert.rejects(PostgresStorage.open(url), (e: unknown) => e instanceof DloptError && /schema version 999/.test(e.message) && /upgrade dlopt/.test(e.message));
      });
    });

    describe('connection errors', () => {
      it('name the server and database, never the password', async () => {
        const port = await freePort();
        const url = `postgresql://alice:s3cr3t-pw@127.0.0.1:${port}/studies`;
        await assert.rejects(PostgresStorage.open(url), (e: unknown) => {
          assert.ok(e instanceof DloptError);
          assert.match(e.message, new RegExp(`postgresql://alice@127\\.0\\.0\\.1:${port}/studies`));
          assert.doesNotMatch(e.message, /s3cr3t/);
          assert.match(e.message, /ECONNREFUSED/);
          return true;
        });
      });

      it('say which database is missing', async () => {
        const url = new URL(await createDatabase());
        url.pathname = '/no_such_database';
        await assert.rejects(PostgresStorage.open(url.toString()), (e: unknown) => e instanceof DloptError && /no_such_database/.test(e.message));
      });

      it('describe URLs without their passwords', () => {
        assert.equal(describePostgresUrl('postgresql://u:p@db.example:6543/s'), 'postgresql://u@db.example:6543/s');
        assert.equal(describePostgresUrl('postgres://db.example/s'), 'postgresql://db.example:5432/s');
        assert.equal(describePostgresUrl('postgresql://u:p@/s?host=/run/postgresql'), 'postgresql://u@/run/postgresql/s');
        assert.doesNotMatch(describePostgresUrl('postgresql://u:p%40ss@[bad/s'), /p%40ss|pass/);
      });
    });

    it('is what openStorage gives for postgresql:// and postgres:// URLs', async () => {
      const url = await createDatabase();
      for (const scheme of ['postgresql:', 'postgres:']) {
        const storage = await openStorage(url.replace(/^[a-z]+:/, scheme));
        try {
          assert.ok(storage instanceof PostgresStorage);
          await storage.createStudy(`via-${scheme}`, 'minimize');
        } finally {
          await storage.close();
        }
      }
    });

    describe('worker processes', () => {
      let scripts: string;
      before(() => {
        scripts = mkdtempSync(join(tmpdir(), 'dlopt-pg-workers-'));
        writeFileSync(join(scripts, 'create-finish.mjs'), CREATE_FINISH);
        writeFileSync(join(scripts, 'claim.mjs'), CLAIM);
        writeFileSync(join(scripts, 'optimize.mjs'), OPTIMIZE);
      });
      after(() => rmSync(scripts, { recursive: true, force: true }));

      it('number 60 trials created by 3 processes at once 0…59, migrating a fresh database together', async () => {
        const url = await createDatabase();
        const outputs = await runWorkers(Array.from({ length: 3 }, () => [join(scripts, 'create-finish.mjs'), url, 'shared']));
        const numbers = outputs.flatMap((o) => o as number[]);
        assert.deepEqual([...numbers].sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i));
        const storage = await PostgresStorage.open(url);
        try {
          const study = (await storage.getStudy('shared'))!;
          const trials = await storage.getAllTrials(study.id);
          assert.deepEqual(trials.map((t) => t.number), Array.from({ length: 60 }, (_, i) => i));
          assert.ok(trials.every((t) => t.state === 'COMPLETE' && t.params.x !== undefined && t.intermediate[0] === t.value));
          assert.equal((await storage.listStudies()).length, 1);
        } finally {
          await storage.close();
        }
      });

      it('never let two processes claim the same WAITING trial', async () => {
        const url = await createDatabase();
        const storage = await PostgresStorage.open(url);
        try {
          const study = await storage.createStudy('queue', 'minimize');
          const waiting = [];
          for (let i = 0; i < 45; i++) waiting.push(await storage.createTrial(study.id, { state: 'WAITING' }));
          const outputs = await runWorkers(Array.from({ length: 3 }, () => [join(scripts, 'claim.mjs'), url, 'queue']));
          const claimed = outputs.flatMap((o) => o as number[]);
          assert.equal(claimed.length, 45, 'each trial claimed once');
          assert.deepEqual([...claimed].sort((a, b) => a - b), waiting.map((t) => t.id).sort((a, b) => a - b));
          assert.ok(outputs.every((o) => (o as number[]).length >= 3), 'every process got one per lane: no claim came back empty while trials waited');
          assert.deepEqual((await storage.getAllTrials(study.id)).map((t) => t.state), Array(45).fill('COMPLETE'));
        } finally {
          await storage.close();
        }
      });

      it('run one study with createStudy and optimize in two processes', async () => {
        const url = await createDatabase();
        const storage = await PostgresStorage.open(url);
        try {
          const study = await storage.createStudy('optimized', 'minimize');
          for (let i = 0; i < 2; i++) await storage.createTrial(study.id, { state: 'WAITING', systemAttrs: { fixedParams: { x: 1 } } });
          const outputs = await runWorkers([
            [join(scripts, 'optimize.mjs'), url, 'optimized', '1'],
            [join(scripts, 'optimize.mjs'), url, 'optimized', '2'],
          ]);
          const trials = await storage.getAllTrials(study.id);
          assert.deepEqual(trials.map((t) => t.number), Array.from({ length: 30 }, (_, i) => i));
          assert.ok(trials.every((t) => t.state === 'COMPLETE'));
          for (const t of trials) assert.equal(t.value, ((t.params.x as number) - 1) ** 2);
          assert.deepEqual(trials.slice(0, 2).map((t) => t.value), [0, 0], 'the enqueued trials ran first, with their params');
          assert.deepEqual(outputs.map((o) => (o as { best: number }).best), [0, 0], 'each process sees the best trial, whoever ran it');
          assert.equal(new Set(trials.map((t) => t.params.x)).size, 29, 'the random trials differ');
        } finally {
          await storage.close();
        }
      });
    });
  });
}

const STORAGE_URL = pathToFileURL(join(HERE, 'postgres-storage.ts')).href;
const STUDY_URL = pathToFileURL(join(HERE, '..', 'study.ts')).href;
const RANDOM_URL = pathToFileURL(join(HERE, '..', 'samplers', 'random-sampler.ts')).href;

/**
 * Workers say "ready" once connected and start on "go", so that their work
 * overlaps rather than their start-up. runWorkers sends "go" once every worker
 * is ready; a script may wait at such a barrier more than once.
 */
const BARRIER = `
import { createInterface } from 'node:readline';
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function ready() {
  process.stdout.write('ready\\n');
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error('stdin ended before the go-ahead');
    if (value === 'go') return;
  }
}
`;

const CREATE_FINISH = `${BARRIER}
import { PostgresStorage } from ${JSON.stringify(STORAGE_URL)};
const [url, name] = process.argv.slice(2);
const storage = await PostgresStorage.open(url);
const study = await storage.createStudy(name, 'minimize', { loadIfExists: true });
await ready();
const numbers = [];
await Promise.all([0, 1, 2, 3].map(async (lane) => {
  for (let i = lane; i < 20; i += 4) {
    const trial = await storage.createTrial(study.id);
    await storage.setTrialParam(trial.id, 'x', { type: 'float', low: 0, high: 1, log: false }, i / 20);
    await storage.setTrialIntermediateValue(trial.id, 0, trial.number);
    if (!(await storage.finishTrial(trial.id, 'COMPLETE', trial.number))) throw new Error('lost trial ' + trial.number);
    numbers.push(trial.number);
  }
}));
await storage.close();
process.stdout.write(JSON.stringify(numbers) + '\\n');
process.exit(0);
`;

const CLAIM = `${BARRIER}
import { PostgresStorage } from ${JSON.stringify(STORAGE_URL)};
const [url, name] = process.argv.slice(2);
const storage = await PostgresStorage.open(url);
const study = await storage.getStudy(name);
await ready();
const ids = [];
async function claimOne() {
  const trial = await storage.claimWaitingTrial(study.id);
  if (!trial) return false;
  ids.push(trial.id);
  if (!(await storage.finishTrial(trial.id, 'COMPLETE', trial.number))) throw new Error('claimed trial ' + trial.number + ' was not RUNNING');
  return true;
}
// Each of the 3 lanes claims one trial, then waits until every process has: a process the scheduler runs late
// still takes part, instead of finding the queue drained by the others.
await Promise.all([0, 1, 2].map(() => claimOne()));
await ready();
await Promise.all([0, 1, 2].map(async () => {
  while (await claimOne());
}));
await storage.close();
process.stdout.write(JSON.stringify(ids) + '\\n');
process.exit(0);
`;

const OPTIMIZE = `${BARRIER}
import { PostgresStorage } from ${JSON.stringify(STORAGE_URL)};
import { createStudy } from ${JSON.stringify(STUDY_URL)};
import { RandomSampler } from ${JSON.stringify(RANDOM_URL)};
const [url, name, seed] = process.argv.slice(2);
const storage = await PostgresStorage.open(url);
const study = await createStudy({ storage, name, loadIfExists: true, sampler: new RandomSampler({ seed: Number(seed) }) });
await ready();
await study.optimize(async (trial) => {
  const x = trial.suggestFloat('x', -5, 5);
  trial.report(x * x, 0);
  return (x - 1) ** 2;
}, { nTrials: 15, heartbeatMs: 1000 });
const best = (await study.getBestTrial()).value;
await study.close();
await storage.close();
process.stdout.write(JSON.stringify({ best }) + '\\n');
process.exit(0);
`;

/** Runs node worker scripts (TypeScript through tsx) together; their last stdout lines, parsed. */
async function runWorkers(argvs: string[][]): Promise<unknown[]> {
  // The barriers every worker has reached ("ready" lines) and those released ("go" sent to all).
  let released = 0;
  const release = () => {
    while (children.every((c) => c.readies > released)) {
      released++;
      for (const { child } of children) child.stdin.write('go\n');
    }
  };
  const children = argvs.map((argv) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...argv], { cwd: PACKAGE_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const worker = { child, readies: 0, done: Promise.resolve() as Promise<unknown> };
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.stdout.on('data', (d: string) => {
      stdout += d;
      worker.readies = stdout.split('\n').filter((line, i, all) => line === 'ready' && i < all.length - 1).length;
      release();
    });
    child.stdin.on('error', () => {}); // a worker that exited early: its exit code says what happened
    worker.done = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code !== 0) return reject(new Error(`worker ${argv[0]} exited with ${code}:\n${stderr}\n${stdout}`));
        const last = stdout.trim().split('\n').at(-1)!;
        resolve(JSON.parse(last));
      });
    });
    return worker;
  });
  try {
    return await Promise.all(children.map((c) => c.done));
  } catch (error) {
    // One worker failed: the others may wait for "go" forever.
    for (const { child, done } of children) {
      done.catch(() => {});
      child.kill('SIGKILL');
    }
    throw error;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
