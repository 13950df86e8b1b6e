/**
 * Ctrl-C during a long synchronous-looking analysis: `goldstone run` with an exact Hessian of ~1,900
 * parameters (≈ 1,900 HVPs and a dense eigendecomposition, seconds of work) is sent SIGINT as soon
 * as the analysis starts. The run must be marked interrupted and the CLI exit 130 while the analysis
 * is still running, not after it has finished.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, '..', 'dist', 'bin.js');

/** clt on 16 sites (8 outputs) and an MLP 16-36-28-8: 1,880 parameters, under `exactMaxParams` (2,000). */
const experiment = {
  name: 'interrupt',
  seed: 5,
  task: { name: 'clt', options: { sites: 16, block: 2, trainSize: 512, testSize: 128 } },
  model: { name: 'mlp', options: { hidden: [36, 28], activation: 'tanh' } },
  train: { optimizer: 'adam', lr: 0.003, epochs: 1, batchSize: 256 },
  analyses: [{ name: 'hessian', options: { method: 'exact', maxExamples: 512, lossLines: 0, figures: false } }],
};

describe('goldstone run, interrupted during an exact Hessian', () => {
  it('marks the run interrupted and exits 130 while the analysis is still running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goldstone-interrupt-'));
    const file = join(dir, 'exp.json');
    writeFileSync(file, JSON.stringify(experiment, null, 2));
    const out = join(dir, 'out');
    // cwd: the temporary folder, so that the plugins come from the CLI's own dependencies
    const child = spawn(process.execPath, [bin, 'run', file, '--out', out, '--no-report'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stderr = '';
    let signalled = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.on('exit', (code, signal) => done({ code, signal })),
    );
    // the state to wait for: the analysis' progress line as the dense estimator starts its products
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!signalled && /hessian: dense \(eigenpairs, trace, density\): \d+ steps…/.test(stderr)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const { code, signal } = await exited;
    expect(signalled, stderr).toBe(true);
    expect({ code, signal }, stderr).toEqual({ code: 130, signal: null });
    expect(stderr).toContain('SIGINT: marking');
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run).toMatchObject({ status: 'interrupted', error: 'interrupted by SIGINT' });
    // handled during the analysis: it never reached its closing log line, nor wrote its result
    expect(stderr).not.toMatch(/hessian: exact, \d+ parameters/);
    expect(existsSync(join(out, 'analyses', 'hessian.json'))).toBe(false);
  });
});
