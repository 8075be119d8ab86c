import { Random } from '../util/random.js';

/**
 * Runs `body` with Math.random replaced by a generator seeded with `seed`,
 * and puts the original back afterwards. tfjs-layers' Dropout (and any tfjs
 * random op called without a seed) draws its seed from Math.random, so
 * without this a model with dropout trains differently on every run, and a
 * resumed run cannot match an uninterrupted one. The training loop seeds each
 * step from (run seed, epoch, batch).
 */
export async function withSeededMathRandom<T>(seed: number, body: () => Promise<T>): Promise<T> {
  const original = Math.random;
  const rng = new Random(seed);
  Math.random = () => rng.next();
  try {
    return await body();
  } finally {
    Math.random = original;
  }
}
