/**
 * The life of a run directory from the command line: what --out, --force, --resume, --seed and
 * `analyze` may and may not do to files on disk. Most cases call `main` in this process (so that a
 * write into Object.prototype would be seen); the repro spawns the built binary in a
 * project folder, as a user runs it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { snapshotDir } from '@goldstone/run-store/test-support';
import { main } from '../src/program';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, '..', 'dist', 'bin.js');
const repo = resolve(here, '..', '..', '..');
const weightNorms = join(repo, 'examples', 'third-party-analysis');

const roots: string[] = [];
function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'goldstone-life-'));
  roots.push(dir);
  return dir;
}
afterAll(() => {
  for (const r of roots) {
    try {
      chmodSync(join(r, 'ro'), 0o755);
    } catch {
      // no read-only directory in this one
    }
  }
});

/** Run the CLI in this process, capturing what it writes. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** The built binary, spawned in `cwd`. */
function goldstone(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));

const small = {
  name: 'small',
  seed: 3,
  backend: 'cpu',
  task: { name: 'clt', options: { sites: 8, block: 2, trainSize: 128, testSize: 64 } },
  model: { name: 'mlp', options: { hidden: [8], activation: 'tanh' } },
  train: { optimizer: 'adam', lr: 0.01, epochs: 1, batchSize: 64 },
};

function writeExperiment(dir: string, body: Record<string, unknown> = small, name = 'exp.json'): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(body, null, 2));
  return file;
}

/** A finished one-epoch run (trained in this process), its directory and experiment file. */
let base: { dir: string; out: string; file: string } | undefined;
async function finishedRun() {
  if (!base) {
    const dir = tmp();
    const file = writeExperiment(dir);
    const out = join(dir, 'run');
    const r = await cli(['run', file, '--out', out, '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    base = { dir, out, file };
  }
  const copy = join(tmp(), 'run');
  cpSync(base.out, copy, { recursive: true });
  return { ...base, out: copy };
}

describe('--out and --force never cost a user a file', () => {
  it('the issue\'s repro: in a project folder, --out "" is refused, and --out "$PWD" --force loses nothing', async () => {
    const project = tmp();
    writeExperiment(project);
    writeFileSync(join(project, 'notes.md'), 'my notes');
    mkdirSync(join(project, 'src'));
    writeFileSync(join(project, 'src', 'main.ts'), 'export {};');
    const before = await snapshotDir(project);
    const empty = goldstone(['run', 'exp.json', '--out', ''], project);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--out: expected a directory path, got an empty string');
    const forced = goldstone(['run', 'exp.json', '--out', project, '--force'], project);
    expect(forced.code).toBe(2);
    expect(forced.stderr).toContain(`--out ${project}: the directory exists and is not a goldstone run directory`);
    // a project folder that an older goldstone wrote a run into (run.json and all): still nothing is removed
    writeFileSync(join(project, 'run.json'), JSON.stringify({ status: 'completed', config: small }));
    mkdirSync(join(project, 'checkpoints'));
    const withRun = await snapshotDir(project);
    const again = goldstone(['run', 'exp.json', '--out', '.', '--force'], project);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("--force replaces only goldstone's own files, and the directory also holds exp.json, notes.md, src");
    const after = await snapshotDir(project);
    expect(after).toEqual(withRun);
    for (const k of Object.keys(before)) expect(after[k]).toBe(before[k]);
  }, 600_000);

  it('train blames a misspelt --task or --model on its flag', async () => {
    const r = await cli(['train', '--task', 'cltt', '--model', 'mlp']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --task cltt: task\.name: unknown task plugin "cltt"; did you mean "clt"\?/);
    const m = await cli(['train', '--task', 'clt', '--model', 'mpl', '--set', 'model.options.hidden=[4]']);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/^error: --model mpl: model\.name: unknown model plugin "mpl"; did you mean "mlp"\?/);
  });

  it('--out "" and blank for train too', async () => {
    for (const out of ['', '   ']) {
      const r = await cli(['train', '--task', 'clt', '--model', 'mlp', '--out', out]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--out: expected a directory path, got (an empty string|" {3}")/);
    }
  });

  it('--force replaces a finished run it made, and refuses one with a file of the user\'s', async () => {
    const { out, file } = await finishedRun();
    writeFileSync(join(out, 'mine.txt'), 'keep me');
    const before = await snapshotDir(out);
    const refused = await cli(['run', file, '--out', out, '--force', '--no-report']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--out ${out}: --force replaces only goldstone's own files, and the directory also holds mine.txt`);
    expect(await snapshotDir(out)).toEqual(before);
    const moved = readFileSync(join(out, 'mine.txt'));
    expect(moved.toString()).toBe('keep me');
    await import('node:fs/promises').then((fs) => fs.rm(join(out, 'mine.txt')));
    const replaced = await cli(['run', file, '--out', out, '--force', '--no-report']);
    expect(replaced.code).toBe(0);
    expect(readJson(join(out, 'run.json')).status).toBe('completed');
    expect(readJson(join(out, '.goldstone-run'))).toMatchObject({ format: 'goldstone-run', formatVersion: 1 });
  });

  it('a file in the way, a path under a file: exit 2 naming the path; nothing is written', async () => {
    const dir = tmp();
    const file = writeExperiment(dir);
    const blocker = join(dir, 'x');
    writeFileSync(blocker, 'data');
    const r1 = await cli(['run', file, '--out', blocker]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain(`--out ${blocker}: a file is in the way: ${blocker} is a regular file, not a directory`);
    const under = join(blocker, 'run');
    const r2 = await cli(['train', '--task', 'clt', '--model', 'mlp', '--set', 'train.epochs=1', '--out', under]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`--out ${under}: a file is in the way: ${blocker} is a regular file, not a directory`);
    expect(readdirSync(dir).sort()).toEqual(['exp.json', 'x']);
  });

  it('a read-only directory: exit 2 naming it; nothing is written (as root, whom file modes do not stop, the directory is made immutable)', async () => {
    const dir = tmp();
    const file = writeExperiment(dir);
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    let undo: () => void;
    if (process.getuid?.() === 0) {
      // chattr +i stops root too; the check cannot be made without it
      const r = spawnSync('chattr', ['+i', ro], { encoding: 'utf8' });
      expect(r.status, `as root this test makes ${ro} immutable with chattr +i, which failed: ${r.stderr ?? r.error}`).toBe(0);
      undo = () => spawnSync('chattr', ['-i', ro]);
    } else {
      chmodSync(ro, 0o555);
      undo = () => chmodSync(ro, 0o755);
    }
    try {
      const r = await cli(['run', file, '--out', join(ro, 'run')]);
      expect(r.stderr).toContain(`--out ${join(ro, 'run')}: permission denied: cannot write in ${ro}`);
      expect(r.code).toBe(2);
      expect(readdirSync(ro)).toEqual([]);
    } finally {
      undo();
    }
  });
});

describe('--seed on the command line', () => {
  it('is a non-negative integer; anything else is exit 2 naming --seed, not the experiment file', async () => {
    const dir = tmp();
    const file = writeExperiment(dir);
    for (const seed of ['abc', '-1', '1.5', '', '1e3']) {
      const r = await cli(['run', file, '--seed', seed, '--out', join(dir, 'never')]);
      expect(r.code, seed).toBe(2);
      expect(r.stderr).toContain(`option '--seed <n>' argument '${seed}' is invalid`);
      expect(r.stderr).not.toContain(file);
      const t = await cli(['train', '--task', 'clt', '--model', 'mlp', '--seed', seed]);
      expect(t.code).toBe(2);
      expect(t.stderr).toContain('--seed');
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});

describe('--resume', () => {
  it('refuses a missing directory or one without run.json: nothing to resume', async () => {
    const dir = tmp();
    const file = writeExperiment(dir);
    const missing = join(dir, 'nope');
    const r = await cli(['run', file, '--out', missing, '--resume']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--resume: nothing to resume in ${missing}: the directory does not exist`);
    expect(existsSync(missing)).toBe(false);
    mkdirSync(missing);
    const r2 = await cli(['run', file, '--out', missing, '--resume']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('it holds no run.json');
    expect(readdirSync(missing)).toEqual([]);
  });

  it('of a completed run: a changed model is refused, the same experiment has nothing to do, more epochs train on', async () => {
    const { out, file } = await finishedRun();
    const before = await snapshotDir(out);
    const changed = await cli(['run', file, '--out', out, '--resume', '--set', 'model.options.hidden=[16]']);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain(`error: --resume: ${out} is completed, and the experiment differs from it in what it trains: model.options.hidden: [8] in the run, [16] in the experiment`);
    const same = await cli(['run', file, '--out', out, '--resume', '--no-report']);
    expect(same.code).toBe(0);
    expect(same.stderr).toContain('is already completed; nothing to resume');
    expect(await snapshotDir(out)).toEqual(before);
    const longer = await cli(['run', file, '--out', out, '--resume', '--no-report', '--set', 'train.epochs=2']);
    expect(longer.code, longer.stderr).toBe(0);
    expect(longer.stderr).toContain('is completed after 1 epochs; training on to 2');
    const run = readJson(join(out, 'run.json'));
    expect(run.status).toBe('completed');
    expect(run.config.train.epochs).toBe(2);
    const epochs = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.kind === 'epoch').map((r) => r.epoch);
    expect(epochs).toEqual([1, 2]);
  });

  it('refuses a changed model naming the field, and leaves run.json as it was', async () => {
    const { out, file } = await finishedRun();
    const runFile = join(out, 'run.json');
    writeFileSync(runFile, JSON.stringify({ ...readJson(runFile), status: 'interrupted' }));
    const before = await snapshotDir(out);
    const r = await cli(['run', file, '--out', out, '--resume', '--set', 'model.options.hidden=[16]', '--set', 'train.epochs=3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('model.options.hidden: [8] in the run, [16] in the experiment');
    expect(r.stderr).not.toContain('train.epochs: ');
    expect(await snapshotDir(out)).toEqual(before);
    expect(readJson(runFile).status).toBe('interrupted');
  });
});

describe('divergence', () => {
  it('in the first epoch keeps the initial parameters as the last good checkpoint, and says where', async () => {
    const dir = tmp();
    const file = writeExperiment(dir, { ...small, train: { optimizer: 'sgd', lr: 1e30, epochs: 2, batchSize: 32 } });
    const out = join(dir, 'run');
    const r = await cli(['run', file, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the last good checkpoint is kept in ${join(out, 'checkpoints', 'init')}`);
    expect(existsSync(join(out, 'checkpoints', 'init', 'weights.bin'))).toBe(true);
    expect(readJson(join(out, 'checkpoints', 'last.json')).tag).toBe('init');
    expect(readJson(join(out, 'run.json')).status).toBe('diverged');
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.at(-1)).toMatchObject({ kind: 'step', loss: null });
    // the report of a diverged run is still static and locked down
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain(`Content-Security-Policy" content="default-src 'none'`);
  });
});

describe('goldstone analyze', () => {
  it('loads the plugin modules a run lists only with --trust-plugins (or --plugin)', async () => {
    const { out } = await finishedRun();
    const dir = dirname(out);
    const sentinel = join(dir, 'evil-ran');
    const evil = join(dir, 'evil.mjs');
    writeFileSync(evil, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(sentinel)}, 'ran');\nexport const plugins = [];\n`);
    const runFile = join(out, 'run.json');
    const run = readJson(runFile);
    writeFileSync(runFile, JSON.stringify({ ...run, config: { ...run.config, plugins: [evil] } }));
    const refused = await cli(['analyze', out, '--analysis', 'weight-norms', '--plugin', weightNorms]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${runFile}: plugins: this run loads plugin modules, and loading one runs its code: ${evil}`);
    expect(refused.stderr).toContain('--trust-plugins');
    expect(existsSync(sentinel)).toBe(false);
    const trusted = await cli(['analyze', out, '--analysis', 'weight-norms', '--plugin', weightNorms, '--trust-plugins']);
    expect(existsSync(sentinel)).toBe(true); // loaded on request (it exports no plugin, so that is exit 2)
    expect(trusted.code).toBe(2);
    expect(trusted.stderr).toContain('exports no goldstone plugin');
  });

  it('--set cannot reach Object.prototype', async () => {
    const { out } = await finishedRun();
    for (const key of ['__proto__.polluted=1', 'weight-norms.__proto__.polluted=1', 'constructor.prototype.polluted=1', 'a.__proto__.polluted=1']) {
      const r = await cli(['analyze', out, '--analysis', 'weight-norms', '--plugin', weightNorms, '--set', key]);
      expect(r.code, key).toBe(2);
      expect(r.stderr).toContain('--set');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
    expect(readdirSync(join(out, 'analyses'))).toEqual([]);
  });

  it('uses the options the run recorded for the analysis, --set on top; the defaults (said so) for one the run did not have', async () => {
    const dir = tmp();
    const hessianOptions = { method: 'exact', topK: 2, bottomK: 0, maxExamples: 40, directions: 'none', generators: false };
    const file = writeExperiment(dir, { ...small, analyses: [{ name: 'hessian', options: hessianOptions }] });
    const out = join(dir, 'run');
    const r = await cli(['run', file, '--out', out, '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    const ran = readJson(join(out, 'analyses', 'hessian.json'));
    expect(ran.result.topEigenvalues).toHaveLength(2);
    expect(ran.result.examples).toBe(40);

    // no --set: the run's numbers again (the defaults, topK 5 of 512 examples, would measure another Hessian)
    const same = await cli(['analyze', out, '--analysis', 'hessian', '--json']);
    expect(same.code, same.stderr).toBe(0);
    const a = JSON.parse(same.stdout);
    expect(a.topEigenvalues).toEqual(ran.result.topEigenvalues);
    expect(a.trace).toEqual(ran.result.trace);
    expect(a.examples).toBe(40);
    expect(a.provenance.optionSources).toMatchObject({ recorded: 'run.json: config.analyses[0] (id "hessian")', set: [], defaults: [] });
    expect(same.stderr).toContain('hessian: options as the run recorded them (run.json: config.analyses[0]');

    // --set wins for its key only
    const set = await cli(['analyze', out, '--analysis', 'hessian', '--set', 'hessian.topK=1', '--json']);
    expect(set.code, set.stderr).toBe(0);
    const b = JSON.parse(set.stdout);
    expect(b.topEigenvalues).toEqual(ran.result.topEigenvalues.slice(0, 1));
    expect(b.examples).toBe(40);
    expect(b.provenance.optionSources.set).toEqual(['topK']);
    expect(b.provenance.optionSources.fromRun).toContain('maxExamples');
    expect(b.provenance.optionSources.fromRun).not.toContain('topK');
    expect(set.stderr).toContain('with --set topK');

    // an analysis the run did not have: the plugin's defaults, and the output says so
    const other = await cli(['analyze', out, '--analysis', 'robustness', '--set', 'sections=[noise]', '--set', 'noiseSigmas=[0.1]', '--json']);
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).toContain("robustness: not in the run's experiment: options are the plugin's defaults, with --set sections, noiseSigmas");
    const c = JSON.parse(other.stdout);
    expect(c.provenance.optionSources.recorded).toBeNull();
    expect(c.provenance.optionSources.defaults).toContain('maxExamples');
    expect(c.provenance.parameters).toMatchObject({ source: 'checkpoint last', epoch: 1 });
  }, 240_000);

  it('--id keeps several results of one analysis', async () => {
    const { out } = await finishedRun();
    const a = await cli(['analyze', out, '--analysis', 'weight-norms', '--plugin', weightNorms, '--set', 'iterations=5']);
    expect(a.code).toBe(0);
    const b = await cli(['analyze', out, '--analysis', 'weight-norms', '--plugin', weightNorms, '--set', 'iterations=7', '--id', 'weight-norms-long']);
    expect(b.code).toBe(0);
    expect(b.stderr).toContain(`wrote ${join(out, 'analyses', 'weight-norms-long.json')}`);
    expect(readdirSync(join(out, 'analyses')).sort()).toEqual(['weight-norms-long.json', 'weight-norms.json']);
    expect(readJson(join(out, 'analyses', 'weight-norms.json')).provenance.iterations).toBe(5);
    expect(readJson(join(out, 'analyses', 'weight-norms-long.json')).provenance.iterations).toBe(7);
    const bad = await cli(['analyze', out, '--analysis', 'weight-norms', '--plugin', weightNorms, '--id', '../x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--id ../x: expected a result id');
  });
});
