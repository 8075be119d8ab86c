import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { UsageError, describeError } from '../errors.js';
import { TrainConfigSchema, type TrainConfig } from './train-config.js';

/** Reads a YAML or JSON config file into a plain object (not yet validated). */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read config ${path}: ${describeError(error)}`);
  }
  if (extname(path).toLowerCase() === '.json') {
    try {
      return asObject(path, JSON.parse(text));
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`${path} is not valid JSON: ${describeError(error)}`);
    }
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const where = e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '';
    throw new UsageError(`${path} is not valid YAML${where}: ${e.message.split('\n')[0]}`);
  }
  return asObject(path, doc.toJS() ?? {});
}

function asObject(path: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${path} must hold a mapping of settings (key: value), not ${Array.isArray(value) ? 'a list' : typeof value}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Merges `overrides` (from flags) into `base` (from a file): nested objects
 * merge key by key, anything else replaces. Undefined overrides are skipped.
 */
export function mergeSettings(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const old = out[key];
    out[key] =
      isPlain(value) && isPlain(old) ? mergeSettings(old as Record<string, unknown>, value as Record<string, unknown>) : value;
  }
  return out;
}

function isPlain(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates settings into a resolved config; errors name the exact path of each bad value. */
export function parseTrainConfig(settings: Record<string, unknown>, source = 'config'): TrainConfig {
  const result = TrainConfigSchema.safeParse(settings);
  if (!result.success) throw new UsageError(formatIssues(source, result.error.issues));
  return result.data;
}

export function formatIssues(source: string, issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.slice(0, 8).map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      return `${path ? path + ': ' : ''}unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`;
    }
    return `${path || '(top level)'}: ${issue.message}`;
  });
  const more = issues.length > 8 ? `\n  … and ${issues.length - 8} more` : '';
  return `invalid ${source}:\n  ${lines.join('\n  ')}${more}`;
}
