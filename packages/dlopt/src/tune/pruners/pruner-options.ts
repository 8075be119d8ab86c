import { UsageError } from '../../errors.js';

// Pruner options reach us from YAML and JSON as well as from typed code, so
// every value is checked at run time and named in the message, as the user
// wrote it.

/** Rejects anything but a plain object, and keys the pruner does not know (a typo would otherwise be ignored silently). */
export function checkOptionKeys(owner: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new UsageError(`${owner}: options must be an object but got ${describe(options)}`);
  }
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    const list = known.length > 0 ? `; known options: ${known.join(', ')}` : '; it takes no options';
    throw new UsageError(`${owner}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}${list}`);
  }
  return options as Record<string, unknown>;
}

/** An integer ≥ `min`, or `fallback` when absent. */
export function integerOption(owner: string, name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new UsageError(`${owner}: ${name} must be an integer ≥ ${min} but got ${describe(value)}`);
  }
  return value;
}

/** A number (not NaN) within [min, max], or `fallback` when absent. */
export function numberOption(
  owner: string,
  name: string,
  value: unknown,
  fallback: number,
  range: { min?: number; max?: number } = {},
): number {
  if (value === undefined) return fallback;
  const min = range.min ?? -Infinity;
  const max = range.max ?? Infinity;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    const bounds =
      range.min !== undefined && range.max !== undefined
        ? ` in [${min}, ${max}]`
        : range.min !== undefined
          ? ` ≥ ${min}`
          : range.max !== undefined
            ? ` ≤ ${max}`
            : '';
    throw new UsageError(`${owner}: ${name} must be a number${bounds} but got ${describe(value)}`);
  }
  return value;
}

/** 'auto' or an integer ≥ `min`. */
export function autoOrIntegerOption(owner: string, name: string, value: unknown, fallback: 'auto' | number, min: number): 'auto' | number {
  if (value === 'auto') return value;
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new UsageError(`${owner}: ${name} must be 'auto' or an integer ≥ ${min} but got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : typeof value;
}
