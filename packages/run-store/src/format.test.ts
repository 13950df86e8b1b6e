import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureRun } from './test-support';
import { otherProcessAlive, parseMetrics, readRun } from './format';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'goldstone-read-run-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('readRun', () => {
  it('reads run.json, every metrics line and every analysis', async () => {
    const dir = join(root, 'full');
    await writeFixtureRun(dir, { steps: 120, epochs: 4 });
    const data = await readRun(dir);
    expect(data.dir).toBe(dir);
    expect(data.run.name).toBe('jets-mlp-lambda0.1');
    expect(data.run.status).toBe('completed');
    expect(data.run.seed).toBe(7);
    expect(data.metrics.filter((r) => r.kind === 'step')).toHaveLength(120);
    expect(data.metrics.filter((r) => r.kind === 'epoch')).toHaveLength(4);
    expect(data.analyses.map((a) => a.name)).toEqual(['compressibility', 'hessian', 'phase']);
    expect(data.analyses[1].provenance.hvps).toBe(160);
    expect(data.analyses[1].figures).toHaveLength(2);
    expect(data.warnings).toEqual([]);
  });

  it('tolerates a run with no metrics and no analyses directory', async () => {
    const dir = join(root, 'bare');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'run.json'), JSON.stringify({ name: 'bare', status: 'running' }));
    const data = await readRun(dir);
    expect(data).toEqual({ dir, run: { name: 'bare', status: 'running' }, metrics: [], analyses: [], warnings: [] });
  });

  it('skips a torn metrics line and a broken analysis file with warnings', async () => {
    const dir = join(root, 'torn');
    await mkdir(join(dir, 'analyses'), { recursive: true });
    await writeFile(join(dir, 'run.json'), JSON.stringify({ name: 'torn', status: 'interrupted' }));
    await writeFile(join(dir, 'metrics.jsonl'), '{"kind":"step","step":0,"loss":1}\n{"kind":"step","step":1,"loss":0.9}\n{"kind":"st');
    await writeFile(join(dir, 'analyses', 'good.json'), JSON.stringify({ result: 1, provenance: { analysis: 'good', seed: 0, backend: 'cpu' } }));
    await writeFile(join(dir, 'analyses', 'bad.json'), '{"result": ');
    await writeFile(join(dir, 'analyses', 'notes.txt'), 'not an analysis');
    const data = await readRun(dir);
    expect(data.metrics).toEqual([
      { kind: 'step', step: 0, loss: 1 },
      { kind: 'step', step: 1, loss: 0.9 },
    ]);
    expect(data.analyses.map((a) => a.name)).toEqual(['good']);
    expect(data.warnings).toHaveLength(2);
    expect(data.warnings[0]).toMatch(/^metrics\.jsonl line 3 /);
    expect(data.warnings[1]).toMatch(/^analyses\/bad\.json was skipped/);
  });

  it('fills in a missing name and status', async () => {
    const dir = join(root, 'nameless');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'run.json'), '{}');
    const data = await readRun(dir);
    expect(data.run.name).toBe('nameless');
    expect(data.run.status).toBe('unknown');
  });

  it('explains a missing or invalid run.json', async () => {
    await expect(readRun(join(root, 'nowhere'))).rejects.toThrow(/run\.json not found: is .*nowhere a run directory\?/);
    const dir = join(root, 'invalid');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'run.json'), '{ nope');
    await expect(readRun(dir)).rejects.toThrow(/run\.json is not valid JSON/);
  });
});

describe('parseMetrics', () => {
  it('ignores blank lines and rejects non-objects', () => {
    const { rows, warnings } = parseMetrics('{"a":1}\n\n[1,2]\n{"b":2}\n', 'm.jsonl');
    expect(rows).toEqual([{ a: 1 }, { b: 2 }]);
    expect(warnings).toEqual(['m.jsonl line 3 is not a JSON object and was skipped']);
  });
});

describe('otherProcessAlive', () => {
  it('counts this process, unused ids and a zombie as dead, and a running process as alive', async () => {
    expect(otherProcessAlive(process.pid)).toBe(false);
    expect(otherProcessAlive(0)).toBe(false);
    expect(otherProcessAlive(2 ** 22 + 1)).toBe(false);
    // `sleep 30` (the shell, exec'd) never reaps its child `sleep 0`, which stays a zombie
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = await new Promise<number>((resolve) => parent.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
      expect(otherProcessAlive(parent.pid!)).toBe(true);
      if (process.platform !== 'linux') return; // no /proc: a zombie cannot be told from a live process
      for (let i = 0; i < 200 && !/\) Z/.test(readFileSync(`/proc/${zombie}/stat`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 25));
      expect(readFileSync(`/proc/${zombie}/stat`, 'utf8')).toMatch(/\) Z/);
      expect(otherProcessAlive(zombie)).toBe(false);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
