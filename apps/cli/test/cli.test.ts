/**
 * End-to-end tests of the built `goldstone` binary, run as a user runs it (turbo builds the CLI
 * before its tests). Each test works in its own temporary directory.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { snapshotDir } from '@goldstone/run-store/test-support';

const here = dirname(fileURLToPath(import.meta.url));
const bin = resolve(here, '..', 'dist', 'bin.js');
const repo = resolve(here, '..', '..', '..');
const quickstart = join(repo, 'experiments', 'quickstart.yaml');

function goldstone(args: string[], cwd = repo) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'goldstone-cli-'));
}

function readJson(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A small experiment file, written beside a copy of nothing else: plugins are built-ins. */
function writeExperiment(dir: string, body: Record<string, unknown>, name = 'exp.json'): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(body, null, 2));
  return file;
}

const small = {
  name: 'small',
  seed: 3,
  task: { name: 'clt', options: { sites: 8, block: 2, trainSize: 256, testSize: 128 } },
  model: { name: 'mlp', options: { hidden: [16], activation: 'tanh' } },
  train: { optimizer: 'adam', lr: 0.01, epochs: 2, batchSize: 64 },
};

describe('goldstone list', () => {
  it('--json prints only a JSON array of {kind, name, package, version}', () => {
    const r = goldstone(['list', '--json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout);
    expect(Array.isArray(list)).toBe(true);
    for (const e of list) expect(Object.keys(e).sort()).toEqual(['kind', 'name', 'package', 'version']);
    expect(list).toContainEqual(expect.objectContaining({ kind: 'model', name: 'mlp', package: '@goldstone/models' }));
    expect(list).toContainEqual(expect.objectContaining({ kind: 'task', name: 'clt', package: '@goldstone/task-clt' }));
  });

  it('with a name, prints that plugin\'s options from its schema', () => {
    const r = goldstone(['list', 'mlp']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^model mlp \(@goldstone\/models@/);
    expect(r.stdout).toMatch(/hidden\s+\(integer > 0\)\[\]\s+\[64,64\]/);
    expect(r.stdout).toMatch(/activation\s+identity \| relu \| tanh/);
    const j = goldstone(['list', 'weight-norms', '--json', '--plugin', './examples/third-party-analysis']);
    expect(j.code).toBe(0);
    const schema = JSON.parse(j.stdout);
    expect(schema).toMatchObject({ kind: 'analysis', name: 'weight-norms', options: { type: 'object', properties: { iterations: { default: 50 } } } });
    const missing = goldstone(['list', 'no-such-plugin']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no installed plugin is named "no-such-plugin"');
  });

  it('shows a third-party plugin given with --plugin', () => {
    const r = goldstone(['list', '--json', '--plugin', './examples/third-party-analysis']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toContainEqual({ kind: 'analysis', name: 'weight-norms', package: 'goldstone-analysis-weight-norms', version: expect.any(String) });
  });
});

describe('goldstone run', () => {
  it('runs the quickstart (quick size) end to end with the third-party analysis', () => {
    const out = join(tmp(), 'quickstart');
    const r = goldstone(['run', quickstart, '--quick', '--out', out, '--json']);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack traces
    expect(r.code).toBe(0);
    const outcome = JSON.parse(r.stdout);
    expect(outcome.status).toBe('completed');
    for (const f of ['run.json', 'metrics.jsonl', 'checkpoints', 'analyses', 'report.html']) expect(existsSync(join(out, f)), f).toBe(true);
    const run = readJson(join(out, 'run.json'));
    expect(run.status).toBe('completed');
    expect(run.config.train.epochs).toBe(3);
    expect(run.packages['goldstone-analysis-weight-norms']).toBeDefined();
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.filter((r) => r.kind === 'epoch')).toHaveLength(3);
    const norms = readJson(join(out, 'analyses', 'weight-norms.json'));
    expect(norms.provenance.analysis).toBe('weight-norms');
    expect(norms.result.params.length).toBeGreaterThan(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('weight-norms');
    expect(readdirSync(join(out, 'checkpoints')).length).toBeGreaterThan(0);
  });

  it('is deterministic per seed and backend', () => {
    const dir = tmp();
    const file = writeExperiment(dir, { ...small, backend: 'cpu' });
    expect(goldstone(['run', file, '--out', join(dir, 'a')]).code).toBe(0);
    expect(goldstone(['run', file, '--out', join(dir, 'b')]).code).toBe(0);
    const a = readJson(join(dir, 'a', 'run.json')).summary;
    const b = readJson(join(dir, 'b', 'run.json')).summary;
    expect(a).toEqual(b);
    expect(Object.keys(a).length).toBeGreaterThan(0);
  });

  it('a diverging run exits 1, is marked diverged and keeps its last good checkpoint', () => {
    const dir = tmp();
    const file = writeExperiment(dir, {
      ...small,
      model: { name: 'mlp', options: { hidden: [32, 32], activation: 'relu' } },
      train: { optimizer: 'sgd', lr: 1, epochs: 30, batchSize: 32, schedule: { kind: 'step', every: 1, gamma: 50 } },
    });
    const out = join(dir, 'run');
    const r = goldstone(['run', file, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/diverged/);
    const run = readJson(join(out, 'run.json'));
    expect(run.status).toBe('diverged');
    expect(run.error).toMatch(/non-finite|NaN|Inf/i);
    expect(existsSync(join(out, 'checkpoints'))).toBe(true);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });
});

describe('bad input: exit 2, a message naming file, field and expectation, nothing lost', () => {
  it('a wrong field type', () => {
    const dir = tmp();
    const file = writeExperiment(dir, { ...small, train: { ...small.train, lr: 'fast' } });
    const r = goldstone(['run', file, '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: train.lr: expected number, got "fast"`);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('a wrong plugin option, named with its path', () => {
    const dir = tmp();
    const file = writeExperiment(dir, { ...small, model: { name: 'mlp', options: { hidden: 'wide' } } });
    const r = goldstone(['run', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: model.options.hidden: expected array, got "wide"`);
  });

  it('an unknown plugin name lists the known ones (an uninstalled built-in names its package: scripts/piecemeal-install.sh)', () => {
    const dir = tmp();
    const file = writeExperiment(dir, { ...small, analyses: [{ name: 'spectral-entropy' }] });
    const r = goldstone(['run', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/analyses\[0\]\.name: unknown analysis plugin "spectral-entropy": known analysis plugins: .*\bhessian\b/);
    const typo = writeExperiment(dir, { ...small, model: { name: 'mpl' } }, 'typo.json');
    const r3 = goldstone(['run', typo]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/model\.name: unknown model plugin "mpl"; did you mean "mlp"\? \(known model plugins: .*\bmlp\b/);
  });

  it('a missing experiment file and a missing plugin path', () => {
    const dir = tmp();
    const r1 = goldstone(['run', join(dir, 'nope.yaml')]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('nope.yaml: file not found');
    const file = writeExperiment(dir, { ...small, plugins: ['./missing-plugin'] });
    const r2 = goldstone(['run', file]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/exp\.json: plugins\[0\]: plugin path ".*missing-plugin" does not exist/);
  });

  it('invalid YAML names the line', () => {
    const dir = tmp();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'task:\n  name: clt\n model: [\n');
    const r = goldstone(['run', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+: invalid YAML/);
  });

  it('bad input never touches an existing run directory', () => {
    const dir = tmp();
    const out = join(dir, 'kept');
    mkdirSync(out);
    writeFileSync(join(out, 'run.json'), '{"status":"completed"}');
    const bad = writeExperiment(dir, { ...small, train: { epochs: -1 } });
    expect(goldstone(['run', bad, '--out', out]).code).toBe(2);
    const good = writeExperiment(dir, small, 'good.json');
    const r = goldstone(['run', good, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('already holds a run; pass --force');
    expect(readFileSync(join(out, 'run.json'), 'utf8')).toBe('{"status":"completed"}');
  });

  it('unknown command-line options exit 2', () => {
    expect(goldstone(['run', quickstart, '--frobnicate']).code).toBe(2);
    expect(goldstone(['nonsense']).code).toBe(2);
  });
});

describe('goldstone train, analyze and report', () => {
  it('trains a run, analyses it with --json on stdout only, and rewrites the report', async () => {
    const dir = tmp();
    const out = join(dir, 'trained');
    const t = goldstone([
      'train', '--task', 'clt', '--model', 'mlp', '--set', 'train.epochs=2', '--set', 'task.options.trainSize=256',
      '--set', 'model.options.hidden=[8]', '--seed', '5', '--out', out,
    ]);
    expect(t.code).toBe(0);
    expect(readJson(join(out, 'run.json')).status).toBe('completed');
    const a = goldstone(['analyze', out, '--analysis', 'weight-norms', '--plugin', join(repo, 'examples', 'third-party-analysis'), '--set', 'weight-norms.iterations=20', '--json']);
    expect(a.code).toBe(0);
    const result = JSON.parse(a.stdout);
    expect(result.provenance).toMatchObject({ analysis: 'weight-norms', iterations: 20, seed: 5 });
    expect(existsSync(join(out, 'analyses', 'weight-norms.json'))).toBe(true);
    const bad = goldstone(['analyze', out, '--analysis', 'weight-norms', '--plugin', join(repo, 'examples', 'third-party-analysis'), '--set', 'iterations=zero']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--set: weight-norms.iterations: expected number');
    // options that need the task are checked against it before anything is written
    const before = await snapshotDir(out);
    const split = goldstone(['analyze', out, '--analysis', 'hessian', '--set', 'hessian.split=ood']);
    expect(split.code).toBe(2);
    expect(split.stderr).toMatch(/^error: --set: hessian\.split: the task has no split "ood" \(it has: train, test/m);
    expect(await snapshotDir(out)).toEqual(before);
    const hooked = goldstone(['analyze', out, '--analysis', 'variance-flatness']);
    expect(hooked.code).toBe(2);
    expect(hooked.stderr).toContain('--analysis variance-flatness: this analysis records what it needs while the model trains');
    expect(await snapshotDir(out)).toEqual(before);
    const rep = goldstone(['report', out]);
    expect(rep.code).toBe(0);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('weight-norms');
  });
});

describe('goldstone run --resume', () => {
  const weights = (run: string) => readFileSync(join(run, 'checkpoints', 'last', 'weights.bin'));

  it('continues an interrupted run from its last good checkpoint, bit-identical to an uninterrupted run', () => {
    const dir = tmp();
    const file = writeExperiment(dir, { ...small, backend: 'cpu' });
    const out = join(dir, 'run');
    expect(goldstone(['run', file, '--out', out]).code).toBe(0);
    // pretend the run was cut off after its 2 epochs, then ask for 4
    const runFile = join(out, 'run.json');
    writeFileSync(runFile, JSON.stringify({ ...readJson(runFile), status: 'interrupted' }));
    const r = goldstone(['run', file, '--out', out, '--resume', '--set', 'train.epochs=4']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`resuming ${out} from checkpoint last (epoch 2)`);
    const run = readJson(runFile);
    expect(run.status).toBe('completed');
    expect(run.resumedAt).toBeDefined();
    const epochs = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((row) => row.kind === 'epoch').map((row) => row.epoch);
    expect(epochs).toEqual([1, 2, 3, 4]);
    const straight = join(dir, 'straight');
    expect(goldstone(['run', file, '--out', straight, '--set', 'train.epochs=4']).code).toBe(0);
    expect(weights(out).equals(weights(straight))).toBe(true);
    expect(run.summary).toEqual(readJson(join(straight, 'run.json')).summary);
  });

  describe('refuses with exit 2, naming the file, and changes nothing in the run directory', () => {
    const dir = tmp();
    const file = writeExperiment(dir, { ...small, backend: 'cpu' });
    const base = join(dir, 'base');
    let cases = 0;
    /** A copy of one interrupted 2-epoch run, damaged by `damage`; resumed with `args`. */
    async function refused(damage: (run: string) => void, args: string[] = []) {
      if (!existsSync(base)) {
        expect(goldstone(['run', file, '--out', base, '--no-report']).code).toBe(0);
        const runFile = join(base, 'run.json');
        writeFileSync(runFile, JSON.stringify({ ...readJson(runFile), status: 'interrupted' }));
      }
      const out = join(dir, `case-${++cases}`);
      cpSync(base, out, { recursive: true });
      damage(out);
      const before = await snapshotDir(out);
      const r = goldstone(['run', file, '--out', out, '--resume', '--set', 'train.epochs=4', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(await snapshotDir(out)).toEqual(before);
      return { out, stderr: r.stderr };
    }

    it('last.json pointing to a missing checkpoint', async () => {
      const { out, stderr } = await refused((run) => writeFileSync(join(run, 'checkpoints', 'last.json'), JSON.stringify({ tag: 'epoch-9' })));
      expect(stderr).toContain(`cannot resume ${out}`);
      expect(stderr).toContain(join(out, 'checkpoints', 'last.json'));
      expect(stderr).toContain(`${join(out, 'checkpoints', 'epoch-9', 'model.json')} does not exist`);
    });

    it('a truncated weights.bin', async () => {
      const { out, stderr } = await refused((run) => truncateSync(join(run, 'checkpoints', 'last', 'weights.bin'), 100));
      expect(stderr).toContain(`${join(out, 'checkpoints', 'last', 'weights.bin')}: 100 bytes, the manifest needs`);
    });

    it('a truncated model.json', async () => {
      const { out, stderr } = await refused((run) => truncateSync(join(run, 'checkpoints', 'last', 'model.json'), 64));
      expect(stderr).toContain(`${join(out, 'checkpoints', 'last', 'model.json')}: not readable as JSON`);
    });

    it('a config whose model has other shapes', async () => {
      const { out, stderr } = await refused(() => undefined, ['--set', 'model.options.hidden=[32]']);
      expect(stderr).toContain(`cannot resume ${out}: the experiment differs from the run`);
      expect(stderr).toContain('model.options.hidden: [16] in the run, [32] in the experiment');
    });

    it('a run.json that is not valid JSON or not an object', async () => {
      for (const text of ['{"status": "interrupted", "conf', '[1, 2]\n']) {
        const { out, stderr } = await refused((run) => writeFileSync(join(run, 'run.json'), text));
        expect(stderr).toContain(join(out, 'run.json'));
        expect(stderr).toMatch(text.startsWith('[') ? /not a JSON object/ : /not valid JSON/);
        expect(readFileSync(join(out, 'run.json'), 'utf8')).toBe(text);
      }
    });
  });
});
