import { existsSync, readdirSync, rmSync } from 'node:fs';
import { UsageError } from '@goldstone/plugin-api';
import type { RunStore } from '@goldstone/run-store';
import { RUN_FILE } from '@goldstone/run-store/format';

/** Refuse to overwrite a directory holding results unless asked to; `--force` replaces it. */
export function prepareOutDir(out: string, force: boolean | undefined): void {
  if (!existsSync(out)) return;
  const entries = readdirSync(out);
  if (entries.length === 0) return;
  if (!entries.includes(RUN_FILE)) {
    throw new UsageError(`--out ${out}: the directory exists and is not a goldstone run directory; choose another --out`, { field: 'out' });
  }
  if (!force) {
    throw new UsageError(`--out ${out}: already holds a run; pass --force to replace it, or choose another --out`, { field: 'out' });
  }
  rmSync(out, { recursive: true, force: true });
}

/**
 * On Ctrl-C or SIGTERM, record the run as interrupted (its last good checkpoint stays) and exit 130.
 * Returns a function that removes the handlers.
 */
export function markInterruptedOnSignal(store: RunStore): () => void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: marking ${store.dir} as interrupted\n`);
    store
      .updateRun({ status: 'interrupted', error: `interrupted by ${signal}`, finishedAt: new Date().toISOString() })
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
