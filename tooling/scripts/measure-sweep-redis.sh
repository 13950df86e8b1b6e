#!/usr/bin/env bash
# Points per minute of a sweep with the local executor (1 and 2 workers) and with Redis (1 and 2
# workers), and the queue's per-point overhead from near-empty points (16 and 64 of them).
# Needs redis-server on PATH and the built CLI (pnpm build). Prints one line per measurement:
#   <experiment> rep<N> <executor><workers> <seconds> rc=<exit code>
# The numbers in packages/sweep-redis/README.md come from this script.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
G="node $ROOT/apps/cli/dist/bin.js"
W=$(mktemp -d); PORT=${PORT:-16543}
trap 'redis-cli -p $PORT shutdown nosave >/dev/null 2>&1; rm -rf "$W"' EXIT
seeds() { seq -s ', ' 1 "$1"; }
experiment() { # name epochs trainSize testSize points
  cat > "$W/$1.yaml" <<YAML
name: $1
seed: 1
backend: wasm
task:
  name: clt
  options: { sites: 16, block: 2, distribution: exponential, trainSize: $3, testSize: $4 }
model:
  name: mlp
  options: { hidden: [32], activation: tanh }
train: { optimizer: adam, lr: 0.003, epochs: $2, batchSize: 64, evalEvery: 5, checkpointEvery: 20 }
analyses: []
sweep:
  seeds: [$(seeds "$5")]
YAML
}
experiment long 160 2048 512 16
experiment tiny 1 64 64 16
experiment tiny64 1 64 64 64
redis-server --port "$PORT" --dir "$W" --save "" --appendonly no --daemonize yes >/dev/null
for _ in $(seq 1 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
URL=redis://127.0.0.1:$PORT
t() { local s e rc; s=$(date +%s.%N); "$@" >/dev/null 2>&1; rc=$?; e=$(date +%s.%N); echo "$(echo "$e - $s" | bc) rc=$rc"; }
for exp in ${EXPS:-long tiny tiny64}; do
  for rep in 1 2; do
    O=$(mktemp -d -p "$W")
    echo "$exp rep$rep local1 $(t $G sweep "$W/$exp.yaml" --out "$O/l1" --workers 1 --no-report)"
    echo "$exp rep$rep local2 $(t $G sweep "$W/$exp.yaml" --out "$O/l2" --workers 2 --no-report)"
    for n in 1 2; do
      q=measure-$exp-$rep-$n
      pids=""
      for i in $(seq 1 "$n"); do $G worker --redis "$URL" --queue "$q" > "$O/w$n-$i.log" 2>&1 & pids="$pids $!"; done
      sleep 4 # the workers start and wait on the queue before the clock starts
      echo "$exp rep$rep redis$n $(t $G sweep "$W/$exp.yaml" --out "$O/r$n" --executor redis --redis "$URL" --queue "$q" --no-report)"
      kill -TERM $pids 2>/dev/null; wait $pids 2>/dev/null
    done
  done
done
