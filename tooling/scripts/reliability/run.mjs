#!/usr/bin/env node
// The reliability harness: bad inputs and faults against the built CLI (apps/cli/dist/bin.js), with
// a results file and the README's reliability table. See README.md in this folder.
//
//   node tooling/scripts/reliability/run.mjs [--quick] [--jobs N] [--timeout S] [--results FILE]
//        [--readme | --no-readme] [--only REGEX] [--faults LIST | --no-faults] [--fuzz N] [--keep]
//   node tooling/scripts/reliability/run.mjs --render RESULTS.json   (only rewrite the README table)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { BIN, ROOT, classify, commitInfo, diffSnapshots, killAll, runCli, snapshot, tail } from './lib.mjs';
import { buildFixture, cleanupCase, prepareCase, removeWork } from './fixture.mjs';
import { buildCases, fuzzCases } from './cases.mjs';
import { FAULTS } from './faults.mjs';
import { updateReadme } from './readme.mjs';

const USAGE = `usage: node tooling/scripts/reliability/run.mjs [--quick] [--jobs N] [--timeout S] [--results FILE]
       [--readme | --no-readme] [--only REGEX] [--faults a,b | --no-faults] [--fuzz N] [--keep]
       node tooling/scripts/reliability/run.mjs --render RESULTS.json`;

function parseArgs(argv) {
  const o = { quick: false, jobs: 2, timeout: 120, readme: undefined, only: undefined, faults: undefined, fuzz: undefined, keep: false, results: undefined };
  const value = (i, name) => {
    if (i >= argv.length) usage(`${name} needs a value`);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--readme') o.readme = true;
    else if (a === '--no-readme') o.readme = false;
    else if (a === '--no-faults') o.faults = [];
    else if (a === '--faults') o.faults = value(++i, a).split(',').filter(Boolean);
    else if (a === '--only') o.only = new RegExp(value(++i, a));
    else if (a === '--results') o.results = value(++i, a);
    else if (a === '--render') o.render = value(++i, a);
    else if (a === '--jobs' || a === '--timeout' || a === '--fuzz') {
      const n = Number(value(++i, a));
      if (!Number.isInteger(n) || n < (a === '--fuzz' ? 0 : 1)) usage(`${a} ${argv[i]}: expected a whole number`);
      o[a.slice(2)] = n;
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else usage(`unknown option ${a}`);
  }
  for (const f of o.faults ?? []) if (!(f in FAULTS)) usage(`--faults: unknown fault test "${f}" (known: ${Object.keys(FAULTS).join(', ')})`);
  return o;
}

function usage(message) {
  process.stderr.write(`error: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const substitute = (list, cwd) => list.map((s) => s.replaceAll('{cwd}', cwd));

/** Whether `path` (relative to the case's project) lies under one of the `mayChange` entries. */
function exempt(path, mayChange) {
  return mayChange.some((m) => (m.endsWith('/') ? path.startsWith(m) : path === m || path.startsWith(`${m}/`)));
}

/** Created paths, without those inside another created path. */
function topmost(paths) {
  const set = new Set(paths);
  return paths.filter((p) => !p.split('/').slice(0, -1).some((_, i, parts) => set.has(parts.slice(0, i + 1).join('/'))));
}

async function runCase(base, work, c, timeoutMs, keep) {
  const dir = join(work, 'cases', c.id);
  const notes = prepareCase(base, dir, c);
  if (notes.length) {
    cleanupCase(dir, c);
    return { id: c.id, group: c.group, title: c.title, outcome: 'skipped', pass: true, notes };
  }
  const before = snapshot(dir);
  const args = substitute(c.args, dir);
  const run = await runCli(args, { cwd: dir, timeoutMs });
  const after = snapshot(dir);
  const verdict = classify(run, { expectExit: c.expectExit, mentions: substitute(c.mentions, dir) });
  const { removed, changed, created } = diffSnapshots(before, after);
  const lost = new Set([...removed, ...changed].filter((p) => !exempt(p, c.mayChange)));
  for (const s of c.sentinels) if (before[s] === undefined || before[s] !== after[s]) lost.add(s);
  const codeRan = after['evil/RAN'] !== undefined && before['evil/RAN'] === undefined;
  const leftBehind = run.code === 0 ? [] : topmost(created.filter((p) => p !== 'evil/RAN'));
  const dataLost = [...lost].sort();
  const pass = (verdict.outcome === 'clear' || verdict.outcome === 'ok') && dataLost.length === 0 && leftBehind.length === 0 && !codeRan;
  if (!(keep && !pass)) cleanupCase(dir, c);
  const result = {
    id: c.id,
    group: c.group,
    title: c.title,
    command: `goldstone ${args.map((a) => (a === '' || /\s/.test(a) ? JSON.stringify(a) : a.length > 120 ? `${a.slice(0, 40)}…` : a)).join(' ').replaceAll(dir, '$PROJECT')}`,
    expectExit: c.expectExit,
    exit: run.code,
    signal: run.signal,
    ms: run.ms,
    outcome: verdict.outcome,
    pass,
    errorLine: verdict.errorLine?.replaceAll(dir, '$PROJECT') ?? null,
    stackTrace: verdict.stackTrace,
    dataLost: dataLost.slice(0, 30),
    dataLostCount: dataLost.length,
    leftBehind: leftBehind.slice(0, 10),
    codeRan,
  };
  if (!pass) result.stderr = tail(run.stderr, 8).replaceAll(dir, '$PROJECT');
  if (keep && !pass) result.keptAt = dir;
  return result;
}

async function pool(items, jobs, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

function totals(cases) {
  const counted = cases.filter((c) => c.outcome !== 'skipped');
  const n = (pred) => counted.filter(pred).length;
  return {
    cases: counted.length,
    skipped: cases.length - counted.length,
    clear: n((c) => c.outcome === 'clear'),
    unclear: n((c) => c.outcome === 'unclear'),
    accepted: n((c) => c.outcome === 'ok'),
    otherExit: n((c) => c.outcome === 'other-exit'),
    hangs: n((c) => c.outcome === 'hang'),
    crashes: n((c) => c.outcome === 'crash'),
    dataLost: n((c) => c.dataLostCount > 0),
    leftBehind: n((c) => c.leftBehind.length > 0),
    codeRan: n((c) => c.codeRan),
    stackTraces: n((c) => c.stackTrace),
    failing: n((c) => !c.pass),
  };
}

function groups(cases) {
  const by = new Map();
  for (const c of cases) {
    if (c.outcome === 'skipped') continue;
    const g = by.get(c.group) ?? { group: c.group, cases: 0, clear: 0, failing: 0 };
    g.cases++;
    if (c.outcome === 'clear' || c.outcome === 'ok') g.clear++;
    if (!c.pass) g.failing++;
    by.set(c.group, g);
  }
  return [...by.values()];
}

function why(c) {
  const parts = [];
  if (c.outcome === 'hang') parts.push('HANG (killed at the time-out)');
  else if (c.outcome === 'crash') parts.push(`CRASH (${c.signal ?? `exit ${c.exit}`})`);
  else if (c.outcome === 'other-exit') parts.push(`exit ${c.exit}, expected ${c.expectExit.join(' or ')}`);
  else if (c.outcome === 'unclear') parts.push(c.stackTrace ? 'exit 2 with a stack trace' : 'exit 2, message does not name the field/flag/file');
  if (c.dataLostCount) parts.push(`DATA LOST: ${c.dataLost.slice(0, 4).join(', ')}${c.dataLostCount > 4 ? ` (+${c.dataLostCount - 4})` : ''}`);
  if (c.leftBehind.length) parts.push(`left behind: ${c.leftBehind.slice(0, 3).join(', ')}`);
  if (c.codeRan) parts.push("the run's plugin module was imported");
  const msg = c.errorLine ?? (c.stderr ? c.stderr.split('\n').filter(Boolean).pop() : '');
  return `${parts.join('; ')}${msg ? ` — ${msg.slice(0, 160)}` : ''}`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.render) {
    // Only re-render the README table from an earlier results file.
    updateReadme(join(ROOT, 'README.md'), JSON.parse(readFileSync(opts.render, 'utf8')));
    process.stdout.write(`README.md table rendered from ${opts.render}\n`);
    return;
  }
  if (!existsSync(BIN)) usage(`${relative(process.cwd(), BIN)} does not exist: run pnpm build first`);
  const started = Date.now();
  const timeoutMs = opts.timeout * 1000;
  const work = mkdtempSync(join(tmpdir(), 'goldstone-reliability-'));
  const log = (s) => process.stderr.write(`${s}\n`);
  log(`reliability: ${opts.quick ? 'quick' : 'full'} run against ${relative(process.cwd(), BIN) || BIN}, work in ${work}`);
  let exitCode = 0;
  const onSignal = (signal) => {
    log(`reliability: ${signal}: stopping the running commands${opts.keep ? '' : ` and removing ${work}`}`);
    killAll();
    if (!opts.keep) removeWork(work);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const base = join(work, 'base');
    await buildFixture(base);
    log('reliability: fixture project built (finished run, interrupted run, finished sweep)');

    let cases = [...buildCases(), ...fuzzCases(opts.fuzz ?? (opts.quick ? 4 : 60))];
    if (opts.quick) cases = cases.filter((c) => c.quick || c.id.startsWith('fuzz-'));
    if (opts.only) cases = cases.filter((c) => opts.only.test(c.id));
    const light = cases.filter((c) => !c.heavy);
    const heavy = cases.filter((c) => c.heavy);
    let done = 0;
    const one = async (c) => {
      const r = await runCase(base, work, c, timeoutMs, opts.keep);
      done++;
      log(`[${String(done).padStart(3)}/${cases.length}] ${(r.pass ? 'ok' : 'FAIL').padEnd(4)} ${r.outcome.padEnd(10)} ${c.id}${r.ms !== undefined ? ` (${(r.ms / 1000).toFixed(1)} s)` : ''}`);
      return r;
    };
    const results = [...(await pool(light, opts.jobs, one)), ...(await pool(heavy, 1, one))];

    const faultIds = opts.faults ?? (opts.quick ? ['kill-training'] : Object.keys(FAULTS));
    const faults = [];
    for (const id of faultIds) {
      log(`reliability: fault test ${id}…`);
      const f = await FAULTS[id](work, { timeoutMs: Math.max(timeoutMs, 300_000) });
      log(`reliability: fault test ${id}: ${f.outcome}${f.failed.length ? ` (${f.failed.join('; ')})` : ''}`);
      faults.push(f);
    }

    const git = commitInfo();
    const report = {
      measuredAt: new Date().toISOString(),
      commit: git.commit,
      dirty: git.dirty,
      subject: git.subject,
      node: process.versions.node,
      cores: availableParallelism(),
      quick: opts.quick,
      timeoutMs,
      durationMs: Date.now() - started,
      totals: totals(results),
      groups: groups(results),
      faults,
      cases: results,
    };
    const resultsFile = opts.results ?? (opts.quick || opts.only ? join(tmpdir(), `goldstone-reliability-${Date.now()}.json`) : join(ROOT, 'tooling', 'scripts', 'reliability', 'results.json'));
    mkdirSync(dirname(resultsFile), { recursive: true });
    writeFileSync(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
    const writeReadme = opts.readme ?? (!opts.quick && !opts.only);
    if (writeReadme) updateReadme(join(ROOT, 'README.md'), report);

    const t = report.totals;
    const failing = results.filter((c) => !c.pass);
    const byGroup = new Map();
    for (const c of failing) byGroup.set(c.group, [...(byGroup.get(c.group) ?? []), c]);
    const out = [];
    for (const [g, list] of byGroup) {
      out.push(`${g}:`);
      for (const c of list) out.push(`  ${c.id}: ${why(c)}`);
    }
    process.stdout.write(
      `${out.join('\n')}${out.length ? '\n\n' : ''}` +
        `bad inputs: ${t.cases} tried${t.skipped ? ` (${t.skipped} skipped)` : ''}, ${t.clear} exit 2 with a clear message, ${t.unclear} exit 2 unclear, ${t.accepted} accepted where allowed, ${t.otherExit} other exits; ` +
        `data lost ${t.dataLost}, hangs ${t.hangs}, crashes ${t.crashes}, left files behind ${t.leftBehind}, plugin code ran ${t.codeRan}\n` +
        faults.map((f) => `fault ${f.id}: ${f.outcome}${f.failed.length ? ` (${f.failed.join('; ')})` : ''}\n`).join('') +
        `results: ${resultsFile}${writeReadme ? '; README.md table updated' : ''} (${Math.round(report.durationMs / 1000)} s)\n`,
    );
    if (t.dataLost > 0 || t.hangs > 0 || t.crashes > 0 || faults.some((f) => f.outcome !== 'pass')) exitCode = 1;
  } finally {
    if (!opts.keep) removeWork(work);
  }
  process.exitCode = exitCode;
}

main().catch((err) => {
  process.stderr.write(`error: ${err.stack ?? err}\n`);
  process.exitCode = 1;
});
