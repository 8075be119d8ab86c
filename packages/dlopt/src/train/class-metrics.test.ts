import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classAccuracyChanges, classMetrics } from './class-metrics.js';

describe('classMetrics', () => {
  const names = ['cat', 'dog', 'ship'];

  it('accuracy per true class (rows), precision per predicted class (columns), the most common mistake', () => {
    const confusion = [
      [6, 3, 1], // cat: 6 of 10 right, 3 called dog
      [2, 8, 0], // dog: 8 of 10
      [0, 0, 5], // ship: all 5
    ];
    const m = classMetrics(confusion, names);
    assert.deepEqual(m.map((c) => c.images), [10, 10, 5]);
    assert.deepEqual(m.map((c) => c.accuracy), [0.6, 0.8, 1]);
    assert.deepEqual(m.map((c) => c.precision), [6 / 8, 8 / 11, 5 / 6]);
    assert.deepEqual(m[0]!.mistakenFor, { name: 'dog', share: 0.3 });
    assert.deepEqual(m[1]!.mistakenFor, { name: 'cat', share: 0.2 });
    assert.equal(m[2]!.mistakenFor, null, 'a class never mistaken has no mistake');
  });

  it('a class with no images has no accuracy; a class never predicted has no precision', () => {
    const m = classMetrics([[4, 0, 0], [3, 0, 0], [0, 0, 0]], names);
    assert.equal(m[2]!.accuracy, null);
    assert.equal(m[1]!.accuracy, 0);
    assert.equal(m[1]!.precision, null);
    assert.equal(m[2]!.precision, null);
    assert.deepEqual(m[1]!.mistakenFor, { name: 'cat', share: 1 });
  });

  it('ties go to the first class', () => {
    assert.equal(classMetrics([[0, 2, 2], [0, 1, 0], [0, 0, 1]], names)[0]!.mistakenFor!.name, 'dog');
  });

  it('a matrix that does not match the class names is an error', () => {
    assert.throws(() => classMetrics([[1, 0], [0, 1]], names), /3×3/);
    assert.throws(() => classMetrics([[1, 0, 0], [0, 1], [0, 0, 1]], names), /3×3/);
  });
});

describe('classAccuracyChanges', () => {
  const names = ['cat', 'dog'];

  it('each class before and after on the same images, and the change', () => {
    const changes = classAccuracyChanges([[8, 2], [1, 9]], [[5, 5], [0, 10]], names);
    assert.deepEqual(changes.map((c) => [c.name, c.images, c.before, c.after]), [
      ['cat', 10, 0.8, 0.5],
      ['dog', 10, 0.9, 1],
    ]);
    assert.ok(Math.abs(changes[0]!.change! + 0.3) < 1e-12);
    assert.ok(Math.abs(changes[1]!.change! - 0.1) < 1e-12);
  });

  it('a class without images has no change; matrices over different images are an error', () => {
    assert.equal(classAccuracyChanges([[1, 0], [0, 0]], [[0, 1], [0, 0]], names)[1]!.change, null);
    assert.throws(() => classAccuracyChanges([[1, 0], [0, 1]], [[2, 0], [0, 1]], names), /'cat' has 1 images before and 2 after/);
  });
});
