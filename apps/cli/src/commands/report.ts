import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '@goldstone/plugin-api';
import { writeRunReport } from '@goldstone/report';
import { RUN_FILE } from '@goldstone/run-store/format';

export async function reportCommand(runDir: string): Promise<number> {
  const runFile = join(runDir, RUN_FILE);
  if (!existsSync(runFile)) throw new UsageError(`${runFile}: not found: RUN_DIR must be a goldstone run directory`, { file: runFile });
  const path = await writeRunReport(runDir);
  process.stderr.write(`wrote ${path}\n`);
  return 0;
}
