import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

type AnyFn = (...args: unknown[]) => unknown;

/**
 * tfjs's chained tensor ops (x.flatten(), x.sign(), …) are registered by its
 * ESM entry, but Node loads the CommonJS bundle, which leaves them out; and
 * the ESM files cannot be imported in Node (directory imports). tfjs-layers
 * uses some (its orthogonal initializer, the default for LSTM and GRU
 * recurrent kernels, calls rMat.flatten().stridedSlice(…)), so without them
 * those layers fail to build. This puts back every chained op whose tfjs
 * function takes the tensor first, named after tfjs's own chained-op files.
 */
export function registerChainedOps(): number {
  const proto = (tf.Tensor as unknown as { prototype: Record<string, unknown> }).prototype;
  const ops = tf as unknown as Record<string, unknown>;
  let added = 0;
  const define = (name: string, fn: (this: tf.Tensor, ...args: unknown[]) => unknown) => {
    if (name in proto) return;
    Object.defineProperty(proto, name, { value: fn, writable: true, configurable: true });
    added++;
  };
  for (const name of chainedOpNames()) {
    const op = ops[name];
    if (typeof op === 'function') define(name, function (...args) { return (op as AnyFn)(this, ...args); });
  }
  // The few that are not "the op with the tensor first".
  define('flatten', function () { return tf.reshape(this, [this.size]); });
  define('asScalar', function () { return tf.reshape(this, []); });
  define('as1D', function () { return tf.reshape(this, [this.size]); });
  define('as2D', function (rows, cols) { return tf.reshape(this, [rows as number, cols as number]); });
  define('asType', function (dtype) { return tf.cast(this, dtype as tf.DataType); });
  define('toFloat', function () { return tf.cast(this, 'float32'); });
  define('toInt', function () { return tf.cast(this, 'int32'); });
  define('toBool', function () { return tf.cast(this, 'bool'); });
  return added;
}

/** Names of tfjs-core's chained ops, from its own files; a short list if they cannot be listed. */
function chainedOpNames(): string[] {
  try {
    const core = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-core/package.json'));
    return readdirSync(join(core, 'dist', 'public', 'chained_ops'))
      .filter((f) => f.endsWith('.js') && f !== 'register_all_chained_ops.js')
      // strided_slice.js → stridedSlice
      .map((f) => f.slice(0, -3).replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
  } catch {
    return ['abs', 'add', 'cast', 'clipByValue', 'concat', 'div', 'exp', 'gather', 'log', 'matMul', 'max', 'maximum', 'mean', 'min',
      'minimum', 'mul', 'neg', 'relu', 'reshape', 'sigmoid', 'sign', 'slice', 'sqrt', 'square', 'squeeze', 'stridedSlice', 'sub', 'sum',
      'tanh', 'tile', 'transpose'];
  }
}
