/**
 * `goldstone create plugin`: each kind scaffolded into a temporary folder outside the repository
 * builds, type-checks, passes its own tests (the testkit's conformance suite) and runs in an
 * experiment with the built CLI, as generated.
 *
 * The generated package's dependencies are installed the way `npm link` would: its node_modules
 * entries are symlinks to this repository's built packages and installed tools, found by name
 * (no registry, so the test runs offline; a user runs `npm install`, from the registry once
 * goldstone's packages are published).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const cliDir = resolve(here, '..');
const repo = resolve(cliDir, '..', '..');
const bin = join(cliDir, 'dist', 'bin.js');
const SLOW = 600_000;

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: '1' }, timeout: SLOW - 60_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}
const goldstone = (args: string[], cwd: string) => run(process.execPath, [bin, ...args], cwd);

/** Workspace packages by name → their folder (built: dist/ next to package.json). */
function workspacePackages(): Map<string, string> {
  const out = new Map<string, string>();
  for (const group of ['packages', 'apps']) {
    for (const entry of readdirSync(join(repo, group))) {
      const file = join(repo, group, entry, 'package.json');
      if (existsSync(file)) out.set(JSON.parse(readFileSync(file, 'utf8')).name, join(repo, group, entry));
    }
  }
  return out;
}

/** The real folder of an installed package, as Node finds it from `from`. */
function installed(name: string, from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) throw new Error(`${name} is not installed below ${from}`);
  }
}

/** node_modules of a generated package: a symlink per dependency, and the tools' bin links. */
function linkDependencies(pkgDir: string): void {
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const workspace = workspacePackages();
  const names = [...new Set([...Object.keys(pkg.peerDependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})])];
  const binDir = join(pkgDir, 'node_modules', '.bin');
  mkdirSync(binDir, { recursive: true });
  for (const name of names) {
    const target = workspace.get(name) ?? installed(name, cliDir);
    const link = join(pkgDir, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(target, link, 'dir');
    const bins = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')).bin;
    const entries: [string, string][] = typeof bins === 'string' ? [[name.split('/').pop()!, bins]] : Object.entries(bins ?? {});
    for (const [command, file] of entries) symlinkSync(relative(binDir, join(link, file)), join(binDir, command));
  }
}

const KINDS = [
  { kind: 'analysis', name: 'goldstone-analysis-grad-curvature', plugin: 'grad-curvature' },
  { kind: 'task', name: 'goldstone-task-oscillator', plugin: 'oscillator' },
  { kind: 'model', name: 'goldstone-model-tiny-mlp', plugin: 'tiny-mlp' },
] as const;

describe('goldstone create plugin', () => {
  const root = mkdtempSync(join(tmpdir(), 'goldstone-create-'));
  const dirs: Record<string, string> = {};

  beforeAll(() => {
    expect(existsSync(bin), 'build the CLI first (pnpm build)').toBe(true);
    expect(relative(repo, root).startsWith('..'), 'the temporary folder is outside the repository').toBe(true);
    for (const { kind, name } of KINDS) {
      const r = goldstone(['create', 'plugin', name, '--kind', kind, '--json'], root);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ dir: join(root, name), package: name, kind });
      dirs[kind] = out.dir;
    }
  }, SLOW);

  it('writes a package that peers on the running CLI\'s goldstone and tfjs versions, with the build tools goldstone uses', () => {
    const version = (p: string) => JSON.parse(readFileSync(join(p, 'package.json'), 'utf8')).version;
    const pkg = JSON.parse(readFileSync(join(dirs.analysis, 'package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(pkg.exports['.'].import).toBe('./dist/index.js');
    expect(pkg.peerDependencies).toEqual({
      '@goldstone/core': `^${version(join(repo, 'packages', 'core'))}`,
      '@goldstone/plugin-api': `^${version(join(repo, 'packages', 'plugin-api'))}`,
      '@tensorflow/tfjs-core': `^${version(installed('@tensorflow/tfjs-core', cliDir))}`,
    });
    expect(pkg.devDependencies['@goldstone/testkit']).toBe(`^${version(join(repo, 'packages', 'testkit'))}`);
    // The tools are the ones in goldstone's own catalog (pnpm-workspace.yaml).
    const catalog = readFileSync(join(repo, 'pnpm-workspace.yaml'), 'utf8');
    for (const tool of ['tsup', 'typescript', 'vitest', '@types/node']) {
      const m = new RegExp(`^\\s+"?${tool.replace('/', '\\/')}"?:\\s*(\\S+)\\s*$`, 'm').exec(catalog);
      expect(pkg.devDependencies[tool], tool).toBe(m?.[1]);
    }
    expect(readdirSync(dirs.analysis).sort()).toEqual(['.gitignore', 'README.md', 'experiment.yaml', 'package.json', 'src', 'test', 'tsconfig.json', 'tsup.config.ts', 'vitest.config.ts']);
  });

  for (const { kind, name, plugin } of KINDS) {
    it(
      `${kind}: builds, type-checks, passes the testkit as generated, and runs in its experiment`,
      () => {
        const dir = dirs[kind];
        linkDependencies(dir);
        for (const script of ['build', 'typecheck', 'test']) {
          const r = run('npm', ['run', script], dir);
          expect(r.code, `npm run ${script}\n${r.stdout}\n${r.stderr}`).toBe(0);
        }
        expect(existsSync(join(dir, 'dist', 'index.js'))).toBe(true);
        expect(existsSync(join(dir, 'dist', 'index.d.ts'))).toBe(true);

        const out = join(dir, 'runs', 'quick');
        const r = goldstone(['run', 'experiment.yaml', '--quick', '--out', out], dir);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).not.toMatch(/already registered/);
        const runJson = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
        expect(runJson.status).toBe('completed');
        expect(runJson.packages[name]).toBe('0.1.0');
        const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
        const last = metrics.filter((m) => m['test.loss'] !== undefined).pop();
        expect(Number.isFinite(last['test.loss'])).toBe(true);
        if (kind === 'analysis') {
          const stored = JSON.parse(readFileSync(join(out, 'analyses', `${plugin}.json`), 'utf8'));
          expect(stored.result.splits.map((s: { split: string }) => s.split)).toEqual(['train', 'test']);
          expect(stored.headline.map((h: { key: string }) => h.key)).toEqual(['loss.train', 'loss.test', 'gradNorm.train', 'curvature.train']);
          expect(stored.provenance).toMatchObject({ analysis: plugin, version: '0.1.0', seed: 1 });
          expect(r.stderr).toContain(`${plugin} loss.train=`);
        } else if (kind === 'task') {
          expect(runJson.config.task.name).toBe(plugin);
          expect(runJson.task).toMatchObject({ damping: 0.3, omegaOod: [2, 3] });
          expect(Number.isFinite(last['ood-fast.mse'])).toBe(true);
        } else {
          expect(runJson.config.model.name).toBe(plugin);
          expect(runJson.model.paramCount).toBe(8 * 4 + 4 + 4 * 4 + 4);
          expect(readdirSync(join(out, 'checkpoints')).length).toBeGreaterThan(0);
        }
      },
      SLOW,
    );
  }

  it('every code block of docs/plugin-guide.md is part of a generated package', () => {
    const guide = readFileSync(join(repo, 'docs', 'plugin-guide.md'), 'utf8');
    const files = Object.values(dirs).flatMap((d) =>
      ['package.json', 'tsconfig.json', 'tsup.config.ts', 'vitest.config.ts', 'src/index.ts', 'test/plugin.test.ts', 'experiment.yaml'].map((f) => readFileSync(join(d, f), 'utf8')),
    );
    const blocks = [...guide.matchAll(/```(ts|json|yaml)\n([\s\S]*?)```/g)].map((m) => m[2].trimEnd());
    expect(blocks.length).toBeGreaterThan(5);
    for (const block of blocks) expect(files.some((f) => f.includes(block)), `not in a generated file:\n${block}`).toBe(true);
  });
});

describe('goldstone create plugin: bad input is exit 2 and writes nothing', () => {
  const root = mkdtempSync(join(tmpdir(), 'goldstone-create-bad-'));

  it('refuses a name that is not an npm package name', () => {
    for (const bad of ['Grad-Norm', '.hidden', 'a b', 'fs', '@scope', 'a/b/c']) {
      const r = goldstone(['create', 'plugin', bad, '--kind', 'analysis'], root);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/create plugin: NAME: expected an npm package name/);
    }
    expect(readdirSync(root)).toEqual([]);
  });

  it('refuses an unknown kind and an unknown WHAT', () => {
    const kind = goldstone(['create', 'plugin', 'goldstone-analysis-x', '--kind', 'metric'], root);
    expect(kind.code).toBe(2);
    expect(kind.stderr).toContain('create plugin: --kind: expected one of analysis, task, model, found "metric"');
    const none = goldstone(['create', 'plugin', 'goldstone-analysis-x'], root);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--kind: expected one of analysis, task, model, found none');
    const what = goldstone(['create', 'experiment', 'x', '--kind', 'task'], root);
    expect(what.code).toBe(2);
    expect(what.stderr).toContain('create: WHAT: expected "plugin"');
    expect(readdirSync(root)).toEqual([]);
  });

  it('refuses a folder that is not empty and leaves it as it was; an empty one is used', () => {
    const dir = join(root, 'taken');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const r = goldstone(['create', 'plugin', 'goldstone-task-x', '--kind', 'task', '--dir', dir], root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${dir}: --dir: expected a new or empty folder, found 1 entry (notes.txt); nothing was written`);
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');

    const empty = join(root, 'empty');
    mkdirSync(empty);
    const ok = goldstone(['create', 'plugin', '@lab/oscillator', '--kind', 'task', '--dir', empty], root);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(empty, 'package.json'), 'utf8')).name).toBe('@lab/oscillator');
    expect(readFileSync(join(empty, 'src', 'index.ts'), 'utf8')).toContain("name: 'oscillator'");
  });

  it('writes a scoped package into ./NAME without its scope by default', () => {
    const r = goldstone(['create', 'plugin', '@lab/goldstone-model-wide', '--kind', 'model'], root);
    expect(r.code, r.stderr).toBe(0);
    const src = readFileSync(join(root, 'goldstone-model-wide', 'src', 'index.ts'), 'utf8');
    expect(src).toContain("name: 'wide'");
    expect(src).toContain('export const plugins = [wideModel];');
    expect(r.stdout).toBe('');
  });
});
