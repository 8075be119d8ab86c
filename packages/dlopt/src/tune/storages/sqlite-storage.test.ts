import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { DloptError, UsageError } from '../../errors.js';
import { describeStorageConformance } from '../../test-support/storage-conformance.js';
import { openStorage } from './open-storage.js';
import { SQLITE_APPLICATION_ID, SQLITE_MIGRATIONS, SqliteStorage, migrate, sqlitePathFromUrl } from './sqlite-storage.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PACKAGE = join(HERE, '..', '..', '..');

let scratch: string;
let files = 0;
before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'dlopt-sqlite-'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

function freshPath(): string {
  return join(scratch, `study-${files++}.db`);
}

describeStorageConformance('SqliteStorage', async () => {
  const path = freshPath();
  const storage = SqliteStorage.open(path);
  return {
    storage,
    openAnother: async () => SqliteStorage.open(path),
    cleanup: async () => {
      await storage.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    },
  };
});

function raw(path: string): Database.Database {
  return new Database(path);
}

describe('SqliteStorage', () => {
  it('refuses a COMPLETE trial without a finite value', async () => {
    const storage = SqliteStorage.open(freshPath());
    const study = await storage.createStudy('s', 'minimize');
    const trial = await storage.createTrial(study.id);
    await assert.rejects(storage.finishTrial(trial.id, 'COMPLETE', Number.NaN), /finite/);
    await assert.rejects(storage.finishTrial(trial.id, 'COMPLETE', null), /finite/);
    assert.equal((await storage.getTrial(trial.id)).state, 'RUNNING');
    await storage.close();
  });

  it('keeps everything across close and reopen, non-finite values included', async () => {
    const path = freshPath();
    const first = SqliteStorage.open(path);
    const study = await first.createStudy('s', 'maximize');
    await first.setStudySystemAttr(study.id, 'sampler', { name: 'tpe' });
    const trial = await first.createTrial(study.id, { userAttrs: { who: 'me' } });
    await first.setTrialParam(trial.id, 'lr', { type: 'float', low: 1e-4, high: 1, log: true }, 0.01);
    await first.setTrialIntermediateValue(trial.id, 0, Number.NaN);
    await first.setTrialIntermediateValue(trial.id, 1, Number.NEGATIVE_INFINITY);
    await first.finishTrial(trial.id, 'PRUNED', Number.POSITIVE_INFINITY);
    const waiting = await first.createTrial(study.id, { state: 'WAITING', systemAttrs: { fixedParams: { lr: 0.1 } } });
    const saved = await first.getAllTrials(study.id);
    await first.close();

    const second = SqliteStorage.open(path);
    assert.deepEqual(await second.getStudy('s'), { id: study.id, name: 's', direction: 'maximize', userAttrs: {}, systemAttrs: { sampler: { name: 'tpe' } } });
    const loaded = await second.getAllTrials(study.id);
    assert.deepEqual(loaded, saved);
    assert.equal(loaded[0]!.value, Number.POSITIVE_INFINITY);
    assert.ok(Number.isNaN(loaded[0]!.intermediate[0]));
    assert.equal((await second.claimWaitingTrial(study.id))?.id, waiting.id);
    assert.equal((await second.createTrial(study.id)).number, 2);
    await second.close();
  });

  it('sets WAL, the busy timeout, its application id and the schema version', async () => {
    const path = freshPath();
    const storage = SqliteStorage.open(path);
    const db = (storage as unknown as { db: Database.Database }).db;
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('busy_timeout', { simple: true }), 30_000);
    assert.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL');
    assert.equal(db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
    assert.equal(db.pragma('application_id', { simple: true }), SQLITE_APPLICATION_ID);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(tables, ['studies', 'trial_params', 'trial_values', 'trials']);
    await storage.close();
  });

  describe('migrations', () => {
    it('initialises an empty file', async () => {
      const path = freshPath();
      writeFileSync(path, '');
      const storage = SqliteStorage.open(path);
      await storage.createStudy('s', 'minimize');
      await storage.close();
      const db = raw(path);
      assert.equal(db.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
      db.close();
    });

    it('brings a database of every older version up to date, keeping its data', async () => {
      for (let version = 0; version < SQLITE_MIGRATIONS.length; version++) {
        const path = freshPath();
        const db = raw(path);
        migrate(db, path, SQLITE_MIGRATIONS.slice(0, version));
        db.close();
        const storage = SqliteStorage.open(path);
        await storage.createStudy('s', 'minimize');
        await storage.close();
        const after = raw(path);
        assert.equal(after.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length, `from version ${version}`);
        after.close();
      }
    });

    it('runs only the missing steps, in order, and all or nothing', () => {
      const path = freshPath();
      const db = raw(path);
      const steps = ['CREATE TABLE a (x)', "INSERT INTO a VALUES ('two')", "INSERT INTO a VALUES ('three')"];
      migrate(db, path, steps.slice(0, 2));
      assert.equal(db.pragma('user_version', { simple: true }), 2);
      migrate(db, path, steps);
      migrate(db, path, steps);
      assert.equal(db.pragma('user_version', { simple: true }), 3);
      assert.deepEqual(db.prepare('SELECT x FROM a ORDER BY rowid').pluck().all(), ['two', 'three']);

      assert.throws(
        () => migrate(db, path, [...steps, "INSERT INTO a VALUES ('four')", 'NOT SQL']),
        (e: unknown) => e instanceof DloptError && e.message.includes(path) && /version 4 to 5/.test(e.message),
      );
      assert.equal(db.pragma('user_version', { simple: true }), 3, 'a failed migration leaves the version');
      assert.equal(db.prepare('SELECT count(*) FROM a').pluck().get(), 2, 'and rolls back the steps before the failing one');
      db.close();
    });

    it('refuses a database from a newer dlopt, naming both versions', async () => {
      const path = freshPath();
      await (SqliteStorage.open(path)).close();
      const db = raw(path);
      const newer = SQLITE_MIGRATIONS.length + 3;
      db.pragma(`user_version = ${newer}`);
      db.close();
      assert.throws(
        () => SqliteStorage.open(path),
        (e: unknown) =>
          e instanceof DloptError && e.message.includes(path) && e.message.includes(`version ${newer}`) && e.message.includes(`up to ${SQLITE_MIGRATIONS.length}`) && /newer dlopt/.test(e.message),
      );
      const after = raw(path);
      assert.equal(after.pragma('user_version', { simple: true }), newer, 'left as it was');
      after.close();
    });

    it('refuses a file that is not SQLite, naming it and leaving it alone', () => {
      const path = join(scratch, 'notes.txt');
      const text = 'these are not the trials you are looking for\n'.repeat(200);
      writeFileSync(path, text);
      assert.throws(
        () => SqliteStorage.open(path),
        (e: unknown) => e instanceof DloptError && e.message.includes(path) && /not a dlopt study database/.test(e.message) && /not an SQLite file/.test(e.message),
      );
      assert.equal(readFileSync(path, 'utf8'), text);
    });

    it("refuses another program's SQLite database without converting it to WAL", () => {
      const path = freshPath();
      const db = raw(path);
      db.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)');
      db.close();
      assert.throws(() => SqliteStorage.open(path), (e: unknown) => e instanceof DloptError && e.message.includes(path) && /another program/.test(e.message));
      const after = raw(path);
      assert.equal(after.pragma('journal_mode', { simple: true }), 'delete');
      assert.equal(after.pragma('user_version', { simple: true }), 0);
      after.close();
    });

    it('says which path it cannot open', () => {
      const path = join(scratch, 'no', 'such', 'dir', 'study.db');
      assert.throws(() => SqliteStorage.open(path), (e: unknown) => e instanceof DloptError && e.message.includes(path));
    });
  });

  describe('storage URLs', () => {
    it('reads sqlite:PATH and SQLAlchemy/Optuna forms sqlite:///RELATIVE and sqlite:////ABSOLUTE', () => {
      assert.equal(sqlitePathFromUrl('sqlite:study.db'), 'study.db');
      assert.equal(sqlitePathFromUrl('sqlite:runs/study.db'), 'runs/study.db');
      assert.equal(sqlitePathFromUrl('sqlite:/tmp/study.db'), '/tmp/study.db');
      assert.equal(sqlitePathFromUrl('sqlite:///study.db'), 'study.db');
      assert.equal(sqlitePathFromUrl('sqlite:///runs/study.db'), 'runs/study.db');
      assert.equal(sqlitePathFromUrl('sqlite:////tmp/study.db'), '/tmp/study.db');
      assert.throws(() => sqlitePathFromUrl('sqlite:'), UsageError);
      assert.throws(() => sqlitePathFromUrl('sqlite://host/study.db'), UsageError);
    });

    it('opens a SqliteStorage from both URL forms, sharing one file', async () => {
      const path = freshPath();
      const a = await openStorage(`sqlite:${path}`);
      const b = await openStorage(`sqlite:///${path}`); // absolute path: sqlite:////abs
      assert.ok(a instanceof SqliteStorage && b instanceof SqliteStorage);
      const study = await a.createStudy('shared', 'minimize');
      assert.equal((await b.getStudy('shared'))?.id, study.id);
      await a.close();
      await b.close();
    });
  });

  describe('several processes on one file', () => {
    const storageUrl = pathToFileURL(join(HERE, 'sqlite-storage.ts')).href;
    const studyUrl = pathToFileURL(join(HERE, '..', 'study.ts')).href;
    const samplerUrl = pathToFileURL(join(HERE, '..', 'samplers', 'random-sampler.ts')).href;
    let worker: string;

    before(() => {
      worker = join(scratch, 'worker.mjs');
      // Each worker opens its connection, says so, and starts at the time the go-ahead names, so their work overlaps.
      writeFileSync(
        worker,
        `
import { createInterface } from 'node:readline';
import { SqliteStorage } from ${JSON.stringify(storageUrl)};
import { createStudy } from ${JSON.stringify(studyUrl)};
import { RandomSampler } from ${JSON.stringify(samplerUrl)};

const [mode, path, count] = process.argv.slice(2);
const n = Number(count);
const storage = SqliteStorage.open(path);
const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\\n');
const startAt = Number(await new Promise((resolve) => lines.once('line', resolve)));
lines.close();
await new Promise((resolve) => setTimeout(resolve, startAt - Date.now()));
// Short random pauses between operations make the processes' calls interleave rather than run in turns.
const pause = () => new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
const done = [];
if (mode === 'create') {
  const study = await storage.getStudy('s');
  for (let i = 0; i < n; i++) {
    await pause();
    const trial = await storage.createTrial(study.id);
    await storage.setTrialParam(trial.id, 'x', { type: 'float', low: 0, high: 1, log: false }, i / n);
    await storage.setTrialIntermediateValue(trial.id, 0, i);
    if (!(await storage.finishTrial(trial.id, 'COMPLETE', i))) throw new Error('could not finish trial ' + trial.number);
    done.push(trial.number);
  }
} else if (mode === 'claim') {
  const study = await storage.getStudy('s');
  for (let trial; (trial = await storage.claimWaitingTrial(study.id)); await pause()) {
    if (!(await storage.finishTrial(trial.id, 'COMPLETE', trial.number))) throw new Error('could not finish trial ' + trial.number);
    done.push(trial.number);
  }
} else if (mode === 'optimize') {
  const study = await createStudy({ storage, name: 'shared', direction: 'minimize', loadIfExists: true, sampler: new RandomSampler({ seed: 7 }) });
  await study.optimize(
    (trial) => {
      const x = trial.suggestFloat('x', -10, 10);
      trial.report(x * x, 0);
      return (x - 1) ** 2;
    },
    { nTrials: n, callbacks: [(_, frozen) => void done.push(frozen.number)] },
  );
}
await storage.close();
process.stdout.write(JSON.stringify(done) + '\\n');
`,
      );
    });

    interface Worker {
      ready: Promise<void>;
      go(startAt: number): void;
      result: Promise<number[]>;
    }

    function startWorker(mode: 'create' | 'claim' | 'optimize', path: string, count: number): Worker {
      const child = spawn(process.execPath, ['--import', 'tsx', worker, mode, path, String(count)], { cwd: PACKAGE, stdio: ['pipe', 'pipe', 'pipe'], timeout: 25_000 });
      let stdout = '';
      let stderr = '';
      let signalReady: () => void;
      const ready = new Promise<void>((resolve) => (signalReady = resolve));
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.startsWith('ready\n')) signalReady();
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const result = new Promise<number[]>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code, signal) => {
          signalReady();
          if (code !== 0) reject(new Error(`${mode} worker exited with ${code ?? signal}:\n${stderr}`));
          else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as number[]);
        });
      });
      return { ready, go: (startAt) => child.stdin.end(`${startAt}\n`), result };
    }

    async function runWorkers(mode: 'create' | 'claim' | 'optimize', path: string, processes: number, count: number): Promise<number[][]> {
      const workers = Array.from({ length: processes }, () => startWorker(mode, path, count));
      await Promise.all(workers.map((w) => w.ready));
      const startAt = Date.now() + 100;
      for (const w of workers) w.go(startAt);
      return Promise.all(workers.map((w) => w.result));
    }

    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

    it('numbers trials created at once by 3 processes 0..59, none lost or duplicated', async () => {
      const path = freshPath();
      const storage = SqliteStorage.open(path);
      const study = await storage.createStudy('s', 'minimize');
      const results = await runWorkers('create', path, 3, 20);
      for (const numbers of results) assert.equal(numbers.length, 20);
      assert.deepEqual(sorted(results.flat()), range(60));
      const trials = await storage.getAllTrials(study.id);
      assert.deepEqual(trials.map((t) => t.number), range(60));
      assert.ok(trials.every((t) => t.state === 'COMPLETE' && t.params.x !== undefined && t.intermediate[0] === t.value));
      await storage.close();
    });

    it('never hands one WAITING trial to two processes', async () => {
      const path = freshPath();
      const storage = SqliteStorage.open(path);
      const study = await storage.createStudy('s', 'minimize');
      for (let i = 0; i < 60; i++) await storage.createTrial(study.id, { state: 'WAITING' });
      const results = await runWorkers('claim', path, 3, 0);
      assert.deepEqual(sorted(results.flat()), range(60), 'each trial claimed exactly once');
      const trials = await storage.getAllTrials(study.id);
      assert.ok(trials.every((t) => t.state === 'COMPLETE' && t.value === t.number));
      await storage.close();
    });

    it('runs two optimize loops in two processes on one study with the same seed', async () => {
      const path = freshPath();
      const results = await runWorkers('optimize', path, 2, 15);
      for (const numbers of results) assert.equal(numbers.length, 15);
      assert.deepEqual(sorted(results.flat()), range(30));
      const storage = SqliteStorage.open(path);
      assert.equal((await storage.listStudies()).length, 1, 'both joined one study');
      const study = (await storage.getStudy('shared'))!;
      const trials = await storage.getAllTrials(study.id);
      assert.deepEqual(trials.map((t) => t.number), range(30));
      assert.ok(trials.every((t) => t.state === 'COMPLETE'));
      // The sampler's stream comes from (seed, trial number): a number handed out twice would repeat an x.
      assert.equal(new Set(trials.map((t) => t.params.x)).size, 30);
      await storage.close();
    });
  });
});
