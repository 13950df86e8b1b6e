#!/usr/bin/env node
// Size and public surface of every workspace package under packages/*, apps/* and examples/*
// (tooling/* is left out), so a restructuring can be compared before and after.
//
//   node tooling/scripts/measure-packages.mjs          table on stdout
//   node tooling/scripts/measure-packages.mjs --json   the same numbers (plus the exported names) as JSON
//
// Per package:
//   src      lines of src/**/*.ts, without *.test.ts and test-support.ts
//   tests    lines of *.test.ts, test-support.ts and the code files under test/ (JSON fixtures are data, not counted)
//   exports  names exported by src/index.ts, values and types, `export *` followed (TypeScript checker,
//            with the package's own tsconfig.json); `values` have a runtime binding, `types` are type-only
//   export*  bare `export * from '…'` statements in the entry file (`export * as ns` names one export and is not counted)
// Each extra subpath in package.json `exports` (e.g. "./format" → ./dist/format.js) gets its own indented row,
// measured on the source file it is built from (dist/X.js → src/X.ts). A package's exports are the sum of its entries.
// Lines are physical lines, as `wc -l` counts them (a last line without a newline counts too).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import { ROOT, workspacePackages } from './workspace.mjs';

const GROUPS = ['packages', 'apps', 'examples'];
const CODE_IN_TEST_DIR = /\.(ts|mts|cts|tsx|js|mjs|cjs)$/;

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--json');
if (unknown.length > 0) {
  console.error(`unknown argument(s): ${unknown.join(' ')}\nusage: node tooling/scripts/measure-packages.mjs [--json]`);
  process.exit(2);
}
const asJson = args.includes('--json');

/** @type {string[]} */
const warnings = [];
const warn = (message) => warnings.push(message);

const posix = (p) => p.split(sep).join('/');

function walk(dir, skip = () => false) {
  /** @type {string[]} */
  const out = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.name === 'node_modules' || entry.name === 'dist' || skip(path, entry)) continue;
    if (entry.isDirectory()) out.push(...walk(path, skip));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

function countLines(file) {
  const text = readFileSync(file, 'utf8');
  if (text.length === 0) return 0;
  const newlines = text.split('\n').length - 1;
  return text.endsWith('\n') ? newlines : newlines + 1;
}

const isTestFile = (name) => name.endsWith('.test.ts') || name === 'test-support.ts';


/** First string target of an `exports` value, preferring what a TypeScript/ESM consumer would load. */
function exportTarget(value) {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = exportTarget(v);
      if (t) return t;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const key of ['import', 'default', 'types', 'require', 'node']) {
      if (key in value) {
        const t = exportTarget(value[key]);
        if (t) return t;
      }
    }
    for (const v of Object.values(value)) {
      const t = exportTarget(v);
      if (t) return t;
    }
  }
  return undefined;
}

/** Entry points: "." → src/index.ts, plus each other subpath of `exports` whose target maps to a src file. */
function entryPoints(pkg) {
  const entries = [{ subpath: '.', file: join(pkg.dir, 'src/index.ts') }];
  const exp = pkg.manifest.exports;
  if (!exp || typeof exp !== 'object' || Array.isArray(exp)) return entries;
  const keys = Object.keys(exp);
  if (!keys.some((k) => k.startsWith('.'))) return entries; // a bare conditions object describes "." only
  for (const subpath of keys) {
    if (subpath === '.' || subpath === './package.json') continue;
    const target = exportTarget(exp[subpath]);
    if (subpath.includes('*') || !target) {
      warn(`${pkg.manifest.name}: exports["${subpath}"] not measured (${subpath.includes('*') ? 'pattern' : 'no target'})`);
      continue;
    }
    if (target.endsWith('.json')) continue;
    const m = /^\.\/dist\/(.+?)(\.d)?\.(js|mjs|cjs|ts|mts|cts)$/.exec(target);
    if (!m) {
      warn(`${pkg.manifest.name}: exports["${subpath}"] → ${target} is not under dist/, not measured`);
      continue;
    }
    const file = join(pkg.dir, 'src', `${m[1]}.ts`);
    entries.push({ subpath, file });
  }
  return entries;
}

function compilerOptions(pkg) {
  const configPath = existsSync(join(pkg.dir, 'tsconfig.json')) ? join(pkg.dir, 'tsconfig.json') : join(ROOT, 'tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => warn(`${posix(relative(ROOT, configPath))}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`),
  });
  return { ...(parsed?.options ?? {}), noEmit: true };
}

/** True when `symbol`, reached through `export`/`import` aliases, names only a type (no runtime binding). */
function isTypeOnly(checker, symbol) {
  let current = symbol;
  const seen = new Set();
  while (current.flags & ts.SymbolFlags.Alias && !seen.has(current)) {
    seen.add(current);
    for (const decl of current.declarations ?? []) {
      if (ts.isTypeOnlyImportOrExportDeclaration(decl)) return true;
      if (ts.isNamespaceExport(decl) && decl.parent.isTypeOnly) return true;
    }
    const next = checker.getImmediateAliasedSymbol(current);
    if (!next) break;
    current = next;
  }
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  if (target.flags & ts.SymbolFlags.Value) return false;
  // A namespace import/re-export of a module is a runtime object.
  if (target.flags & ts.SymbolFlags.ValueModule) return false;
  return true;
}

/**
 * Symbols a module re-exports through `export type * from '…'`, directly or through plain `export *` chains.
 * Those are not aliases, so the checker's export list does not mark them type-only by itself.
 */
function typeOnlyStarExports(checker, moduleSymbol, seen = new Set()) {
  const out = new Set();
  if (seen.has(moduleSymbol)) return out;
  seen.add(moduleSymbol);
  for (const decl of moduleSymbol.declarations ?? []) {
    if (!ts.isSourceFile(decl)) continue;
    for (const stmt of decl.statements) {
      if (!ts.isExportDeclaration(stmt) || stmt.exportClause || !stmt.moduleSpecifier) continue;
      const target = checker.getSymbolAtLocation(stmt.moduleSpecifier);
      if (!target) continue;
      if (stmt.isTypeOnly) for (const s of checker.getExportsOfModule(target)) out.add(s);
      else for (const s of typeOnlyStarExports(checker, target, seen)) out.add(s);
    }
  }
  return out;
}

function measureEntry(program, checker, pkg, entry) {
  const rel = posix(relative(pkg.dir, entry.file));
  const base = { subpath: entry.subpath, file: rel };
  const sourceFile = program.getSourceFile(entry.file);
  if (!sourceFile) return { ...base, missing: true };
  let exportStar = 0;
  for (const stmt of sourceFile.statements) {
    if (!ts.isExportDeclaration(stmt) || stmt.exportClause || !stmt.moduleSpecifier) continue;
    exportStar += 1;
    const spec = stmt.moduleSpecifier.getText(sourceFile);
    if (!checker.getSymbolAtLocation(stmt.moduleSpecifier)) {
      warn(`${pkg.manifest.name}: ${rel}: export * from ${spec} does not resolve; its names are not counted`);
    }
  }
  const moduleSymbol = checker.getSymbolAtLocation(sourceFile);
  const exported = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : [];
  const viaTypeStar = moduleSymbol ? typeOnlyStarExports(checker, moduleSymbol) : new Set();
  const values = [];
  const types = [];
  for (const symbol of exported) {
    (viaTypeStar.has(symbol) || isTypeOnly(checker, symbol) ? types : values).push(symbol.getName());
  }
  values.sort();
  types.sort();
  return { ...base, exports: exported.length, values: values.length, types: types.length, exportStar, names: { values, types } };
}

function measurePackage(pkg) {
  const name = pkg.manifest.name ?? posix(relative(ROOT, pkg.dir));
  const srcDir = join(pkg.dir, 'src');
  const srcFiles = walk(srcDir).filter((f) => f.endsWith('.ts'));
  const sourceFiles = srcFiles.filter((f) => !isTestFile(f.slice(f.lastIndexOf(sep) + 1)));
  const testFiles = [
    ...srcFiles.filter((f) => isTestFile(f.slice(f.lastIndexOf(sep) + 1))),
    ...walk(pkg.dir, (p, e) => e.isDirectory() && (p === srcDir || p === join(pkg.dir, 'test')))
      .filter((f) => f.endsWith('.test.ts')),
    ...walk(join(pkg.dir, 'test')).filter((f) => CODE_IN_TEST_DIR.test(f)),
  ];
  const sum = (files) => files.reduce((n, f) => n + countLines(f), 0);

  const entries = entryPoints(pkg);
  const present = entries.filter((e) => existsSync(e.file));
  for (const e of entries) {
    if (e.subpath !== '.' && !existsSync(e.file)) warn(`${name}: exports["${e.subpath}"] → ${posix(relative(pkg.dir, e.file))} does not exist`);
  }
  let measured = entries.map((e) => ({ subpath: e.subpath, file: posix(relative(pkg.dir, e.file)), missing: true }));
  if (present.length > 0) {
    const program = ts.createProgram({ rootNames: present.map((e) => e.file), options: compilerOptions(pkg) });
    const checker = program.getTypeChecker();
    measured = entries.map((e) => measureEntry(program, checker, pkg, e));
  }
  const total = (key) => measured.reduce((n, e) => n + (e[key] ?? 0), 0);
  return {
    name,
    dir: posix(relative(ROOT, pkg.dir)),
    private: pkg.manifest.private === true,
    sourceFiles: sourceFiles.length,
    sourceLines: sum(sourceFiles),
    testFiles: testFiles.length,
    testLines: sum(testFiles),
    exports: total('exports'),
    values: total('values'),
    types: total('types'),
    exportStar: total('exportStar'),
    entries: measured,
  };
}

const packages = workspacePackages(GROUPS).map(measurePackage);
const totals = {
  packages: packages.length,
  sourceFiles: 0,
  sourceLines: 0,
  testFiles: 0,
  testLines: 0,
  exports: 0,
  values: 0,
  types: 0,
  exportStar: 0,
};
for (const p of packages) for (const key of Object.keys(totals)) if (key !== 'packages') totals[key] += p[key];

for (const w of warnings) console.error(`warning: ${w}`);

if (asJson) {
  process.stdout.write(`${JSON.stringify({ packages, totals }, null, 2)}\n`);
} else {
  const header = ['package', 'src', 'tests', 'exports', 'values', 'types', 'export*'];
  const rows = [];
  for (const p of packages) {
    const index = p.entries[0];
    const idx = (key) => (index.missing ? '-' : String(index[key]));
    const hasSubpaths = p.entries.length > 1;
    rows.push([
      p.name,
      String(p.sourceLines),
      String(p.testLines),
      hasSubpaths ? String(p.exports) : idx('exports'),
      hasSubpaths ? String(p.values) : idx('values'),
      hasSubpaths ? String(p.types) : idx('types'),
      hasSubpaths ? String(p.exportStar) : idx('exportStar'),
    ]);
    if (hasSubpaths) {
      for (const e of p.entries) {
        const cell = (key) => (e.missing ? '-' : String(e[key]));
        const label = e.subpath === '.' ? '.' : e.subpath;
        rows.push([`  ${label} (${e.file})`, '', '', cell('exports'), cell('values'), cell('types'), cell('exportStar')]);
      }
    }
  }
  const totalRow = [
    `total (${totals.packages} packages)`,
    String(totals.sourceLines),
    String(totals.testLines),
    String(totals.exports),
    String(totals.values),
    String(totals.types),
    String(totals.exportStar),
  ];
  const widths = header.map((h, i) => Math.max(h.length, totalRow[i].length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  process.stdout.write(`${[line(header), rule, ...rows.map(line), rule, line(totalRow)].join('\n')}\n`);
}
