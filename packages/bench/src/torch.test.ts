import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { parseTorchOutput, runTorch, TORCH_SCRIPT } from './torch';

describe('PyTorch peer', () => {
  it('the committed script is where the runner looks for it', () => {
    expect(TORCH_SCRIPT.endsWith('packages/bench/torch_bench.py')).toBe(true);
    expect(existsSync(TORCH_SCRIPT)).toBe(true);
  });

  it('parses the script output into results keyed by case', () => {
    const out = parseTorchOutput(
      'progress\n' +
        JSON.stringify({
          peer: 'pytorch',
          torch: '1.13.1',
          threads: 2,
          blas: 'openblas-pthread',
          cases: [{ name: 'hvp-mlp-64-192-192-10', params: 51466, batch: 128, median_ms: 2, p10_ms: 1, p90_ms: 3, min_ms: 1, reps: 50 }],
        }),
    );
    expect(out).toEqual({
      available: true,
      torch: '1.13.1',
      threads: 2,
      blas: 'openblas-pthread',
      cases: { 'hvp-mlp-64-192-192-10': { params: 51466, batch: 128, median_ms: 2, p10_ms: 1, p90_ms: 3, min_ms: 1, reps: 50 } },
    });
  });

  it('says so when there is no JSON', () => {
    expect(parseTorchOutput('Traceback ...')).toEqual({ available: false, reason: 'torch_bench.py printed no JSON' });
  });

  it('reports PyTorch as unavailable, with the install command, when the interpreter is missing', () => {
    const r = runTorch({ python: '/nonexistent/python3', warmup: 0, reps: 1, quick: true });
    expect(r.available).toBe(false);
    if (!r.available) expect(r.reason).toMatch(/apt-get install -y python3-torch libopenblas0-pthread/);
  });
});
