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

/**
 * Edit distance between two strings counting insertions, deletions, substitutions and swaps of two
 * adjacent characters as one edit each (optimal string alignment), as typos are usually made.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j] + 1, d[i * cols + j - 1] + 1, d[(i - 1) * cols + j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[(i - 2) * cols + j - 2] + 1);
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1];
}

/**
 * The known name nearest to a misspelt one, if one is close: at most one edit away for names of up
 * to four characters, two for longer ones; ties go to the first in alphabetical order.
 */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  if (name.length > 200) return undefined;
  const limit = name.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of [...new Set(known)].sort()) {
    if (candidate === name || Math.abs(candidate.length - name.length) > limit) continue;
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase()) + (name.toLowerCase() === candidate.toLowerCase() ? 0.5 : 0);
    if (d <= limit && d < name.length && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** `; did you mean "x"?` for the known name nearest to `name`, or nothing when none is close. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const near = nearestName(name, known);
  return near === undefined ? '' : `; did you mean "${near}"?`;
}
