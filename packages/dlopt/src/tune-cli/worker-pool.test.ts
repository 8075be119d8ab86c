import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkerPool } from './worker-pool.js';

const script = (code: string) => ['-e', code];

describe('worker pool', () => {
  it('waits for workers that all succeed, reporting nothing', async () => {
    const failures: string[] = [];
    const pool = new WorkerPool({ count: 3, args: (k) => script(`setTimeout(() => process.exit(0), ${k * 20})`), onFailure: (m) => failures.push(m) });
    assert.equal(pool.pids.length, 3);
    await pool.wait();
    assert.deepEqual(failures, []);
    assert.equal(pool.failure, undefined);
  });

  it('reports the first failing worker once; stop ends the others', async () => {
    const failures: string[] = [];
    const started = Date.now();
    let pool: WorkerPool | undefined = undefined;
    pool = new WorkerPool({
      count: 3,
      args: (k) => script(k === 2 ? 'setTimeout(() => process.exit(3), 50)' : 'setTimeout(() => {}, 60_000)'),
      onFailure(message) {
        failures.push(message);
        pool!.stop();
      },
    });
    await pool.wait();
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /^worker 2 \(pid \d+\) exited with code 3$/);
    assert.equal(pool.failure, failures[0]);
    assert.ok(Date.now() - started < 10_000, 'the sleeping workers were stopped');
  });

  it('kills workers that ignore SIGTERM after the grace period', async () => {
    const pool = new WorkerPool({ count: 1, killAfterMs: 200, args: () => script("process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)") });
    await new Promise((resolve) => setTimeout(resolve, 300));
    pool.stop();
    await pool.wait();
    assert.equal(pool.failure, undefined, 'a worker stopped by the pool is no failure');
  });
});
