/**
 * Errors a user can act on. The CLI prints their message (no stack trace) and
 * exits non-zero; anything else that escapes is treated as a bug in dlopt.
 */
export class DloptError extends Error {
  override readonly name: string = 'DloptError';
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Bad flags or values on the command line; exit code 2 like other CLI tools. */
export class UsageError extends DloptError {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super(message, { exitCode: 2 });
  }
}

/** Data on disk is missing, malformed or does not fit the request. */
export class DataError extends DloptError {
  override readonly name = 'DataError';
}

/** Training diverged (NaN or infinite loss). */
export class TrainingDivergedError extends DloptError {
  override readonly name = 'TrainingDivergedError';
}

/** The message of any thrown value, for wrapping low-level errors (fs, zlib, sharp). */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
