import { UsageError } from '../../errors.js';
import { InMemoryStorage } from './in-memory-storage.js';
import { PostgresStorage } from './postgres-storage.js';
import { SqliteStorage, sqlitePathFromUrl } from './sqlite-storage.js';
import type { StudyStorage } from './storage.js';

/**
 * A storage from its URL, Optuna's convention: `memory` (this process only),
 * `sqlite:PATH` (or Optuna's `sqlite:///PATH`; a file, shared by local worker
 * processes), `postgresql://user:pass@host:port/db` (workers on many
 * machines).
 */
export async function openStorage(url: string): Promise<StudyStorage> {
  if (url === 'memory' || url === '') return new InMemoryStorage();
  if (url.startsWith('sqlite:')) return SqliteStorage.open(sqlitePathFromUrl(url));
  if (url.startsWith('postgresql://') || url.startsWith('postgres://')) return PostgresStorage.open(url);
  throw new UsageError(`unknown storage URL "${url}"; use memory, sqlite:PATH or postgresql://user@host/db`);
}
