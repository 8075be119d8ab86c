import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DloptError, describeError } from '../errors.js';

/** The browser builds a report inlines, in load order (vega-embed needs the other two). */
const BUNDLES = [
  { pkg: 'vega', file: 'vega.min.js' },
  { pkg: 'vega-lite', file: 'vega-lite.min.js' },
  { pkg: 'vega-embed', file: 'vega-embed.min.js' },
] as const;

let cached: Promise<string[]> | undefined;

/**
 * The minified Vega, Vega-Lite and vega-embed builds, read from the installed
 * packages: the report inlines them so it opens offline. Their `exports` hide
 * package.json and the builds, so each is found next to the package's entry.
 */
export function vegaBundles(): Promise<string[]> {
  cached ??= Promise.all(
    BUNDLES.map(async ({ pkg, file }) => {
      let path = '';
      try {
        path = join(dirname(fileURLToPath(import.meta.resolve(pkg))), file);
        return await readFile(path, 'utf8');
      } catch (error) {
        cached = undefined;
        throw new DloptError(`cannot read the ${pkg} browser build (${path || pkg}): ${describeError(error)}; reinstall dlopt`, { cause: error });
      }
    }),
  );
  return cached;
}
