import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
// Registers tfjs's gradients (minimize needs them), as in training.
import '@tensorflow/tfjs-layers';
import { initBackend } from '../../backend/backend.js';
import { OPTIMIZER_NAMES, createOptimizer, type OptimizerName } from './create-optimizer.js';
import { TrainingOptimizer } from './training-optimizer.js';

const f32 = Math.fround;

/** A variable holding `values` (float32) in `shape`. */
function variable(values: number[], shape: number[]): tf.Variable {
  return tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32')));
}

/** Applies one step of the gradients given per variable (array form, as tfjs-layers's minimize does it by name). */
function step(opt: tf.Optimizer, pairs: [tf.Variable, number[]][]): void {
  const grads = pairs.map(([v, g]) => ({ name: v.name, tensor: tf.tensor(g, v.shape, 'float32') }));
  try {
    opt.applyGradients(grads);
  } finally {
    tf.dispose(grads.map((g) => g.tensor));
  }
}

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

function assertClose(actual: number[], expected: number[], tolerance: number, what = ''): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((a, i) =>
    assert.ok(Math.abs(a - expected[i]!) <= tolerance, `${what}[${i}]: ${a} should be ${expected[i]} (± ${tolerance})`),
  );
}

const W0 = [0.5, -1.25, 3.1, 0.003, -7.7, 2.2];
const B0 = [0.3, -0.7, 1.1];
const G = [0.25, -0.5, 1.5, -2, 0.125, 3];

/** Which backends to run on: cpu always, native when its addon loaded. */
const BACKENDS = ['cpu', ...((await initBackend('cpu')).available.includes('native') ? ['native'] : [])];

for (const backend of BACKENDS) {
  describe(`TrainingOptimizer (${backend})`, () => {
    before(async () => {
      await initBackend(backend);
    });
    after(async () => {
      await initBackend('cpu');
    });

    describe('decoupled weight decay', () => {
      it('with a zero gradient shrinks a rank-2 variable by exactly (1 − ηλ) and leaves a bias untouched', () => {
        const w = variable(W0, [2, 3]);
        const b = variable(B0, [3]);
        const k = variable([1, -2, 3, -4], [1, 1, 2, 2]);
        const opt = new TrainingOptimizer(tf.train.sgd(0.1), { weightDecay: 0.01 });
        step(opt, [[w, [0, 0, 0, 0, 0, 0]], [b, [0, 0, 0]], [k, [0, 0, 0, 0]]]);
        const factor = f32(1 - 0.1 * 0.01);
        assert.deepEqual(values(w), W0.map((x) => f32(f32(x) * factor)));
        assert.deepEqual(values(b), B0.map(f32), 'rank-1 variables are not decayed');
        assert.deepEqual(values(k), [1, -2, 3, -4].map((x) => f32(x * factor)), 'rank-4 kernels are decayed');
        tf.dispose([w, b, k]);
        opt.dispose();
      });

      it('with a real gradient and SGD: w0·(1 − ηλ) − η·g, decay applied to the weights before the step', () => {
        const w = variable(W0, [2, 3]);
        const b = variable(B0, [3]);
        const opt = new TrainingOptimizer(tf.train.sgd(0.1), { weightDecay: 0.05 });
        // Map form this time: tfjs-layers's minimize hands gradients over by name.
        const grads = { [w.name]: tf.tensor(G, [2, 3]), [b.name]: tf.tensor(G.slice(0, 3), [3]) };
        opt.applyGradients(grads);
        tf.dispose(Object.values(grads));
        const factor = f32(1 - 0.1 * 0.05);
        const c = f32(-0.1);
        // Float32, in tfjs's order of operations: (w·factor) + (−η·g).
        assert.deepEqual(values(w), W0.map((x, i) => f32(f32(f32(x) * factor) + f32(c * f32(G[i]!)))));
        assertClose(values(w), W0.map((x, i) => x * (1 - 0.1 * 0.05) - 0.1 * G[i]!), 1e-6, 'formula');
        assert.deepEqual(values(b), B0.map((x, i) => f32(f32(x) + f32(c * f32(G[i]!)))), 'bias: plain SGD');
        tf.dispose([w, b]);
        opt.dispose();
      });

      it('uses the learning rate in effect at the step', () => {
        const w = variable(W0, [2, 3]);
        const opt = new TrainingOptimizer(tf.train.sgd(0.1), { weightDecay: 0.5 });
        opt.learningRate = 0.2;
        step(opt, [[w, [0, 0, 0, 0, 0, 0]]]);
        assert.deepEqual(values(w), W0.map((x) => f32(f32(x) * f32(1 - 0.2 * 0.5))));
        tf.dispose(w);
        opt.dispose();
      });

      it('adamw decays outside Adam: a zero gradient gives exactly w0·(1 − η·0.01)', () => {
        const w = variable(W0, [2, 3]);
        const opt = createOptimizer({ name: 'adamw', learningRate: 0.1 });
        step(opt, [[w, [0, 0, 0, 0, 0, 0]]]);
        // An L2 penalty through Adam would move every weight by about η = 0.1 instead.
        assert.deepEqual(values(w), W0.map((x) => f32(f32(x) * f32(1 - 0.1 * 0.01))));
        tf.dispose(w);
        opt.dispose();
      });

      it('adamw − adam after the same step is −ηλ·w0', () => {
        const a = variable(W0, [2, 3]);
        const aw = variable(W0, [2, 3]);
        const adam = createOptimizer({ name: 'adam', learningRate: 0.1 });
        const adamw = createOptimizer({ name: 'adamw', learningRate: 0.1, weightDecay: 0.02 });
        step(adam, [[a, G]]);
        step(adamw, [[aw, G]]);
        const diff = values(aw).map((x, i) => x - values(a)[i]!);
        assertClose(diff, W0.map((x) => -0.1 * 0.02 * x), 2e-6, 'adamw − adam');
        tf.dispose([a, aw]);
        adam.dispose();
        adamw.dispose();
      });
    });

    describe('gradient clipping', () => {
      it('clipNorm rescales all gradients together by clipNorm / global norm', () => {
        const a = variable([0, 0], [2]);
        const b = variable([0, 0], [1, 2]);
        const opt = new TrainingOptimizer(tf.train.sgd(1), { clipNorm: 1 });
        const ga = tf.tensor([6, 0], [2]);
        const gb = tf.tensor([0, 8], [1, 2]);
        // Global norm √(36 + 64) = 10: each gradient is scaled by 0.1 (not clipped on its own: 6 → 1 and 8 → 1).
        opt.applyGradients([{ name: a.name, tensor: ga }, { name: b.name, tensor: gb }]);
        assertClose(values(a), [-0.6, 0], 1e-6, 'a');
        assertClose(values(b), [0, -0.8], 1e-6, 'b');
        assert.ok(!ga.isDisposed && !gb.isDisposed, "the caller's gradients stay alive");
        assert.deepEqual(values(ga), [6, 0], "the caller's gradients are not modified");
        tf.dispose([a, b, ga, gb]);
        opt.dispose();
      });

      it('clipNorm leaves gradients whose global norm is below it untouched', () => {
        const a = variable([0, 0], [2]);
        const b = variable([0, 0], [1, 2]);
        const opt = new TrainingOptimizer(tf.train.sgd(1), { clipNorm: 10.5 });
        step(opt, [[a, [6, 0]], [b, [0, 8]]]);
        assert.deepEqual(values(a), [-6, 0]);
        assert.deepEqual(values(b), [0, -8]);
        tf.dispose([a, b]);
        opt.dispose();
      });

      it('clipValue clamps each element to [−clipValue, clipValue]', () => {
        const a = variable([0, 0, 0, 0, 0], [5]);
        const opt = new TrainingOptimizer(tf.train.sgd(1), { clipValue: 0.5 });
        step(opt, [[a, [-2, 0.1, 3, -0.3, 0.5]]]);
        assert.deepEqual(values(a), [0.5, -0.1, -0.5, 0.3, -0.5].map(f32));
        tf.dispose(a);
        opt.dispose();
      });

      it('clipValue and clipNorm together both hold', () => {
        const a = variable([0, 0], [2]);
        const opt = new TrainingOptimizer(tf.train.sgd(1), { clipValue: 1, clipNorm: 1 });
        step(opt, [[a, [3, 4]]]);
        const d = values(a);
        assert.ok(d.every((x) => Math.abs(x) <= 1 + 1e-7), `elements ${d} within clipValue`);
        assert.ok(Math.hypot(...d) <= 1 + 1e-6, `norm ${Math.hypot(...d)} within clipNorm`);
        tf.dispose(a);
        opt.dispose();
      });

      it('rejects non-positive clip thresholds and negative weight decay', () => {
        const inner = tf.train.sgd(0.1);
        assert.throws(() => new TrainingOptimizer(inner, { clipNorm: 0 }), /clipNorm must be > 0/);
        assert.throws(() => new TrainingOptimizer(inner, { clipValue: -1 }), /clipValue must be > 0/);
        assert.throws(() => new TrainingOptimizer(inner, { weightDecay: -0.1 }), /weightDecay must be >= 0/);
        assert.throws(() => new TrainingOptimizer(inner, { weightDecay: Number.NaN }), RangeError);
        inner.dispose();
      });
    });

    describe('learningRate setter', () => {
      /** First-step delta for `name` created at rate `lr`, or created at 0.1 and then set to `lr`. */
      function firstDelta(name: OptimizerName, lr: number, viaSetter: boolean): number[] {
        const opt = createOptimizer({ name, learningRate: viaSetter ? 0.1 : lr });
        if (viaSetter) opt.learningRate = lr;
        assert.equal(opt.learningRate, lr);
        const w = variable([0, 0, 0], [3]);
        step(opt, [[w, [1, -2, 0.5]]]);
        const d = values(w);
        tf.dispose(w);
        opt.dispose();
        return d;
      }

      for (const name of ['sgd', 'momentum', 'adam', 'rmsprop'] as const) {
        it(`${name}: setting the rate gives the same step as creating the optimizer with it`, () => {
          const set = firstDelta(name, 0.4, true);
          const created = firstDelta(name, 0.4, false);
          const original = firstDelta(name, 0.1, false);
          assertClose(set, created, 1e-7, 'set vs created');
          assertClose(set, original.map((x) => 4 * x), 1e-6, 'four times the step at 0.1');
        });
      }

      it('sgd: a change after steps refreshes the cached −lr tensor', () => {
        const opt = createOptimizer({ name: 'sgd', learningRate: 0.1 });
        const w = variable([0, 0], [2]);
        step(opt, [[w, [1, -2]]]);
        opt.learningRate = 0.01;
        const c = (opt.inner as unknown as { c: tf.Scalar }).c;
        assert.equal(c.dataSync()[0], f32(-0.01));
        step(opt, [[w, [1, -2]]]);
        assertClose(values(w), [-0.11, 0.22], 1e-7, 'w after 0.1 then 0.01');
        tf.dispose(w);
        opt.dispose();
      });

      it('momentum, adam, rmsprop: a change after a step scales the next step', () => {
        const g = [1, -2];
        const second = (name: OptimizerName) => {
          const opt = createOptimizer({ name, learningRate: 0.1 });
          const w = variable([0, 0], [2]);
          step(opt, [[w, g]]);
          const first = values(w);
          opt.learningRate = 0.01;
          step(opt, [[w, g]]);
          const d = values(w).map((x, i) => x - first[i]!);
          tf.dispose(w);
          opt.dispose();
          return d;
        };
        // Momentum: accumulation 0.9·g + g = 1.9·g.
        assertClose(second('momentum'), g.map((x) => -0.01 * 1.9 * x), 1e-7, 'momentum');
        // Adam with the same gradient twice: m̂ = g, v̂ = g², the step is η·sign(g).
        assertClose(second('adam'), g.map((x) => -0.01 * Math.sign(x)), 1e-6, 'adam');
        // RMSProp (decay 0.9): mean square 0.9·0.1·g² + 0.1·g² = 0.19·g².
        assertClose(second('rmsprop'), g.map((x) => (-0.01 * x) / Math.sqrt(0.19 * x * x)), 1e-6, 'rmsprop');
      });
    });

    describe('state', () => {
      it('getWeights/setWeights delegate to the inner optimizer: Adam moments round-trip', async () => {
        const grads = [[0.3, -1, 2, 0.5], [-0.2, 0.4, 1, -3], [1, 1, -1, 0.25]];
        const a = createOptimizer({ name: 'adam', learningRate: 0.01 });
        const wa = variable([1, 2, 3, 4], [2, 2]);
        step(a, [[wa, grads[0]!]]);
        step(a, [[wa, grads[1]!]]);
        const saved = await a.getWeights();
        const inner = await a.inner.getWeights();
        assert.deepEqual(saved.map((w) => w.name), inner.map((w) => w.name));
        assert.deepEqual(saved.map((w) => w.name), ['iter', `${wa.name}/m`, `${wa.name}/v`]);
        assert.equal(saved[0]!.tensor.dataSync()[0], 2, 'two iterations');

        // A fresh optimizer given the saved state continues exactly as the original.
        const b = createOptimizer({ name: 'adam', learningRate: 0.01 });
        const wb = tf.variable(wa.clone());
        await b.setWeights(saved);
        // Without the state, Adam's next step is different.
        const c = createOptimizer({ name: 'adam', learningRate: 0.01 });
        const wc = tf.variable(wa.clone());
        step(a, [[wa, grads[2]!]]);
        step(b, [[wb, grads[2]!]]);
        step(c, [[wc, grads[2]!]]);
        // (Up to rounding: tfjs's setWeights recomputes β^t with pow instead of repeated products.)
        assertClose(values(wb), values(wa), 1e-6, 'restored state');
        const apart = Math.max(...values(wc).map((x, i) => Math.abs(x - values(wa)[i]!)));
        assert.ok(apart > 1e-3, `without the state the step differs (by ${apart})`);
        tf.dispose([wa, wb, wc, saved[0]!.tensor, inner[0]!.tensor]);
        a.dispose();
        b.dispose();
        c.dispose();
      });

      it('getConfig is the inner optimizer\'s', () => {
        const opt = createOptimizer({ name: 'momentum', learningRate: 0.05, momentum: 0.8 });
        assert.deepEqual(opt.getConfig(), opt.inner.getConfig());
        assert.equal(opt.getConfig().learningRate, 0.05);
        opt.dispose();
      });
    });

    it('leaks no tensors over 10 steps (decay, clipping, every optimizer)', () => {
      for (const name of OPTIMIZER_NAMES) {
        const w = variable(W0, [2, 3]);
        const b = variable(B0, [3]);
        const opt = createOptimizer({ name, learningRate: 0.01, weightDecay: 0.1, clipNorm: 0.5, clipValue: 0.2 });
        const loss = () => tf.add(tf.sum(tf.square(w)), tf.sum(tf.square(b))) as tf.Scalar;
        opt.minimize(loss, false, [w, b]); // creates the optimizer's state
        const before = tf.memory().numTensors;
        for (let i = 0; i < 10; i++) {
          opt.learningRate = 0.01 / (i + 1); // schedules set the rate every step
          opt.minimize(loss, false, [w, b]);
        }
        assert.equal(tf.memory().numTensors, before, `${name}: tensors after 10 steps`);
        opt.dispose();
        tf.dispose([w, b]);
      }
    });
  });
}

describe('createOptimizer', () => {
  before(async () => {
    await initBackend('cpu');
  });

  const className = (o: TrainingOptimizer) => o.inner.getClassName();
  const field = (o: TrainingOptimizer, key: string) => (o.inner as unknown as Record<string, unknown>)[key];

  it('instanceof TrainingOptimizer is a real class check, not tfjs\'s duck typing', () => {
    const plain = tf.train.sgd(0.1);
    const ours = createOptimizer({ name: 'sgd', learningRate: 0.1 });
    assert.equal(plain instanceof TrainingOptimizer, false, 'a plain tfjs optimizer is not one (fitModel would drive it as one)');
    assert.equal(ours instanceof TrainingOptimizer, true);
    assert.equal(ours instanceof tf.Optimizer, true, 'still a tf.Optimizer for tfjs-layers');
    assert.equal(plain instanceof tf.Optimizer, true);
    plain.dispose();
    ours.dispose();
  });

  it('builds each named optimizer inside a TrainingOptimizer', () => {
    const expected: Record<OptimizerName, string> = {
      adam: 'Adam', adamw: 'Adam', sgd: 'SGD', sgdw: 'Momentum', momentum: 'Momentum', rmsprop: 'RMSProp',
    };
    for (const name of OPTIMIZER_NAMES) {
      const opt = createOptimizer({ name, learningRate: 0.02 });
      assert.ok(opt instanceof TrainingOptimizer);
      assert.equal(className(opt), expected[name], name);
      assert.equal(opt.learningRate, 0.02, name);
      assert.equal(opt.clipNorm, undefined);
      assert.equal(opt.clipValue, undefined);
      opt.dispose();
    }
  });

  it('defaults weight decay: adamw 0.01, sgdw 5e-4 with momentum 0.9, the others 0', () => {
    const wd = (name: OptimizerName, weightDecay?: number) => {
      const opt = createOptimizer({ name, learningRate: 0.1, ...(weightDecay !== undefined && { weightDecay }) });
      const value = opt.weightDecay;
      opt.dispose();
      return value;
    };
    assert.equal(wd('adamw'), 0.01);
    assert.equal(wd('sgdw'), 5e-4);
    for (const name of ['adam', 'sgd', 'momentum', 'rmsprop'] as const) assert.equal(wd(name), 0, name);
    assert.equal(wd('adamw', 0), 0, 'an explicit 0 turns adamw decay off');
    assert.equal(wd('sgdw', 1e-3), 1e-3);
    assert.equal(wd('adam', 0.02), 0.02);

    const sgdw = createOptimizer({ name: 'sgdw', learningRate: 0.1 });
    assert.equal(field(sgdw, 'momentum'), 0.9);
    assert.equal(field(sgdw, 'useNesterov'), false);
    sgdw.dispose();
  });

  it('passes momentum, nesterov, betas, epsilon and clipping through', () => {
    const m = createOptimizer({ name: 'momentum', learningRate: 0.1, momentum: 0.5, nesterov: true, clipNorm: 2, clipValue: 3 });
    assert.equal(field(m, 'momentum'), 0.5);
    assert.equal(field(m, 'useNesterov'), true);
    assert.equal(m.clipNorm, 2);
    assert.equal(m.clipValue, 3);
    m.dispose();
    const r = createOptimizer({ name: 'rmsprop', learningRate: 0.1 });
    assert.equal(field(r, 'momentum'), 0);
    r.dispose();
    const a = createOptimizer({ name: 'adam', learningRate: 0.1, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 });
    assert.deepEqual([field(a, 'beta1'), field(a, 'beta2'), field(a, 'epsilon')], [0.8, 0.99, 1e-6]);
    a.dispose();
  });

  it('rejects a learning rate that is not > 0 and an unknown name', () => {
    for (const lr of [0, -0.1, Number.NaN]) {
      assert.throws(() => createOptimizer({ name: 'adam', learningRate: lr }), (e: unknown) => e instanceof RangeError && /learning rate must be > 0/.test(e.message));
    }
    assert.throws(() => createOptimizer({ name: 'lion' as OptimizerName, learningRate: 0.1 }), /unknown optimizer "lion"; choose one of adam, adamw/);
  });
});
