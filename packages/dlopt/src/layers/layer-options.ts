import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { UsageError, describeError } from '../errors.js';
import { deriveSeed } from '../util/random.js';

/**
 * The option checks and conversions dlopt's layers share. Each takes `what`,
 * the layer and option as the user wrote them ('GroupedConv2D: filters'), so
 * that a message says which setting of which layer is wrong and what it was.
 */

export type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
export type Initializer = ReturnType<typeof tfl.initializers.ones>;
export type Regularizer = ReturnType<typeof tfl.regularizers.l1l2>;
export type Constraint = ReturnType<typeof tfl.constraints.nonNeg>;
/** A name ('heNormal'), an instance, or its serialized form ({ className, config }, as in model.json). */
export type Identifier<T> = string | T | tf.serialization.ConfigDict;

/** The arguments of the layers that take a `seed`: each of their weights starts from the kernel or the bias initializer. */
export interface SeededLayerArgs extends Pick<LayerArgs, 'name' | 'trainable' | 'inputShape' | 'batchInputShape'> {
  /** Default glorotUniform. */
  kernelInitializer?: Identifier<Initializer>;
  /** Default zeros. */
  biasInitializer?: Identifier<Initializer>;
  /**
   * Makes the initial weights reproducible: each weight's initializer gets
   * its own seed derived from this one (see seededInitializer).
   */
  seed?: number;
  dtype?: 'float32';
}

// tfjs-layers exports neither the base classes nor its getInitializer /
// getRegularizer / getConstraint, so they are found through the classes it
// does export; the base is what tells an initializer from the layers and
// other classes that share the serialization registry.
type AbstractClass<T> = abstract new (...args: never[]) => T;
interface Kind<T> {
  base: AbstractClass<T>;
  noun: string;
}
const baseOf = <T extends object>(instance: T): AbstractClass<T> => Object.getPrototypeOf(instance.constructor) as AbstractClass<T>;
const INITIALIZER: Kind<Initializer> = { base: baseOf(tfl.initializers.zeros()), noun: 'initializer' };
const REGULARIZER: Kind<Regularizer> = { base: baseOf(tfl.regularizers.l1l2()), noun: 'regularizer' };
const CONSTRAINT: Kind<Constraint> = { base: baseOf(tfl.constraints.nonNeg()), noun: 'constraint' };
// Names whose class is not the capitalised name (as in tfjs-layers' own lookups).
const ALIASES: Record<string, string> = { l1l2: 'L1L2' };

export function resolveInitializer(id: Identifier<Initializer>, what: string): Initializer {
  return resolve(id, INITIALIZER, what);
}

/** null when the option is absent (undefined or null): the layer then has no regularizer. */
export function resolveRegularizer(id: Identifier<Regularizer> | null | undefined, what: string): Regularizer | null {
  return id === undefined || id === null ? null : resolve(id, REGULARIZER, what);
}

/** null when the option is absent (undefined or null): the layer then has no constraint. */
export function resolveConstraint(id: Identifier<Constraint> | null | undefined, what: string): Constraint | null {
  return id === undefined || id === null ? null : resolve(id, CONSTRAINT, what);
}

/** The { className, config } form getConfig writes, which the resolve functions read back. */
export function serializeOption(value: tf.serialization.Serializable): tf.serialization.ConfigDict;
export function serializeOption(value: tf.serialization.Serializable | null): tf.serialization.ConfigDict | null;
export function serializeOption(value: tf.serialization.Serializable | null): tf.serialization.ConfigDict | null {
  return value === null ? null : { className: value.getClassName(), config: value.getConfig() };
}

/**
 * The same initializer with a seed derived from the layer's for weight number
 * `stream`, so that weights of one layer do not start identical; unchanged
 * without a seed.
 */
export function seededInitializer(init: Initializer, seed: number | undefined, stream: number): Initializer {
  if (seed === undefined) return init;
  const className = init.getClassName();
  return instantiate(className, { ...init.getConfig(), seed: deriveSeed(seed, stream) }, INITIALIZER, 'the initializer to seed', className);
}

function resolve<T>(id: Identifier<T>, kind: Kind<T>, what: string): T {
  if (id instanceof kind.base) return id;
  if (typeof id === 'string') return instantiate(ALIASES[id] ?? id.charAt(0).toUpperCase() + id.slice(1), {}, kind, what, id);
  if (id !== null && typeof id === 'object' && typeof (id as tf.serialization.ConfigDict).className === 'string') {
    const dict = id as tf.serialization.ConfigDict;
    return instantiate(dict.className as string, (dict.config ?? {}) as tf.serialization.ConfigDict, kind, what, dict);
  }
  throw new UsageError(`${what} must be a name, an instance or a { className, config } object but got ${formatValue(id)}`);
}

/** `id` is what the user gave, for the message when className is not of this kind. */
function instantiate<T>(className: string, config: tf.serialization.ConfigDict, kind: Kind<T>, what: string, id: unknown): T {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (!entry || !(entry[0].prototype instanceof kind.base)) {
    const names = registeredNames(kind).map((name) => (typeof id === 'string' ? camelCase(name) : name));
    throw new UsageError(`${what} ${formatValue(id)} is not a registered ${kind.noun}; use one of ${names.join(', ')}`);
  }
  try {
    // fromConfig may add keys to the config it is given: give it a copy.
    return entry[1](entry[0], { ...config }) as T;
  } catch (error) {
    throw new UsageError(`${what} ${JSON.stringify(className)} with config ${JSON.stringify(config)}: ${describeError(error)}`);
  }
}

// Read when needed rather than once: classes registered later (custom initializers) count too.
function registeredNames<T>(kind: Kind<T>): string[] {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  return Object.keys(map).filter((name) => map[name]![0].prototype instanceof kind.base);
}

function camelCase(className: string): string {
  return Object.keys(ALIASES).find((alias) => ALIASES[alias] === className) ?? className.charAt(0).toLowerCase() + className.slice(1);
}

export function positiveInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new UsageError(`${what} must be a positive integer but got ${formatValue(value)}`);
  }
  return value;
}

/** undefined when the option is absent (undefined, or null as a config may hold). */
export function optionalPositiveInteger(value: unknown, what: string): number | undefined {
  return value === undefined || value === null ? undefined : positiveInteger(value, what);
}

/** For seeds: any integer, or undefined when absent (undefined or null). */
export function optionalInteger(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new UsageError(`${what} must be an integer but got ${formatValue(value)}`);
  return value;
}

/** The shape of a layer that takes one input; tfjs may hand it over as a list of one. */
export function singleShape(inputShape: tfl.Shape | tfl.Shape[], layer: string): tfl.Shape {
  if (!Array.isArray(inputShape[0])) return inputShape as tfl.Shape;
  if (inputShape.length !== 1) throw new UsageError(`${layer} takes one input but got ${inputShape.length}`);
  return inputShape[0] as tfl.Shape;
}

/** The tensor of a layer that takes one input; tfjs may hand it over as a list of one. */
export function singleTensor(inputs: tf.Tensor | tf.Tensor[], layer: string): tf.Tensor {
  if (!Array.isArray(inputs)) return inputs;
  if (inputs.length !== 1) throw new UsageError(`${layer} takes one input but got ${inputs.length}`);
  return inputs[0]!;
}

/** '[null, 4, 3]': unknown dimensions as null, as tfjs writes them. */
export function formatShape(shape: readonly (number | null | undefined)[]): string {
  return `[${shape.map((d) => d ?? 'null').join(', ')}]`;
}

/** A value as the user would have written it: strings quoted, and NaN or Infinity not turned into null as JSON would. */
export function formatValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
