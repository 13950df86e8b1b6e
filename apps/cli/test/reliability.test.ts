/**
 * The quick subset of the reliability harness (tooling/scripts/reliability) on the built binary:
 * about 30 bad inputs against a project holding a finished run and sweep, and kill -9 during
 * training followed by --resume. Nothing may be lost, hang or crash; the resumed run must be
 * bit-identical to an uninterrupted one. `pnpm reliability` runs the whole corpus.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const harness = resolve(here, '..', '..', '..', 'tooling', 'scripts', 'reliability', 'run.mjs');

describe('reliability harness, quick subset', () => {
  it('bad inputs lose no data, hang and crash nothing; kill -9 then --resume is bit-identical', () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-reliability-test-'));
    const results = join(dir, 'results.json');
    try {
      const r = spawnSync(process.execPath, [harness, '--quick', '--results', results, '--no-readme'], { encoding: 'utf8', timeout: 1_500_000 });
      expect(existsSync(results), `the harness wrote no results (exit ${r.status}):\n${r.stderr.slice(-4000)}`).toBe(true);
      const report = JSON.parse(readFileSync(results, 'utf8'));
      expect(report.totals.cases).toBeGreaterThanOrEqual(30);
      const serious = report.cases
        .filter((c: any) => c.dataLostCount > 0 || c.outcome === 'hang' || c.outcome === 'crash')
        .map((c: any) => `${c.id} (${c.outcome}${c.dataLostCount ? `, data lost: ${c.dataLost.join(', ')}` : ''}): ${c.command}`);
      expect(serious).toEqual([]);
      // every bad input is a clear exit 2 (or accepted where that is allowed), leaves nothing behind and runs no plugin code
      const failing = report.cases.filter((c: any) => !c.pass || c.leftBehind.length > 0 || c.codeRan).map((c: any) => `${c.id} (${c.outcome}): ${c.errorLine ?? ''}`);
      expect(failing).toEqual([]);
      expect(report.faults.map((f: any) => ({ id: f.id, outcome: f.outcome, failed: f.failed }))).toEqual([{ id: 'kill-training', outcome: 'pass', failed: [] }]);
      expect(r.status, r.stdout).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 1_800_000);
});
