import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../errors.js';
import {
  contains,
  describeDistribution,
  fromInternal,
  intersectionSearchSpace,
  sameDistribution,
  toInternal,
  trialRandom,
  validateDistribution,
} from './distribution-utils.js';
import type { Distribution } from './distributions.js';
import type { FrozenTrial, TrialState } from './trial-state.js';

const float = (low: number, high: number, extra: { log?: boolean; step?: number } = {}): Distribution => ({
  type: 'float',
  low,
  high,
  log: extra.log ?? false,
  ...(extra.step !== undefined ? { step: extra.step } : {}),
});
const int = (low: number, high: number, extra: { log?: boolean; step?: number } = {}): Distribution => ({
  type: 'int',
  low,
  high,
  log: extra.log ?? false,
  step: extra.step ?? 1,
});

function rejects(distribution: unknown, pattern: RegExp): void {
  assert.throws(
    () => validateDistribution('lr', distribution as Distribution),
    (e: unknown) => e instanceof UsageError && /parameter 'lr'/.test(e.message) && pattern.test(e.message),
  );
}

describe('validateDistribution', () => {
  it('accepts well-formed distributions, single points included', () => {
    for (const d of [
      float(0, 1),
      float(1e-5, 1, { log: true }),
      float(0, 1, { step: 0.1 }),
      float(2, 2),
      int(1, 10),
      int(1, 1024, { log: true }),
      int(0, 10, { step: 3 }),
      { type: 'categorical', choices: ['a', 1, '1', true, null] } as Distribution,
    ]) {
      validateDistribution('x', d);
    }
  });

  it('rejects bad bounds, naming the parameter', () => {
    rejects(float(1, 0), /low \(1\) is greater than high \(0\)/);
    rejects(float(Number.NaN, 1), /low must be a finite number/);
    rejects(float(0, Number.POSITIVE_INFINITY), /high must be a finite number/);
    rejects({ type: 'float', low: '0', high: 1, log: false }, /low must be a finite number/);
    rejects(float(0, 1, { log: true }), /log distribution needs low > 0/);
    rejects({ type: 'float', low: 0, high: 1 }, /log must be true or false/);
    rejects({ type: 'gaussian', low: 0, high: 1 }, /unknown distribution type "gaussian"/);
  });

  it('rejects bad steps', () => {
    rejects(float(0, 1, { step: 0 }), /float step must be a finite number > 0/);
    rejects(float(0.1, 1, { step: 0.1, log: true }), /both log and step/);
    rejects(int(0, 10, { step: 0 }), /int step must be an integer ≥ 1/);
    rejects(int(0, 10, { step: 1.5 }), /int step must be an integer ≥ 1/);
    rejects(int(1, 10, { step: 2, log: true }), /log int distribution needs step 1/);
    rejects(int(0.5, 10), /integer bounds/);
  });

  it('rejects empty, duplicated or unstorable choices', () => {
    rejects({ type: 'categorical', choices: [] }, /non-empty/);
    rejects({ type: 'categorical', choices: ['adam', 'sgd', 'adam'] }, /"adam" appears twice/);
    rejects({ type: 'categorical', choices: [Number.NaN] }, /NaN is not a finite number/);
    rejects({ type: 'categorical', choices: [{}] }, /object is not a finite number, string, boolean or null/);
  });
});

describe('contains', () => {
  it('checks range, integrality and the step grid', () => {
    assert.ok(contains(float(0, 1), 0) && contains(float(0, 1), 1) && contains(float(0, 1), 0.5));
    assert.ok(!contains(float(0, 1), 1.0001) && !contains(float(0, 1), Number.NaN) && !contains(float(0, 1), '0.5'));
    assert.ok(contains(float(0, 1, { step: 0.1 }), 0.30000000000000004));
    assert.ok(!contains(float(0, 1, { step: 0.1 }), 0.35));
    assert.ok(contains(int(0, 10, { step: 3 }), 9) && !contains(int(0, 10, { step: 3 }), 10) && !contains(int(0, 10), 2.5));
    assert.ok(contains(int(1, 64, { log: true }), 17));
    const cat: Distribution = { type: 'categorical', choices: ['a', 1, null] };
    assert.ok(contains(cat, 'a') && contains(cat, 1) && contains(cat, null));
    assert.ok(!contains(cat, '1') && !contains(cat, undefined) && !contains(cat, 'b'));
  });
});

describe('toInternal / fromInternal', () => {
  it('is the value, its log, or the choice index', () => {
    assert.equal(toInternal(float(0, 1), 0.25), 0.25);
    assert.equal(toInternal(float(1e-4, 1, { log: true }), Math.E), 1);
    assert.equal(toInternal(int(1, 100, { log: true }), 1), 0);
    assert.equal(toInternal({ type: 'categorical', choices: ['a', 'b', 'c'] }, 'c'), 2);
    assert.throws(() => toInternal({ type: 'categorical', choices: ['a'] }, 'z'), RangeError);
  });

  it('round-trips every value of a distribution', () => {
    const ds: [Distribution, (number | string)[]][] = [
      [float(0, 1), [0, 0.123, 1]],
      [float(1e-4, 0.1, { log: true }), [1e-4, 0.00316, 0.1]],
      [float(-1, 1, { step: 0.25 }), [-1, -0.25, 0.75]],
      [int(-3, 7), [-3, 0, 7]],
      [int(1, 1000, { log: true }), [1, 17, 1000]],
      [{ type: 'categorical', choices: ['x', 'y'] }, ['x', 'y']],
    ];
    for (const [d, values] of ds) {
      for (const v of values) {
        const back = fromInternal(d, toInternal(d, v));
        if (typeof v === 'number') assert.ok(Math.abs((back as number) - v) <= 1e-12 * Math.max(1, Math.abs(v)), `${describeDistribution(d)}: ${v} → ${back}`);
        else assert.equal(back, v);
      }
    }
  });

  it('rounds to the grid and clamps into range', () => {
    assert.equal(fromInternal(float(0, 1, { step: 0.1 }), 0.2999), 0.3);
    assert.equal(fromInternal(float(0, 1, { step: 0.1 }), 0.34), 0.3);
    assert.equal(fromInternal(float(0, 1), 1.7), 1);
    assert.equal(fromInternal(float(0, 1), -0.2), 0);
    assert.equal(fromInternal(float(0.1, 1, { log: true }), Math.log(5)), 1);
    assert.equal(fromInternal(int(0, 10, { step: 3 }), 10.4), 9, 'the top of a grid that does not reach high');
    assert.equal(fromInternal(int(0, 10, { step: 3 }), 4.4), 3);
    assert.equal(fromInternal(int(0, 10, { step: 3 }), -5), 0);
    assert.equal(fromInternal(int(1, 100, { log: true }), Math.log(9.6)), 10);
    assert.equal(fromInternal(int(1, 100, { log: true }), Math.log(1000)), 100);
    const cat: Distribution = { type: 'categorical', choices: ['a', 'b', 'c'] };
    assert.deepEqual([-1, 0.4, 0.6, 2.4, 9].map((x) => fromInternal(cat, x)), ['a', 'a', 'b', 'c', 'c']);
    assert.throws(() => fromInternal(float(0, 1), Number.NaN), RangeError);
  });

  it('gives values that contains() accepts, for any internal number', () => {
    const rng = trialRandom(3, 0, 'fuzz');
    const ds = [float(-2, 3.3, { step: 0.7 }), float(0.001, 10, { log: true }), int(2, 50, { step: 4 }), int(1, 300, { log: true }), int(5, 5)];
    for (const d of ds) {
      for (let i = 0; i < 500; i++) {
        const span = d.type === 'categorical' ? 1 : d.log ? Math.log(d.high / d.low) : d.high - d.low;
        const base = d.type === 'categorical' ? 0 : d.log ? Math.log(d.low) : d.low;
        const x = base + span * (rng.next() * 1.4 - 0.2);
        const v = fromInternal(d, x);
        assert.ok(contains(d, v), `${describeDistribution(d)}: ${x} → ${v}`);
      }
    }
  });
});

describe('sameDistribution', () => {
  it('compares every field, choices in order', () => {
    assert.ok(sameDistribution(float(0, 1), float(0, 1)));
    assert.ok(!sameDistribution(float(0, 1), float(0, 2)));
    assert.ok(!sameDistribution(float(0.1, 1), float(0.1, 1, { log: true })));
    assert.ok(!sameDistribution(float(0, 1), float(0, 1, { step: 0.5 })));
    assert.ok(sameDistribution(float(0, 1), { type: 'float', low: 0, high: 1, log: false, step: undefined }));
    assert.ok(!sameDistribution(float(0, 10), int(0, 10)));
    assert.ok(!sameDistribution(int(0, 10), int(0, 10, { step: 2 })));
    assert.ok(sameDistribution({ type: 'categorical', choices: ['a', 1] }, { type: 'categorical', choices: ['a', 1] }));
    assert.ok(!sameDistribution({ type: 'categorical', choices: ['a', 'b'] }, { type: 'categorical', choices: ['b', 'a'] }));
    assert.ok(!sameDistribution({ type: 'categorical', choices: [1] }, { type: 'categorical', choices: ['1'] }));
    assert.ok(!sameDistribution({ type: 'categorical', choices: [0, 1] }, int(0, 1)));
  });
});

function frozen(number: number, state: TrialState, distributions: Record<string, Distribution>): FrozenTrial {
  return {
    id: number,
    number,
    state,
    value: state === 'COMPLETE' ? number : null,
    params: {},
    distributions,
    intermediate: {},
    userAttrs: {},
    systemAttrs: {},
    startedAt: 0,
    completedAt: null,
  };
}

describe('intersectionSearchSpace', () => {
  it('keeps the params every COMPLETE trial has with the same distribution, sorted', () => {
    const trials = [
      frozen(0, 'COMPLETE', { z: float(0, 1), lr: float(1e-4, 1, { log: true }), depth: int(1, 4), opt: { type: 'categorical', choices: ['a', 'b'] } }),
      frozen(1, 'RUNNING', { other: float(0, 1) }),
      frozen(2, 'COMPLETE', { lr: float(1e-4, 1, { log: true }), z: float(0, 1), depth: int(1, 8), opt: { type: 'categorical', choices: ['a', 'b'] }, extra: int(0, 1) }),
      frozen(3, 'FAIL', {}),
      frozen(4, 'PRUNED', { lr: float(0, 1) }),
    ];
    const space = intersectionSearchSpace(trials);
    assert.deepEqual(Object.keys(space), ['lr', 'opt', 'z']);
    assert.deepEqual(space.lr, float(1e-4, 1, { log: true }));
  });

  it('is empty before any trial completes', () => {
    assert.deepEqual(intersectionSearchSpace([]), {});
    assert.deepEqual(intersectionSearchSpace([frozen(0, 'RUNNING', { x: float(0, 1) })]), {});
  });
});

describe('trialRandom', () => {
  it('depends on seed, trial number and stream only', () => {
    const draw = (seed: number, n: number, s: string) => Array.from({ length: 3 }, ((r) => () => r.next())(trialRandom(seed, n, s)));
    assert.deepEqual(draw(1, 5, 'lr'), draw(1, 5, 'lr'));
    const streams = [draw(1, 5, 'lr'), draw(2, 5, 'lr'), draw(1, 6, 'lr'), draw(1, 5, 'lr2'), draw(1, 5, 'rl'), draw(1, 5, '#relative')];
    assert.equal(new Set(streams.map((s) => s[0])).size, streams.length);
  });

  it('gives independent-looking streams for consecutive trials', () => {
    const n = 4000;
    const first = Array.from({ length: n }, (_, i) => trialRandom(42, i, 'x').next());
    const mean = first.reduce((a, b) => a + b, 0) / n;
    assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
    let lag = 0;
    for (let i = 1; i < n; i++) lag += (first[i]! - 0.5) * (first[i - 1]! - 0.5);
    assert.ok(Math.abs(lag / (n - 1) / (1 / 12)) < 0.06, 'consecutive trials are uncorrelated');
  });
});
