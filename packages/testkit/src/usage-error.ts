import { UsageError } from '@goldstone/plugin-api';

/**
 * The UsageError `work` rejects with (what the CLI turns into exit 2). Throws, failing the test, when
 * it resolves or rejects with anything else, saying which.
 */
export async function usageErrorOf(work: Promise<unknown>): Promise<UsageError> {
  let outcome: { resolved: unknown } | { rejected: unknown };
  try {
    outcome = { resolved: await work };
  } catch (err) {
    outcome = { rejected: err };
  }
  if ('resolved' in outcome) throw new Error('expected a UsageError, but it succeeded');
  if (!(outcome.rejected instanceof UsageError)) throw new Error(`expected a UsageError, got ${String(outcome.rejected)}`, { cause: outcome.rejected });
  return outcome.rejected;
}
