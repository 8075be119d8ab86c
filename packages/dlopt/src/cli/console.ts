import pc from 'picocolors';

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
    process.stderr.write(pc.yellow(`warning: ${text}`) + '\n');
  },
  error(text: string): void {
    process.stderr.write(pc.red(`dlopt: error: ${text}`) + '\n');
  },
};

export const style = pc;

/** A word for a POSIX shell: as it is when it is safe, else single-quoted (commands the CLI suggests). */
export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
