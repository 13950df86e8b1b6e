#!/usr/bin/env bash
# Piecemeal install: install goldstone the way a user does, from the packed tarballs, with only the
# CLI, core, models, task-clt and analysis-hessian (plus the workspace packages those depend on,
# found from the packed package.json files), into an empty folder outside the workspace, with npm.
# Everything else comes from the npm registry. Then run a small experiment with those plugins,
# check that a built-in whose package is missing is refused with "install <package>", that
# `goldstone list` shows only what is installed, and that node_modules stays small and free of the
# @tensorflow/tfjs union package.
#
#   bash scripts/piecemeal-install.sh        (pnpm test:install)
#
# Environment: PIECEMEAL_MAX_MB (default 120) size limit of node_modules; PIECEMEAL_NPM_CACHE an npm
# cache folder (default: npm's own); PIECEMEAL_KEEP=1 keeps the temporary folder and prints its path.
# Prints one line per check and exits 1 if any failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MAX_MB=${PIECEMEAL_MAX_MB:-120}
INSTALL=(@goldstone/cli @goldstone/core @goldstone/models @goldstone/task-clt @goldstone/analysis-hessian)
started=$SECONDS

# Run npm as a user would from a terminal: without the npm_config_* variables pnpm exports to scripts
# (pnpm's catalog, its global rc path, …). npm still reads the user's own .npmrc.
for name in $(compgen -e); do
  case $name in
    npm_config_* | npm_package_* | npm_lifecycle_* | npm_command | npm_execpath | npm_node_execpath | pnpm_config_* | PNPM_SCRIPT_SRC_DIR) unset "$name" ;;
  esac
done
export TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1 npm_config_update_notifier=false NO_COLOR=1
npm_flags=(--no-audit --no-fund --loglevel=error)
if [ -n "${PIECEMEAL_NPM_CACHE:-}" ]; then npm_flags+=(--cache "$PIECEMEAL_NPM_CACHE"); fi

work=$(mktemp -d "${TMPDIR:-/tmp}/goldstone-piecemeal.XXXXXX")
work=$(cd "$work" && pwd -P)
cleanup() {
  if [ "${PIECEMEAL_KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
case "$work/" in
  "$(cd "$ROOT" && pwd -P)/"*) echo "piecemeal install: the temporary folder $work is inside the workspace" >&2; exit 2 ;;
esac

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok    $*"; }
bad() { failed=$((failed + 1)); echo "FAIL  $*"; }
# The last lines of a log, indented, after a failed check.
show() { sed -e 's/^/      | /' "$1" | tail -n "${2:-25}"; }
finish() {
  echo "piecemeal install: ${passed} checks passed, ${failed} failed ($((SECONDS - started)) s)"
  if [ "$failed" -eq 0 ]; then exit 0; fi
  exit 1
}

# 1. Build, so the script works on its own (after `pnpm build` or `pnpm test`, which also builds every
#    public package, turbo's cache makes this take seconds).
if (cd "$ROOT" && pnpm --silent build --output-logs=errors-only) >"$work/build.log" 2>&1; then
  ok "build: every package built"
else
  bad "build: pnpm build failed"; show "$work/build.log"; finish
fi

# 2. Pack every public package; keep the tarballs of the requested packages and of their workspace
#    dependencies, transitively.
mkdir -p "$work/tarballs"
if node "$ROOT/tooling/scripts/pack-packages.mjs" "$work/tarballs" --closure "${INSTALL[@]}" >"$work/closure.txt" 2>"$work/pack.log"; then
  count=$(grep -c '^pack: ok' "$work/pack.log")
  ok "pack: ${count} public packages packed; no workspace: or catalog: range left in any packed package.json; LICENSE in each"
else
  bad "pack: pnpm pack or a packed package.json is wrong"; show "$work/pack.log"; finish
fi
mapfile -t tarballs <"$work/closure.txt"
names=$(node -e '
  const index = require(process.argv[1]);
  const wanted = new Set(process.argv.slice(2));
  console.log(index.filter((p) => wanted.has(p.tarball)).map((p) => p.name.replace("@goldstone/", "")).join(" "));
' "$work/tarballs/index.json" "${tarballs[@]}")
ok "closure: ${#tarballs[@]} tarballs to install: ${names}"
cli_tgz=$(printf '%s\n' "${tarballs[@]}" | grep '/goldstone-cli-[^/]*\.tgz$')
cli_files=$(tar -tzf "$cli_tgz")
if grep -qx 'package/LICENSE' <<<"$cli_files"; then
  ok "license: tar tzf $(basename "$cli_tgz") lists package/LICENSE"
else
  bad "license: package/LICENSE missing from $(basename "$cli_tgz")"
fi

# 3. An empty npm project outside the workspace, and npm install of those tarballs only.
app="$work/app"
mkdir -p "$app"
cd "$app"
npm init -y >/dev/null
t0=$SECONDS
if npm install "${npm_flags[@]}" "${tarballs[@]}" >"$work/npm-install.log" 2>&1; then
  ok "npm install: ${#tarballs[@]} tarballs + their registry dependencies in $((SECONDS - t0)) s (npm $(npm --version))"
else
  bad "npm install failed"; show "$work/npm-install.log" 40; finish
fi
# Every @goldstone package in node_modules came from a tarball, and no other one was installed.
if report=$(node -e '
  const lock = require(process.argv[1]);
  const wanted = process.argv.slice(2).length;
  const ours = Object.entries(lock.packages).filter(([path]) => /(^|\/)node_modules\/@goldstone\//.test(path));
  const fromRegistry = ours.filter(([, p]) => !String(p.resolved ?? "").startsWith("file:"));
  const names = ours.map(([path]) => path.replace(/^.*node_modules\//, ""));
  if (fromRegistry.length > 0 || ours.length !== wanted) {
    console.log(`${ours.length} @goldstone packages installed, ${wanted} expected; not from a tarball: ${fromRegistry.map(([p]) => p).join(", ") || "none"}; installed: ${names.join(", ")}`);
    process.exit(1);
  }
  console.log(`${ours.length} @goldstone packages, all from the tarballs (file:)`);
' "$app/package-lock.json" "${tarballs[@]}"); then
  ok "provenance: $report"
else
  bad "provenance: $report"
fi

gs="$app/node_modules/.bin/goldstone"

# 4. A small experiment with only the installed plugins.
cat >exp.yaml <<'YAML'
name: piecemeal
description: The smallest end-to-end run with task-clt, an MLP from models and the exact Hessian.
seed: 1
task:
  name: clt
  options: { sites: 8, block: 2, trainSize: 256, testSize: 128 }
model:
  name: mlp
  options: { hidden: [8], activation: tanh }
train:
  epochs: 3
  batchSize: 64
analyses:
  - name: hessian
    options: { method: exact, maxExamples: 128 }
YAML
t0=$SECONDS
set +e
"$gs" run exp.yaml --out runs/x >"$work/run.out" 2>"$work/run.err"
rc=$?
set -e
if [ "$rc" -eq 0 ]; then
  ok "run: goldstone run exp.yaml --out runs/x exited 0 in $((SECONDS - t0)) s"
else
  bad "run: goldstone run exp.yaml exited $rc"; show "$work/run.err"
fi
if status=$(node -e '
  const run = require(process.argv[1]);
  const hessian = require(process.argv[2]).result;
  console.log(`status ${run.status}, backend ${run.backend ?? "?"}; hessian ${hessian.method}, ${hessian.paramCount} parameters, top eigenvalue ${hessian.topEigenvalues[0].toPrecision(4)}`);
  process.exit(run.status === "completed" && hessian.method === "exact" ? 0 : 1);
' "$app/runs/x/run.json" "$app/runs/x/analyses/hessian.json" 2>&1); then
  ok "run.json: $status"
else
  bad "run.json: ${status}"
fi
missing=()
for f in metrics.jsonl analyses/hessian.json report.html; do
  [ -s "runs/x/$f" ] || missing+=("$f")
done
if [ "${#missing[@]}" -eq 0 ]; then
  ok "run files: metrics.jsonl ($(wc -l <runs/x/metrics.jsonl) lines), analyses/hessian.json, report.html ($(($(wc -c <runs/x/report.html) / 1024)) KB)"
else
  bad "run files: missing or empty: ${missing[*]}"
fi

# 5. Built-ins whose package is not installed: exit 2, say which package to install, write nothing.
refused() { # $1 label, $2 the YAML's plugin lines, $3 package expected in the message
  printf 'name: %s\nseed: 1\n%s\n' "$1" "$2" >"$1.yaml"
  set +e
  "$gs" run "$1.yaml" --out "runs/$1" >"$work/$1.out" 2>"$work/$1.err"
  local rc=$?
  set -e
  local message
  message=$(grep -m1 -F "install $3" "$work/$1.err" || true)
  if [ "$rc" -eq 2 ] && [ -n "$message" ] && [ ! -e "runs/$1" ]; then
    ok "not installed ($1): exit 2, nothing written: ${message}"
  else
    bad "not installed ($1): exit $rc (want 2), message with \"install $3\": ${message:-none}, runs/$1 $([ -e "runs/$1" ] && echo written || echo 'not written')"
    show "$work/$1.err" 10
  fi
}
refused missing-analysis "task: { name: clt }
model: { name: mlp, options: { hidden: [4] } }
train: { epochs: 1 }
analyses:
  - name: robustness" @goldstone/analysis-robustness
refused missing-task "task: { name: mnist }
model: { name: mlp, options: { hidden: [4] } }
train: { epochs: 1 }" @goldstone/task-mnist

# 6. goldstone list: only the installed plugins.
set +e
"$gs" list --json >"$work/list.json" 2>"$work/list.err"
rc=$?
"$gs" list >"$work/list.txt" 2>>"$work/list.err"
rc_text=$?
set -e
if [ "$rc" -eq 0 ] && [ "$rc_text" -eq 0 ] && report=$(node -e '
  const list = require(process.argv[1]);
  const installed = new Set(["@goldstone/models", "@goldstone/task-clt", "@goldstone/analysis-hessian"]);
  const names = list.map((p) => `${p.kind} ${p.name}`);
  const foreign = list.filter((p) => !installed.has(p.package)).map((p) => `${p.name} (${p.package})`);
  const absent = ["task clt", "model mlp", "analysis hessian"].filter((n) => !names.includes(n));
  if (foreign.length || absent.length) {
    console.log(`listed but not installed: ${foreign.join(", ") || "none"}; installed but not listed: ${absent.join(", ") || "none"}`);
    process.exit(1);
  }
  console.log(`${list.length} plugins, all from ${[...installed].join(", ")}: ${list.map((p) => p.name).join(", ")}`);
' "$work/list.json" 2>&1); then
  ok "list: $report"
else
  bad "list: exit ${rc}/${rc_text}; ${report:-}"; show "$work/list.err" 10
fi

# 7. Size, and no @tensorflow/tfjs union (layers, converter, data, webgl: goldstone uses none of them).
size_mb=$(du -sm node_modules | cut -f1)
union=no
[ -e node_modules/@tensorflow/tfjs ] && union=yes
if [ "$union" = yes ]; then
  # What node_modules would weigh without the union: drop @tensorflow/tfjs and every package that
  # only it needs (not reachable from the project without going through it), resolving each
  # dependency the way Node does (nearest node_modules upwards), from package-lock.json.
  without=$(node -e '
    const { execFileSync } = require("node:child_process");
    const { existsSync } = require("node:fs");
    const lock = require("./package-lock.json");
    const pkgs = lock.packages;
    const UNION = "node_modules/@tensorflow/tfjs";
    const resolveFrom = (from, dep) => {
      for (let base = from; ; base = base.replace(/\/?node_modules\/(@[^/]+\/)?[^/]+$/, "")) {
        const candidate = (base ? base + "/" : "") + "node_modules/" + dep;
        if (pkgs[candidate]) return candidate;
        if (!base) return undefined;
      }
    };
    const reach = new Set([""]);
    const queue = [""];
    while (queue.length) {
      const path = queue.shift();
      const p = pkgs[path];
      const deps = { ...p.dependencies, ...p.optionalDependencies, ...p.peerDependencies };
      for (const dep of Object.keys(deps)) {
        const target = resolveFrom(path, dep);
        if (!target || target === UNION || reach.has(target)) continue;
        reach.add(target);
        queue.push(target);
      }
    }
    const dropped = Object.keys(pkgs).filter((p) => p && !reach.has(p) && existsSync(p));
    // Count each dropped folder once (not again for folders nested in another dropped one).
    const top = dropped.filter((p) => !dropped.some((q) => q !== p && p.startsWith(q + "/")));
    const kb = top.length ? execFileSync("du", ["-sk", ...top], { encoding: "utf8" })
      .trim().split("\n").reduce((s, line) => s + Number(line.split("\t")[0]), 0) : 0;
    const total = Number(execFileSync("du", ["-sk", "node_modules"], { encoding: "utf8" }).split("\t")[0]);
    const by = Object.entries(pkgs)
      .filter(([path, p]) => reach.has(path) && p.dependencies?.["@tensorflow/tfjs"])
      .map(([path]) => path.replace(/^.*node_modules\//, "") || "the project");
    console.log(`${Math.round((total - kb) / 1024)} ${dropped.length} ${Math.round(kb / 1024)} ${by.join(",") || "?"}`);
  ') || without='? ? ? ?'
  read -r without_mb dropped_count dropped_mb by <<<"$without"
  bad "no union: node_modules/@tensorflow/tfjs is installed (a dependency of ${by}); it and what only it needs (${dropped_count} packages) weigh ${dropped_mb} MB"
  if [ "$size_mb" -le "$MAX_MB" ]; then
    ok "size: du -sm node_modules = ${size_mb} MB (limit ${MAX_MB} MB); without the union ${without_mb} MB"
  else
    bad "size: du -sm node_modules = ${size_mb} MB > ${MAX_MB} MB; without the union and its own dependencies ${without_mb} MB"
  fi
else
  ok "no union: node_modules/@tensorflow/tfjs is not installed"
  if [ "$size_mb" -le "$MAX_MB" ]; then
    ok "size: du -sm node_modules = ${size_mb} MB (limit ${MAX_MB} MB)"
  else
    bad "size: du -sm node_modules = ${size_mb} MB > ${MAX_MB} MB"
  fi
fi

finish
