/**
 * A mistake in what the user asked for (a bad option, an unknown plugin, a missing file). The CLI
 * prints its message without a stack trace and exits with code 2.
 */
export class UsageError extends Error {
  readonly exitCode = 2;
  /** The file the mistake is in, where one is known. */
  readonly file?: string;
  /** The dotted path of the field, where one is known (`train.lr`). */
  readonly field?: string;

  constructor(message: string, where: { file?: string; field?: string } = {}) {
    super(message);
    this.name = 'UsageError';
    this.file = where.file;
    this.field = where.field;
  }
}

/** The message of a thrown value (an Error's `message`, anything else as a string), for logs and run.json. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A run that started but could not finish (diverged, an analysis threw). The CLI exits with code 1. */
export class RunFailedError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'RunFailedError';
  }
}
