#!/usr/bin/python3
"""PyTorch peer of goldstone's seeds bench (src/seeds.ts): S seeds of a CLT 16-32-8 tanh MLP
(nn.Linear init), MSE, Adam, mini-batches in a per-seed random order, a fixed number of
epochs, on the data set the bench writes (the same for every seed); at the end the train and
test loss of each seed. Seed s seeds its own generator (initial parameters and data order).

    /usr/bin/python3 seeds_bench.py problem.json                # pool, then single
    /usr/bin/python3 seeds_bench.py problem.json --worker 0     # one pool worker (internal)

`pool`: `workers` processes started at once (each this script with --worker w, one thread),
worker w training its contiguous slice of the seeds one after another; wall time from spawning
to the last exit, and the slowest worker's in-process training time. `single`: all seeds in this
process, one thread. Prints one JSON object on stdout (a worker: its own).
"""
import argparse
import json
import math
import subprocess
import sys
import time

import torch

from peer_common import load_problem, torch_mlp

ap = argparse.ArgumentParser()
ap.add_argument("problem")
ap.add_argument("--worker", type=int, default=None)
args = ap.parse_args()
torch.set_num_threads(1)

p = load_problem(args.problem)
prob = p["problem"]
SITES, OUT = prob["sites"], prob["sites"] // prob["block"]
x = torch.tensor(p["train"]["x"], dtype=torch.float32).reshape(-1, SITES)
y = torch.tensor(p["train"]["y"], dtype=torch.float32).reshape(-1, OUT)
xt = torch.tensor(p["test"]["x"], dtype=torch.float32).reshape(-1, SITES)
yt = torch.tensor(p["test"]["y"], dtype=torch.float32).reshape(-1, OUT)
N, B, EPOCHS = x.shape[0], prob["batchSize"], prob["epochs"]


def train_seed(s):
    g = torch.Generator().manual_seed(1000 * prob["seed"] + s)
    torch.manual_seed(1000 * prob["seed"] + s)
    model = torch_mlp([SITES, *prob["hidden"], OUT], "tanh")
    opt = torch.optim.Adam(model.parameters(), lr=prob["lr"])
    for _ in range(EPOCHS):
        perm = torch.randperm(N, generator=g)
        for b in range(0, N, B):
            idx = perm[b:b + B]
            opt.zero_grad(set_to_none=True)
            loss = ((model(x[idx]) - y[idx]) ** 2).mean()
            loss.backward()
            opt.step()
            if not math.isfinite(loss.item()):  # goldstone's train() checks every step's loss too
                raise RuntimeError(f"seed {s} diverged")
    with torch.no_grad():
        return {"seed": s, "train_loss": float(((model(x) - y) ** 2).mean()), "test_loss": float(((model(xt) - yt) ** 2).mean())}


def slice_of(w):
    per = -(-prob["seeds"] // prob["workers"])
    return list(range(prob["seeds"]))[w * per:(w + 1) * per]


def run(seeds):
    t0 = time.perf_counter()
    out = [train_seed(s) for s in seeds]
    return (time.perf_counter() - t0) * 1000, out


if args.worker is not None:
    ms, out = run(slice_of(args.worker))
    print(json.dumps({"train_ms": ms, "seeds": out}))
    sys.exit(0)

t0 = time.perf_counter()
procs = [subprocess.Popen([sys.executable, __file__, args.problem, "--worker", str(w)], stdout=subprocess.PIPE, text=True)
         for w in range(prob["workers"])]
outs = [pr.communicate()[0] for pr in procs]
wall = (time.perf_counter() - t0) * 1000
if any(pr.returncode != 0 for pr in procs):
    sys.exit("seeds_bench.py: a pool worker failed")
workers = [json.loads(o.strip().split("\n")[-1]) for o in outs]
seeds = [s for w in workers for s in w["seeds"]]
S = prob["seeds"]
pool = {"available": True, "ms": round(wall, 3), "seeds_per_s": round(S / (wall / 1000), 3), "seeds": seeds,
        "train_ms": round(max(w["train_ms"] for w in workers), 3), "processes": prob["workers"], "threads_per_process": 1}
ms, out = run(range(S))
single = {"available": True, "ms": round(ms, 3), "seeds_per_s": round(S / (ms / 1000), 3), "seeds": out, "threads": 1}
print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "pool": pool, "single": single}))
