import type { z } from 'zod';
import { TrainConfigSchema } from '../config/train-config.js';
import type { ParamValue } from '../tune/distributions.js';

/**
 * Search parameters are dotted paths into the training configuration
 * (`optimizer.lr`, `augment.mixup`, `batchSize`). These helpers check a path
 * against the training config's schema and set a value at a path.
 */

/** Settings every trial must share: the dataset is read once per process, the backend chosen once. */
const FIXED: Record<string, string> = {
  data: 'the dataset is read once for all trials',
  imageSize: 'the dataset is read once for all trials',
  backend: 'the backend is chosen once per process',
  checkpoint: 'it changes no result',
};

type Schema = z.core.$ZodType;
interface Def {
  type: string;
  innerType?: Schema;
  in?: Schema;
  options?: readonly Schema[];
  shape?: Record<string, Schema>;
}

const def = (s: Schema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The alternatives a schema accepts, with optional/default/union wrappers taken off. */
function alternatives(s: Schema): Schema[] {
  const d = def(s);
  switch (d.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return alternatives(d.innerType!);
    case 'pipe':
      return alternatives(d.in!);
    case 'union':
      return d.options!.flatMap(alternatives);
    default:
      return [s];
  }
}

const isObject = (s: Schema) => def(s).type === 'object';
const keysOf = (schemas: readonly Schema[]) => [...new Set(schemas.filter(isObject).flatMap((s) => Object.keys(def(s).shape!)))];

/** Why `path` cannot be searched (a message to follow the path), or undefined when it names a single setting of the training config. */
export function checkSearchPath(path: string): string | undefined {
  const parts = path.split('.');
  if (parts.some((p) => p === '')) return "not a dotted path of the training config (e.g. optimizer.lr)";
  if (parts.length === 1 && Object.hasOwn(FIXED, parts[0]!)) return `cannot be searched: ${FIXED[parts[0]!]}`;
  let current: Schema[] = [TrainConfigSchema];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const where = i === 0 ? 'the training config' : parts.slice(0, i).join('.');
    const objects = current.filter(isObject);
    if (objects.length === 0) return `${where} is a single value, it has no setting "${part}"`;
    const next = objects.flatMap((s) => {
      const shape = def(s).shape!;
      return Object.hasOwn(shape, part) ? alternatives(shape[part]!) : [];
    });
    if (next.length === 0) return `${where} has no setting "${part}" (it has ${keysOf(objects).join(', ')})`;
    current = next;
  }
  if (current.every(isObject)) {
    return `a group of settings; search one of them: ${keysOf(current).map((k) => `${path}.${k}`).join(', ')}`;
  }
  const single = current.filter((s) => !['tuple', 'array', 'object'].includes(def(s).type));
  if (single.length === 0) return `takes a list; only single values (numbers, names, true/false) can be searched`;
  return undefined;
}

/**
 * Sets `value` at the dotted `path` of `settings` (changed in place):
 * missing groups are created, and a group given as a plain value (an
 * augmentation given as `true`) becomes an object. `null` removes the setting,
 * so the default applies.
 */
export function setAtPath(settings: Record<string, unknown>, path: string, value: ParamValue): void {
  const parts = path.split('.');
  let node = settings;
  for (const part of parts.slice(0, -1)) {
    const child = node[part];
    if (typeof child !== 'object' || child === null || Array.isArray(child)) {
      if (value === null && child === undefined) return;
      node[part] = {};
    }
    node = node[part] as Record<string, unknown>;
  }
  const last = parts.at(-1)!;
  if (value === null) delete node[last];
  else node[last] = value;
}
