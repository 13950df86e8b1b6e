#!/usr/bin/env node
// Import cycles between source files of one package, and between workspace packages; optionally, layering.
//
//   node tooling/scripts/import-cycles.mjs
//
// Scans src/**/*.ts of every workspace package (packages/*, apps/*, examples/*, tooling/*; those without src/ have
// nothing to scan), leaving out tests: *.test.ts, test-support.ts and anything under a test/ directory.
// Every import counts, type-only ones included, because a type-only cycle is still a design cycle:
//   import … from 'x', import type … from 'x', import 'x', export … from 'x', export type … from 'x',
//   import('x') calls, import('x').T type queries, import x = require('x').
// Specifiers resolve as follows; anything else (npm packages, node: builtins) is outside the graph:
//   './x', '../x'           → x.ts, x.tsx, x/index.ts (a .js/.mjs/.cjs extension is read as its .ts source)
//   '@goldstone/name[/sub]' → the workspace package whose package.json name is '@goldstone/name'
//                              (any workspace package name is matched, the longest one first)
// A cycle is reported per strongly connected component, with its elementary cycles (at most 20 shown each);
// each edge is marked `type` when every import along it is type-only.
//
// Layers. If tooling/layers.json exists, every import from one workspace package to another must go down:
//   {
//     "layers": { "@goldstone/plugin-api": 0, "@goldstone/core": 1, "@goldstone/cli": 3 },
//     "allow":  [["@goldstone/a", "@goldstone/b"]]
//   }
// "layers" maps a package name to a layer number (a non-negative integer; lower is more basic). A package at
// layer L may import packages at layers < L. It may import a package at its own layer L only when the pair
// [importer, imported] is listed in "allow" (one direction per pair; list both pairs for both directions).
// "allow" is optional and never permits an import to a higher layer. Workspace packages missing from "layers"
// are reported as "unlayered" warnings and their imports are not layer-checked; they do not fail the check.
//
// Exit status: 0 when there is no cycle and no layer violation; 1 otherwise; 2 when tooling/layers.json is malformed.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { ROOT, workspacePackages } from './workspace.mjs';

const GROUPS = ['packages', 'apps', 'examples', 'tooling'];
const LAYERS_FILE = join(ROOT, 'tooling/layers.json');
const MAX_CYCLES_SHOWN = 20;

const posix = (p) => p.split(sep).join('/');
const rel = (p) => posix(relative(ROOT, p));

// ---------------------------------------------------------------------------------------------- workspace files

function workspaceSources() {
  return workspacePackages(GROUPS).map(({ dir, manifest }) => ({ name: manifest.name ?? rel(dir), dir, files: sourceFiles(join(dir, 'src')) }));
}

function sourceFiles(dir) {
  /** @type {string[]} */
  const out = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'test' && entry.name !== 'node_modules' && entry.name !== 'dist') out.push(...sourceFiles(path));
    } else if (entry.isFile() && /\.(ts|tsx|mts|cts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      if (!/\.test\.(ts|tsx|mts|cts)$/.test(entry.name) && !/^test-support\.(ts|tsx|mts|cts)$/.test(entry.name)) out.push(path);
    }
  }
  return out.sort();
}

// ---------------------------------------------------------------------------------------------- imports

/** Module specifiers of one file, each with whether that import is type-only. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  /** @type {{ specifier: string, typeOnly: boolean, line: number }[]} */
  const out = [];
  const add = (literal, typeOnly) => {
    if (!literal || !ts.isStringLiteralLike(literal)) return;
    const line = sf.getLineAndCharacterOfPosition(literal.getStart(sf)).line + 1;
    out.push({ specifier: literal.text, typeOnly, line });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      let typeOnly = false;
      if (clause) {
        const named = clause.namedBindings;
        typeOnly =
          clause.isTypeOnly ||
          (!clause.name && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly));
      }
      add(node.moduleSpecifier, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const clause = node.exportClause;
      const typeOnly =
        node.isTypeOnly || (clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly));
      add(node.moduleSpecifier, typeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function resolveRelative(fromFile, specifier) {
  const base = resolve(dirname(fromFile), specifier);
  const stem = base.replace(/\.(js|mjs|cjs|jsx)$/, '');
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.cts`, join(base, 'index.ts'), join(base, 'index.tsx')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile() && /\.(ts|tsx|mts|cts)$/.test(c));
}

// ---------------------------------------------------------------------------------------------- graphs

/** A directed graph: node → (neighbour → { typeOnly, sites }). */
class Graph {
  constructor() {
    /** @type {Map<string, Map<string, { typeOnly: boolean, sites: string[] }>>} */
    this.edges = new Map();
  }
  node(n) {
    if (!this.edges.has(n)) this.edges.set(n, new Map());
    return this.edges.get(n);
  }
  add(from, to, typeOnly, site) {
    this.node(to);
    const out = this.node(from);
    const edge = out.get(to);
    if (edge) {
      edge.typeOnly = edge.typeOnly && typeOnly;
      edge.sites.push(site);
    } else out.set(to, { typeOnly, sites: [site] });
  }
}

/** Strongly connected components with a cycle in them (more than one node, or a self-import). Tarjan, iterative. */
function cyclicComponents(graph) {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const components = [];
  for (const start of [...graph.edges.keys()].sort()) {
    if (indices.has(start)) continue;
    const work = [{ v: start, it: [...graph.edges.get(start).keys()].sort()[Symbol.iterator]() }];
    indices.set(start, index);
    low.set(start, index);
    index += 1;
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const next = frame.it.next();
      if (!next.done) {
        const w = next.value;
        if (!indices.has(w)) {
          indices.set(w, index);
          low.set(w, index);
          index += 1;
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, it: [...graph.edges.get(w).keys()].sort()[Symbol.iterator]() });
        } else if (onStack.has(w)) low.set(frame.v, Math.min(low.get(frame.v), indices.get(w)));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].v;
        low.set(parent, Math.min(low.get(parent), low.get(frame.v)));
      }
      if (low.get(frame.v) === indices.get(frame.v)) {
        const component = [];
        let w;
        do {
          w = stack.pop();
          onStack.delete(w);
          component.push(w);
        } while (w !== frame.v);
        if (component.length > 1 || graph.edges.get(frame.v).has(frame.v)) components.push(component.sort());
      }
    }
  }
  return components;
}

/** Elementary cycles inside one component, each starting at its smallest node; at most `limit` (+1 to flag more). */
function elementaryCycles(graph, component, limit) {
  const members = new Set(component);
  const order = [...component].sort();
  const cycles = [];
  for (let i = 0; i < order.length && cycles.length <= limit; i++) {
    const start = order[i];
    const allowed = new Set(order.slice(i));
    const path = [start];
    const onPath = new Set([start]);
    const neighbours = (v) => [...graph.edges.get(v).keys()].filter((w) => members.has(w) && allowed.has(w)).sort();
    const work = [{ v: start, it: neighbours(start)[Symbol.iterator]() }];
    while (work.length > 0 && cycles.length <= limit) {
      const frame = work[work.length - 1];
      const next = frame.it.next();
      if (next.done) {
        work.pop();
        onPath.delete(path.pop());
        continue;
      }
      const w = next.value;
      if (w === start) cycles.push([...path, start]);
      else if (!onPath.has(w)) {
        path.push(w);
        onPath.add(w);
        work.push({ v: w, it: neighbours(w)[Symbol.iterator]() });
      }
    }
  }
  return cycles;
}

/** Report lines for cyclic components; `name` prints a node. */
function describeCycles(graph, components, name) {
  const lines = [];
  for (const component of components) {
    const cycles = elementaryCycles(graph, component, MAX_CYCLES_SHOWN);
    const typeOnlyEverywhere = component.every((v) =>
      [...graph.edges.get(v)].every(([w, e]) => !component.includes(w) || e.typeOnly),
    );
    lines.push(`cycle among ${component.length}${typeOnlyEverywhere ? ', type-only imports' : ''}: ${component.map(name).join(', ')}`);
    for (const cycle of cycles.slice(0, MAX_CYCLES_SHOWN)) {
      const parts = [name(cycle[0])];
      for (let i = 1; i < cycle.length; i++) {
        const edge = graph.edges.get(cycle[i - 1]).get(cycle[i]);
        parts.push(`${arrow(edge)} ${name(cycle[i])}`);
      }
      lines.push(`  ${parts.join(' ')}`);
    }
    if (cycles.length > MAX_CYCLES_SHOWN) lines.push(`  … and more cycles through these`);
    lines.push('  edges:');
    for (const v of component) {
      for (const [w, edge] of [...graph.edges.get(v)].sort()) {
        if (!component.includes(w)) continue;
        lines.push(`    ${name(v)} ${arrow(edge)} ${name(w)}   at ${sites(edge)}`);
      }
    }
  }
  return lines;
}

const arrow = (edge) => (edge.typeOnly ? '-(type)->' : '->');
const sites = (edge) => `${edge.sites.slice(0, 3).join(', ')}${edge.sites.length > 3 ? `, … (${edge.sites.length})` : ''}`;

// ---------------------------------------------------------------------------------------------- layers

function readLayers() {
  if (!existsSync(LAYERS_FILE)) return undefined;
  const fail = (why) => {
    console.error(`${rel(LAYERS_FILE)}: ${why}`);
    process.exit(2);
  };
  let data;
  try {
    data = JSON.parse(readFileSync(LAYERS_FILE, 'utf8'));
  } catch (error) {
    fail(`not valid JSON (${error.message})`);
  }
  if (!data || typeof data !== 'object' || !data.layers || typeof data.layers !== 'object' || Array.isArray(data.layers)) {
    fail('expected an object with a "layers" object');
  }
  for (const [name, layer] of Object.entries(data.layers)) {
    if (!Number.isInteger(layer) || layer < 0) fail(`layer of "${name}" must be a non-negative integer, not ${JSON.stringify(layer)}`);
  }
  const allow = data.allow ?? [];
  if (!Array.isArray(allow) || !allow.every((p) => Array.isArray(p) && p.length === 2 && p.every((n) => typeof n === 'string'))) {
    fail('"allow" must be a list of [importer, imported] package-name pairs');
  }
  return { layers: new Map(Object.entries(data.layers)), allow: new Set(allow.map(([a, b]) => `${a}\u0000${b}`)), allowList: allow };
}

// ---------------------------------------------------------------------------------------------- main

const packages = workspaceSources();
const byLongestName = [...packages].sort((a, b) => b.name.length - a.name.length);
const packageOfFile = new Map();
for (const pkg of packages) for (const f of pkg.files) packageOfFile.set(f, pkg);
const packageOfPath = (file) => packages.find((p) => file.startsWith(p.dir + sep));

const fileGraph = new Graph();
const packageGraph = new Graph();
const warnings = [];
let fileCount = 0;

for (const pkg of packages) {
  if (pkg.files.length > 0) packageGraph.node(pkg.name);
  for (const file of pkg.files) {
    fileCount += 1;
    fileGraph.node(file);
    for (const { specifier, typeOnly, line } of importsOf(file)) {
      const site = `${rel(file)}:${line}`;
      if (specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..') {
        const target = resolveRelative(file, specifier);
        if (!target) {
          if (!/\.(json|css|txt|wasm)$/.test(specifier)) warnings.push(`${site}: cannot resolve '${specifier}'`);
          continue;
        }
        const targetPkg = packageOfFile.get(target) ?? packageOfPath(target);
        if (targetPkg === pkg) {
          if (packageOfFile.has(target)) fileGraph.add(file, target, typeOnly, site);
        } else if (targetPkg) packageGraph.add(pkg.name, targetPkg.name, typeOnly, site);
        continue;
      }
      const targetPkg = byLongestName.find((p) => specifier === p.name || specifier.startsWith(`${p.name}/`));
      if (targetPkg && targetPkg !== pkg) packageGraph.add(pkg.name, targetPkg.name, typeOnly, site);
      else if (!targetPkg && specifier.startsWith('@goldstone/')) warnings.push(`${site}: '${specifier}' is not a workspace package`);
    }
  }
}

const problems = [];

// File cycles, package by package (file edges never cross packages, so components never do either).
const fileComponents = cyclicComponents(fileGraph);
for (const pkg of packages) {
  const mine = fileComponents.filter((c) => packageOfFile.get(c[0]) === pkg);
  if (mine.length === 0) continue;
  const srcDir = join(pkg.dir, 'src');
  problems.push(`file cycles in ${pkg.name} (${rel(srcDir)}):`);
  problems.push(...describeCycles(fileGraph, mine, (f) => posix(relative(srcDir, f))).map((l) => `  ${l}`));
}

const packageComponents = cyclicComponents(packageGraph);
if (packageComponents.length > 0) {
  problems.push('package cycles:');
  problems.push(...describeCycles(packageGraph, packageComponents, (n) => n).map((l) => `  ${l}`));
}

const layering = readLayers();
let crossImports = 0;
if (layering) {
  const scanned = packages.filter((p) => p.files.length > 0);
  for (const name of layering.layers.keys()) {
    if (!packages.some((p) => p.name === name)) warnings.push(`${rel(LAYERS_FILE)}: "${name}" is not a workspace package`);
  }
  for (const pkg of scanned) {
    if (!layering.layers.has(pkg.name)) warnings.push(`unlayered: ${pkg.name} is not in ${rel(LAYERS_FILE)}; its imports are not layer-checked`);
  }
  const violations = [];
  for (const [from, out] of [...packageGraph.edges].sort()) {
    for (const [to, edge] of [...out].sort()) {
      if (!layering.layers.has(from) || !layering.layers.has(to)) continue;
      crossImports += 1;
      const lf = layering.layers.get(from);
      const lt = layering.layers.get(to);
      if (lt < lf) continue;
      if (lt === lf && layering.allow.has(`${from}\u0000${to}`)) continue;
      const why = lt === lf ? `same layer ${lf}, not in "allow"` : `layer ${lf} imports layer ${lt}`;
      violations.push(`  ${from} ${arrow(edge)} ${to}: ${why}   at ${sites(edge)}`);
    }
  }
  for (const [a, b] of layering.allowList) {
    const la = layering.layers.get(a);
    const lb = layering.layers.get(b);
    if (la !== undefined && lb !== undefined && la !== lb) warnings.push(`${rel(LAYERS_FILE)}: allow ["${a}", "${b}"] has no effect (layers ${la} and ${lb}; "allow" is for one layer)`);
  }
  if (violations.length > 0) problems.push(`layer violations (${rel(LAYERS_FILE)}):`, ...violations);
}

for (const w of warnings) console.error(`warning: ${w}`);
const packageCount = [...packageGraph.edges.keys()].length;
if (problems.length > 0) {
  const counts = [];
  if (fileComponents.length > 0) counts.push(`${fileComponents.length} file cycle group${fileComponents.length === 1 ? '' : 's'}`);
  if (packageComponents.length > 0) counts.push(`${packageComponents.length} package cycle group${packageComponents.length === 1 ? '' : 's'}`);
  if (problems.some((p) => p.startsWith('layer violations'))) counts.push('layer violations');
  problems.push('', `failed: ${counts.join(', ')} (${fileCount} files, ${packageCount} packages)`);
  process.stdout.write(`${problems.join('\n')}\n`);
  process.exitCode = 1;
} else {
  const layersOk = layering ? `; layers ok (${crossImports} package imports checked)` : '';
  process.stdout.write(`no import cycles (${fileCount} files, ${packageCount} packages)${layersOk}\n`);
}
