import pc from 'picocolors';

/**
 * Whether text written to `stream` may carry colour. NO_COLOR wins, then
 * FORCE_COLOR, then whether the stream is a terminal. Unlike picocolors'
 * default, a `CI` variable alone does not turn colour on: escape codes in a
 * piped table (`dlopt study show > trials.txt`) or a CI log are noise.
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** Styles for text bound for stdout (results) and for stderr (progress, warnings, errors). */
export const style = pc.createColors(colorEnabled(process.stdout));
export const errStyle = pc.createColors(colorEnabled(process.stderr));

/**
 * Where the CLI writes: progress, notes and warnings go to stderr; results
 * (final metrics, --json output, tables asked for) go to stdout, so they can
 * be piped.
 */
export const out = {
  result(text: string): void {
    process.stdout.write(text + '\n');
  },
  info(text: string): void {
    process.stderr.write(text + '\n');
  },
  warn(text: string): void {
    process.stderr.write(errStyle.yellow(`warning: ${text}`) + '\n');
  },
  error(text: string): void {
    process.stderr.write(errStyle.red(`dlopt: error: ${text}`) + '\n');
  },
};

/** A word for a POSIX shell: as it is when it is safe, else single-quoted (commands the CLI suggests). */
export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
