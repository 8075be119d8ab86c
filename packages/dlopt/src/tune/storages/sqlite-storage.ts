import Database from 'better-sqlite3';
import { posix } from 'node:path';
import { DloptError, UsageError, describeError } from '../../errors.js';
import type { Distribution, ParamValue } from '../distributions.js';
import type { Direction, FrozenTrial, TrialState } from '../trial-state.js';
import { maxStartedOf, type NewTrial, type StartTrialOptions, type StudyRecord, type StudyStorage } from './storage.js';

/** 'dlop' in ASCII: marks a file as ours, so a stranger's SQLite database is refused rather than migrated. */
export const SQLITE_APPLICATION_ID = 0x646c6f70;

/**
 * The schema, one step per version: step i takes a database from
 * `PRAGMA user_version` i to i + 1. Append only; never edit a released step,
 * since databases already past it will not run it again.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE studies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    direction TEXT NOT NULL CHECK (direction IN ('minimize', 'maximize')),
    user_attrs TEXT NOT NULL DEFAULT '{}',
    system_attrs TEXT NOT NULL DEFAULT '{}'
  );
  CREATE TABLE trials (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES studies (id),
    number INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('WAITING', 'RUNNING', 'COMPLETE', 'PRUNED', 'FAIL')),
    value REAL,
    value_kind TEXT CHECK (value_kind IN ('finite', 'nan', 'inf', '-inf')),
    started_at INTEGER,
    completed_at INTEGER,
    heartbeat_at INTEGER,
    user_attrs TEXT NOT NULL DEFAULT '{}',
    system_attrs TEXT NOT NULL DEFAULT '{}',
    UNIQUE (study_id, number)
  );
  CREATE INDEX trials_by_state ON trials (study_id, state, number);
  CREATE TABLE trial_params (
    trial_id INTEGER NOT NULL REFERENCES trials (id),
    name TEXT NOT NULL,
    distribution TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (trial_id, name)
  );
  CREATE TABLE trial_values (
    trial_id INTEGER NOT NULL REFERENCES trials (id),
    step INTEGER NOT NULL,
    value REAL,
    value_kind TEXT NOT NULL CHECK (value_kind IN ('finite', 'nan', 'inf', '-inf')),
    PRIMARY KEY (trial_id, step)
  );
  `,
];

/** How long a call waits for another connection's write transaction before giving up. */
const BUSY_TIMEOUT_MS = 30_000;

type Db = Database.Database;

interface StudyRow {
  id: number;
  name: string;
  direction: Direction;
  user_attrs: string;
  system_attrs: string;
}

interface TrialRow {
  id: number;
  number: number;
  state: TrialState;
  value: number | null;
  value_kind: FloatKind | null;
  started_at: number | null;
  completed_at: number | null;
  user_attrs: string;
  system_attrs: string;
}

interface ParamRow {
  trial_id: number;
  name: string;
  distribution: string;
  value: string;
}

interface ValueRow {
  trial_id: number;
  step: number;
  value: number | null;
  value_kind: FloatKind;
}

/** SQLite turns NaN into NULL, so non-finite floats are kept as NULL plus their kind (Optuna's layout). */
type FloatKind = 'finite' | 'nan' | 'inf' | '-inf';

/**
 * A study database in one SQLite file, shared by worker processes on one
 * machine (not over NFS: WAL needs shared memory). The same semantics as
 * InMemoryStorage; each method is one transaction, and those that decide a
 * race take the write lock up front (BEGIN IMMEDIATE), so two connections
 * never both read a state and then both act on it. better-sqlite3 is
 * synchronous: a call that waits for another process's lock blocks this
 * thread (up to the busy timeout), which no transaction of this process can
 * be holding, because none spans an await.
 */
export class SqliteStorage implements StudyStorage {
  private readonly statements: ReturnType<typeof prepare>;

  private constructor(
    private readonly db: Db,
    readonly path: string,
  ) {
    this.statements = prepare(db);
  }

  /** Opens (creating or migrating as needed) the study database at `path`. */
  static open(path: string): SqliteStorage {
    if (typeof path !== 'string' || path === '') throw new UsageError('an SQLite storage needs a file path');
    let db: Db;
    try {
      db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    } catch (error) {
      throw new DloptError(`cannot open study database ${path}: ${describeError(error)}`, { cause: error });
    }
    try {
      checkIdentity(db, path);
      // WAL lets readers work while a writer commits; NORMAL is durable enough under WAL (a power cut may lose the last commits, never corrupt).
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, path, SQLITE_MIGRATIONS);
      return new SqliteStorage(db, path);
    } catch (error) {
      db.close();
      if (error instanceof DloptError) throw error;
      throw new DloptError(`cannot open study database ${path}: ${describeError(error)}`, { cause: error });
    }
  }

  async createStudy(name: string, direction: Direction, options: { loadIfExists?: boolean } = {}): Promise<StudyRecord> {
    if (direction !== 'minimize' && direction !== 'maximize') throw new UsageError(`study direction must be 'minimize' or 'maximize', got ${JSON.stringify(direction)}`);
    return this.write(() => {
      const existing = this.statements.studyByName.get(name) as StudyRow | undefined;
      if (existing) {
        if (!options.loadIfExists) throw new UsageError(`a study named '${name}' already exists (load it, or pick another name)`);
        if (existing.direction !== direction) throw new UsageError(`study '${name}' exists with direction ${existing.direction}, not ${direction}`);
        return studyRecord(existing);
      }
      const id = Number(this.statements.insertStudy.run(name, direction).lastInsertRowid);
      return { id, name, direction, userAttrs: {}, systemAttrs: {} };
    });
  }

  async getStudy(name: string): Promise<StudyRecord | undefined> {
    const row = this.run(() => this.statements.studyByName.get(name) as StudyRow | undefined);
    return row && studyRecord(row);
  }

  async listStudies(): Promise<StudyRecord[]> {
    return this.run(() => (this.statements.allStudies.all() as StudyRow[]).map(studyRecord));
  }

  async setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void> {
    this.write(() => {
      const study = this.study(studyId);
      this.statements.setStudyUserAttrs.run(withAttr(study.user_attrs, key, value), studyId);
    });
  }

  async setStudySystemAttr(studyId: number, key: string, value: unknown): Promise<void> {
    this.write(() => {
      const study = this.study(studyId);
      this.statements.setStudySystemAttrs.run(withAttr(study.system_attrs, key, value), studyId);
    });
  }

  async createTrial(studyId: number, template: NewTrial = {}): Promise<FrozenTrial> {
    const state = template.state ?? 'RUNNING';
    if (state !== 'WAITING' && state !== 'RUNNING') throw new DloptError(`a new trial is WAITING or RUNNING, not ${String(state)}`);
    const userAttrs = toJson(template.userAttrs ?? {});
    const systemAttrs = toJson(template.systemAttrs ?? {});
    return this.write(() => {
      this.study(studyId);
      return this.frozen(this.insertTrial(studyId, state, userAttrs, systemAttrs));
    });
  }

  async claimWaitingTrial(studyId: number): Promise<FrozenTrial | undefined> {
    return this.write(() => {
      this.study(studyId);
      const id = this.claimOldest(studyId);
      return id === undefined ? undefined : this.frozen(id);
    });
  }

  async startTrial(studyId: number, options?: StartTrialOptions): Promise<FrozenTrial | undefined> {
    const max = maxStartedOf(options);
    return this.write(() => {
      this.study(studyId);
      if (max !== undefined && (this.statements.countStarted.get(studyId) as { n: number }).n >= max) return undefined;
      return this.frozen(this.claimOldest(studyId) ?? this.insertTrial(studyId, 'RUNNING', '{}', '{}'));
    });
  }

  async setTrialParam(trialId: number, name: string, distribution: Distribution, value: ParamValue): Promise<void> {
    const distributionJson = toJson(distribution);
    const valueJson = toJson(value);
    this.write(() => {
      this.updatable(trialId);
      this.statements.upsertParam.run(trialId, name, distributionJson, valueJson);
    });
  }

  async setTrialIntermediateValue(trialId: number, step: number, value: number): Promise<void> {
    if (!Number.isInteger(step) || step < 0) throw new DloptError(`a step is an integer ≥ 0, got ${step}`);
    if (typeof value !== 'number') throw new DloptError(`an intermediate value is a number, got ${typeof value}`);
    const [real, kind] = encodeFloat(value);
    this.write(() => {
      this.updatable(trialId);
      this.statements.upsertValue.run(trialId, step, real, kind);
    });
  }

  async setTrialUserAttr(trialId: number, key: string, value: unknown): Promise<void> {
    this.write(() => {
      const row = this.updatable(trialId);
      this.statements.setTrialUserAttrs.run(withAttr(row.user_attrs, key, value), trialId);
    });
  }

  async setTrialSystemAttr(trialId: number, key: string, value: unknown): Promise<void> {
    this.write(() => {
      const row = this.updatable(trialId);
      this.statements.setTrialSystemAttrs.run(withAttr(row.system_attrs, key, value), trialId);
    });
  }

  async finishTrial(trialId: number, state: 'COMPLETE' | 'PRUNED' | 'FAIL', value: number | null): Promise<boolean> {
    if (state !== 'COMPLETE' && state !== 'PRUNED' && state !== 'FAIL') throw new DloptError(`a trial finishes COMPLETE, PRUNED or FAIL, not ${String(state)}`);
    if (state === 'COMPLETE' && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw new DloptError(`a COMPLETE trial needs a finite value, got ${String(value)}`);
    }
    if (value !== null && typeof value !== 'number') throw new DloptError(`a trial's value is a number or null, got ${typeof value}`);
    const [real, kind] = value === null ? [null, null] : encodeFloat(value);
    return this.write(() => {
      this.trialRow(trialId);
      return this.statements.finishRunning.run(state, real, kind, Date.now(), trialId).changes === 1;
    });
  }

  async getTrial(trialId: number): Promise<FrozenTrial> {
    return this.read(() => this.frozen(trialId));
  }

  async getAllTrials(studyId: number, states?: readonly TrialState[]): Promise<FrozenTrial[]> {
    if (states && states.length === 0) {
      this.run(() => this.study(studyId));
      return [];
    }
    const filter = states ? JSON.stringify(states) : null;
    return this.read(() => {
      this.study(studyId);
      const query = { study: studyId, states: filter };
      const rows = this.statements.studyTrials.all(query) as TrialRow[];
      const params = this.statements.studyParams.all(query) as ParamRow[];
      const values = this.statements.studyValues.all(query) as ValueRow[];
      return assemble(rows, params, values);
    });
  }

  async recordHeartbeat(trialId: number): Promise<void> {
    this.run(() => {
      // A beat can arrive after the trial finished (a timer already in flight): the WHERE clause makes it a no-op then.
      if (this.statements.heartbeat.run(Date.now(), trialId).changes === 0) this.trialRow(trialId);
    });
  }

  async failStaleTrials(studyId: number, graceMs: number): Promise<FrozenTrial[]> {
    return this.write(() => {
      this.study(studyId);
      const now = Date.now();
      const stale = this.statements.staleTrials.all({ study: studyId, now, aliveSince: now - graceMs }) as { id: number }[];
      for (const { id } of stale) this.statements.failTrial.run(now, id);
      return stale.map(({ id }) => this.frozen(id));
    });
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** A write whose decision depends on what it reads: under the write lock from the start. */
  private write<T>(fn: () => T): T {
    return this.run(() => this.db.transaction(fn).immediate());
  }

  /** Several reads from one snapshot. */
  private read<T>(fn: () => T): T {
    return this.run(() => this.db.transaction(fn).deferred());
  }

  /** SQLite's own errors, told in the user's terms; dlopt's pass through. */
  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof DloptError || !(error instanceof Database.SqliteError)) throw error;
      if (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED') {
        throw new DloptError(`study database ${this.path} stayed locked by another process for ${BUSY_TIMEOUT_MS / 1000} s`, { cause: error });
      }
      throw new DloptError(`study database ${this.path}: ${describeError(error)}`, { cause: error });
    }
  }

  /** Inside a write: a new trial numbered one past the study's last; its id. */
  private insertTrial(studyId: number, state: 'WAITING' | 'RUNNING', userAttrs: string, systemAttrs: string): number {
    const { next } = this.statements.nextNumber.get(studyId) as { next: number };
    const now = state === 'RUNNING' ? Date.now() : null;
    return Number(this.statements.insertTrial.run(studyId, next, state, now, now, userAttrs, systemAttrs).lastInsertRowid);
  }

  /** Inside a write: starts the oldest WAITING trial; its id, or undefined when none waits. */
  private claimOldest(studyId: number): number | undefined {
    const oldest = this.statements.oldestWaiting.get(studyId) as { id: number } | undefined;
    if (!oldest) return undefined;
    const now = Date.now();
    this.statements.startTrial.run(now, now, oldest.id);
    return oldest.id;
  }

  private study(studyId: number): StudyRow {
    const row = this.statements.studyById.get(studyId) as StudyRow | undefined;
    if (!row) throw new DloptError(`no study with id ${studyId} in this storage`);
    return row;
  }

  private trialRow(trialId: number): TrialRow {
    const row = this.statements.trialById.get(trialId) as TrialRow | undefined;
    if (!row) throw new DloptError(`no trial with id ${trialId} in this storage`);
    return row;
  }

  /** Finished trials are final (as in Optuna): a late write from a worker whose trial was failed as stale must not change it. */
  private updatable(trialId: number): TrialRow {
    const row = this.trialRow(trialId);
    if (row.state !== 'RUNNING' && row.state !== 'WAITING') throw new DloptError(`trial ${row.number} is already ${row.state} and cannot be changed`);
    return row;
  }

  private frozen(trialId: number): FrozenTrial {
    const row = this.trialRow(trialId);
    const params = this.statements.trialParams.all(trialId) as ParamRow[];
    const values = this.statements.trialValues.all(trialId) as ValueRow[];
    return assemble([row], params, values)[0]!;
  }
}

/**
 * The file named by a `sqlite:` storage URL: `sqlite:PATH` (relative to the
 * working directory, or absolute), or SQLAlchemy's `sqlite:///RELATIVE` / `sqlite:////ABSOLUTE`.
 */
export function sqlitePathFromUrl(url: string): string {
  if (!url.startsWith('sqlite:')) throw new UsageError(`not an SQLite storage URL: "${url}"`);
  let path = url.slice('sqlite:'.length);
  if (path.startsWith('//')) {
    // SQLAlchemy's form, as Optuna users write it: sqlite:///relative.db, sqlite:////absolute.db.
    path = path.slice(2);
    // A host part has no meaning for a local file; refusing it beats opening a surprising path.
    if (!path.startsWith('/')) throw new UsageError(`storage ${url}: use sqlite:PATH, sqlite:///RELATIVE/PATH or sqlite:////ABSOLUTE/PATH`);
    path = path.slice(1);
    if (path !== '') path = posix.normalize(path);
  }
  if (path === '') throw new UsageError(`storage ${url}: the SQLite URL names no file (use sqlite:PATH)`);
  return path;
}

/** Refuses, before anything is written, a file that is not SQLite or is another program's database or a newer dlopt's. */
function checkIdentity(db: Db, path: string): void {
  let applicationId: number;
  let version: number;
  let objects: number;
  try {
    applicationId = db.pragma('application_id', { simple: true }) as number;
    version = db.pragma('user_version', { simple: true }) as number;
    objects = (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n;
  } catch (error) {
    if (error instanceof Database.SqliteError && error.code === 'SQLITE_NOTADB') {
      throw new DloptError(`${path} is not a dlopt study database (it is not an SQLite file)`, { cause: error });
    }
    throw error;
  }
  if (applicationId === SQLITE_APPLICATION_ID) {
    checkVersion(version, path, SQLITE_MIGRATIONS.length);
    return;
  }
  if (applicationId !== 0 || version !== 0 || objects !== 0) {
    throw new DloptError(`${path} is not a dlopt study database (an SQLite file of another program); pick another file`);
  }
}

function checkVersion(version: number, path: string, supported: number): void {
  if (version > supported) {
    throw new DloptError(`study database ${path} has schema version ${version}, newer than this dlopt understands (up to ${supported}); use a newer dlopt`);
  }
}

/**
 * Brings the schema to the latest version. The version is read under the
 * write lock, so workers opening a fresh file at once migrate it once; a
 * failing step rolls the whole migration back.
 */
export function migrate(db: Db, path: string, migrations: readonly string[]): void {
  db.transaction(() => {
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    checkVersion(version, path, migrations.length);
    if (version === migrations.length && applicationId === SQLITE_APPLICATION_ID) return;
    if (applicationId !== SQLITE_APPLICATION_ID) db.pragma(`application_id = ${SQLITE_APPLICATION_ID}`);
    for (let v = version; v < migrations.length; v++) {
      try {
        db.exec(migrations[v]!);
      } catch (error) {
        throw new DloptError(`study database ${path}: migrating schema version ${v} to ${v + 1} failed: ${describeError(error)}`, { cause: error });
      }
    }
    db.pragma(`user_version = ${migrations.length}`);
  }).immediate();
}

function prepare(db: Db) {
  // Trials of a study, optionally only those whose state is in a JSON array (one statement whatever the filter).
  const inStudy = `t.study_id = @study AND (@states IS NULL OR t.state IN (SELECT value FROM json_each(@states)))`;
  return {
    studyByName: db.prepare('SELECT * FROM studies WHERE name = ?'),
    studyById: db.prepare('SELECT * FROM studies WHERE id = ?'),
    allStudies: db.prepare('SELECT * FROM studies ORDER BY id'),
    insertStudy: db.prepare('INSERT INTO studies (name, direction) VALUES (?, ?)'),
    setStudyUserAttrs: db.prepare('UPDATE studies SET user_attrs = ? WHERE id = ?'),
    setStudySystemAttrs: db.prepare('UPDATE studies SET system_attrs = ? WHERE id = ?'),
    nextNumber: db.prepare('SELECT coalesce(max(number) + 1, 0) AS next FROM trials WHERE study_id = ?'),
    insertTrial: db.prepare(
      'INSERT INTO trials (study_id, number, state, started_at, heartbeat_at, user_attrs, system_attrs) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    oldestWaiting: db.prepare("SELECT id FROM trials WHERE study_id = ? AND state = 'WAITING' ORDER BY number LIMIT 1"),
    countStarted: db.prepare("SELECT count(*) AS n FROM trials WHERE study_id = ? AND state <> 'WAITING'"),
    startTrial: db.prepare("UPDATE trials SET state = 'RUNNING', started_at = ?, heartbeat_at = ? WHERE id = ?"),
    trialById: db.prepare('SELECT * FROM trials WHERE id = ?'),
    trialParams: db.prepare('SELECT * FROM trial_params WHERE trial_id = ? ORDER BY rowid'),
    trialValues: db.prepare('SELECT * FROM trial_values WHERE trial_id = ? ORDER BY step'),
    studyTrials: db.prepare(`SELECT t.* FROM trials t WHERE ${inStudy} ORDER BY t.number`),
    studyParams: db.prepare(`SELECT p.* FROM trial_params p JOIN trials t ON t.id = p.trial_id WHERE ${inStudy} ORDER BY p.rowid`),
    studyValues: db.prepare(`SELECT v.* FROM trial_values v JOIN trials t ON t.id = v.trial_id WHERE ${inStudy} ORDER BY v.trial_id, v.step`),
    upsertParam: db.prepare(
      'INSERT INTO trial_params (trial_id, name, distribution, value) VALUES (?, ?, ?, ?) ON CONFLICT (trial_id, name) DO UPDATE SET distribution = excluded.distribution, value = excluded.value',
    ),
    upsertValue: db.prepare(
      'INSERT INTO trial_values (trial_id, step, value, value_kind) VALUES (?, ?, ?, ?) ON CONFLICT (trial_id, step) DO UPDATE SET value = excluded.value, value_kind = excluded.value_kind',
    ),
    setTrialUserAttrs: db.prepare('UPDATE trials SET user_attrs = ? WHERE id = ?'),
    setTrialSystemAttrs: db.prepare('UPDATE trials SET system_attrs = ? WHERE id = ?'),
    finishRunning: db.prepare("UPDATE trials SET state = ?, value = ?, value_kind = ?, completed_at = ? WHERE id = ? AND state = 'RUNNING'"),
    heartbeat: db.prepare("UPDATE trials SET heartbeat_at = ? WHERE id = ? AND state = 'RUNNING'"),
    staleTrials: db.prepare(
      "SELECT id FROM trials WHERE study_id = @study AND state = 'RUNNING' AND coalesce(heartbeat_at, started_at, @now) < @aliveSince ORDER BY number",
    ),
    failTrial: db.prepare("UPDATE trials SET state = 'FAIL', completed_at = ? WHERE id = ?"),
  };
}

function assemble(rows: TrialRow[], params: ParamRow[], values: ValueRow[]): FrozenTrial[] {
  const byId = new Map<number, FrozenTrial>();
  const trials = rows.map((row) => {
    const trial: FrozenTrial = {
      id: row.id,
      number: row.number,
      state: row.state,
      value: row.value_kind === null ? null : decodeFloat(row.value, row.value_kind),
      params: {},
      distributions: {},
      intermediate: {},
      userAttrs: JSON.parse(row.user_attrs) as Record<string, unknown>,
      systemAttrs: JSON.parse(row.system_attrs) as Record<string, unknown>,
      startedAt: row.started_at,
      completedAt: row.completed_at,
    };
    byId.set(row.id, trial);
    return trial;
  });
  for (const p of params) {
    const trial = byId.get(p.trial_id);
    if (!trial) continue;
    trial.params[p.name] = JSON.parse(p.value) as ParamValue;
    trial.distributions[p.name] = JSON.parse(p.distribution) as Distribution;
  }
  for (const v of values) {
    const trial = byId.get(v.trial_id);
    if (trial) trial.intermediate[v.step] = decodeFloat(v.value, v.value_kind);
  }
  return trials;
}

function studyRecord(row: StudyRow): StudyRecord {
  return {
    id: row.id,
    name: row.name,
    direction: row.direction,
    userAttrs: JSON.parse(row.user_attrs) as Record<string, unknown>,
    systemAttrs: JSON.parse(row.system_attrs) as Record<string, unknown>,
  };
}

function withAttr(json: string, key: string, value: unknown): string {
  const attrs = JSON.parse(json) as Record<string, unknown>;
  attrs[key] = value;
  return toJson(attrs);
}

function toJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new DloptError(`a stored value must be JSON-serialisable, got ${typeof value}`);
  return json;
}

function encodeFloat(value: number): [number | null, FloatKind] {
  if (Number.isFinite(value)) return [value, 'finite'];
  if (Number.isNaN(value)) return [null, 'nan'];
  return [null, value > 0 ? 'inf' : '-inf'];
}

function decodeFloat(value: number | null, kind: FloatKind): number {
  switch (kind) {
    case 'finite':
      return value!;
    case 'nan':
      return Number.NaN;
    case 'inf':
      return Number.POSITIVE_INFINITY;
    case '-inf':
      return Number.NEGATIVE_INFINITY;
  }
}
