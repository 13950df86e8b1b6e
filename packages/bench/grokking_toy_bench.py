#!/usr/bin/python3
"""PyTorch peer of goldstone's grokking-toy bench (docs/grokking-toy.md, Liu et al. 2022).

Prints one JSON object on stdout, progress on stderr. Run with Debian's own python3:

    /usr/bin/python3 grokking_toy_bench.py --cells '[[1e-3, 1e-4], [1e-2, 1e-3]]' --steps 10000

The protocol, as docs/grokking-toy.md describes it (not from the reference code): p = 10 symbols, the 55
unordered pairs (i, j), i <= j, one example each; 45 train, 10 test, chosen at random. Every sum
class c = i + j (19 classes) has a fixed template Y_c ~ N(0, 1)^30; the target of (i, j) is Y_{i+j}.
Model: embeddings E [10, 2] ~ (U(0, 1) - 1/2), summed E_i + E_j, decoder 2 -> 200 -> 200 -> 30 with
tanh and nn.Linear's default initialisation. Loss: mean over all values of (out - Y)^2, full batch.
Two AdamW optimisers (betas 0.9, 0.999, eps 1e-8, weight decay 0): eta_r on E, eta_d on the decoder.
Accuracy: the template nearest to the output by squared distance is the class's.

Per cell (eta_r, eta_d) it reports the wall time (set-up, training, evaluation), the training
loop's time and time per step, and the final train/test accuracy and loss. Evaluation (train and
test loss and accuracy, no gradients) runs every --eval-every steps and after the last one.

Modes: `single` runs the cells one after another in this process (--threads threads); `pool` runs
them on --processes worker processes of one thread each, like `goldstone sweep --workers 2` (each
goldstone worker is one single-threaded wasm process); `both` runs single, then pool.
"""
import argparse
import json
import multiprocessing
import os
import sys
import time

import torch

P = 10
DIM = 2
WIDTH = 200
OUT = 30
TRAIN_NUM = 45


def make_problem(seed):
    """Templates, pairs and the split, from one generator seeded with `seed`."""
    g = torch.Generator().manual_seed(seed)
    templates = torch.randn(2 * P - 1, OUT, generator=g)
    pairs = torch.tensor([(i, j) for i in range(P) for j in range(i, P)], dtype=torch.long)
    perm = torch.randperm(len(pairs), generator=g)
    train, test = pairs[perm[:TRAIN_NUM]], pairs[perm[TRAIN_NUM:]]
    return g, templates, train, test


class Toy(torch.nn.Module):
    def __init__(self, g):
        super().__init__()
        self.E = torch.nn.Parameter(torch.rand(P, DIM, generator=g) - 0.5)
        self.decoder = torch.nn.Sequential(
            torch.nn.Linear(DIM, WIDTH), torch.nn.Tanh(), torch.nn.Linear(WIDTH, WIDTH), torch.nn.Tanh(), torch.nn.Linear(WIDTH, OUT)
        )

    def forward(self, pairs):
        return self.decoder(self.E[pairs[:, 0]] + self.E[pairs[:, 1]])


def scores(model, templates, pairs):
    with torch.no_grad():
        out = model(pairs)
        y = templates[pairs.sum(1)]
        nearest = ((out[:, None, :] - templates[None, :, :]) ** 2).sum(2).argmin(1)
        return float(((out - y) ** 2).mean()), float((nearest == pairs.sum(1)).double().mean())


def run_cell(cell, steps, seed, eval_every):
    eta_r, eta_d = cell
    t0 = time.perf_counter()
    torch.manual_seed(seed)  # nn.Linear's initialisation draws from the global generator
    g, templates, train, test = make_problem(seed)
    model = Toy(g)
    opt_r = torch.optim.AdamW([model.E], lr=eta_r, weight_decay=0.0)
    opt_d = torch.optim.AdamW(model.decoder.parameters(), lr=eta_d, weight_decay=0.0)
    y_train = templates[train.sum(1)]
    evals = 0
    t1 = time.perf_counter()
    for step in range(1, steps + 1):
        opt_r.zero_grad(set_to_none=True)
        opt_d.zero_grad(set_to_none=True)
        loss = ((model(train) - y_train) ** 2).mean()
        loss.backward()
        opt_r.step()
        opt_d.step()
        if step % eval_every == 0 or step == steps:
            scores(model, templates, train)
            scores(model, templates, test)
            evals += 1
    t2 = time.perf_counter()
    train_loss, train_acc = scores(model, templates, train)
    test_loss, test_acc = scores(model, templates, test)
    t3 = time.perf_counter()
    return {
        "eta_r": eta_r,
        "eta_d": eta_d,
        "steps": steps,
        "evaluations": evals,
        "wall_ms": (t3 - t0) * 1000.0,
        "train_ms": (t2 - t1) * 1000.0,
        "per_step_ms": (t2 - t1) * 1000.0 / steps,
        "train_accuracy": train_acc,
        "test_accuracy": test_acc,
        "train_loss": train_loss,
        "test_loss": test_loss,
    }


def _pool_init():
    torch.set_num_threads(1)


def _pool_cell(job):
    cell, steps, seed, eval_every = job
    return run_cell(cell, steps, seed, eval_every)


def blas():
    link = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu"
    if os.path.exists(link):
        return os.path.basename(os.path.dirname(os.path.realpath(link)))
    return "unknown (see torch.__config__.show())"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", required=True, help="JSON list of [eta_r, eta_d]")
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=58)
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--mode", choices=["single", "pool", "both"], default="both")
    parser.add_argument("--threads", type=int, default=1, help="threads of the single mode")
    parser.add_argument("--processes", type=int, default=2, help="worker processes of the pool mode")
    args = parser.parse_args()
    cells = json.loads(args.cells)
    if not isinstance(cells, list) or not all(isinstance(c, list) and len(c) == 2 for c in cells):
        sys.exit("--cells: expected a JSON list of [eta_r, eta_d] pairs")
    out = {
        "peer": "pytorch",
        "torch": torch.__version__,
        "blas": blas(),
        "steps": args.steps,
        "seed": args.seed,
        "eval_every": args.eval_every,
    }
    if args.mode in ("single", "both"):
        torch.set_num_threads(args.threads)
        t0 = time.perf_counter()
        runs = []
        for c in cells:
            print(f"torch toy: single eta_r={c[0]} eta_d={c[1]}", file=sys.stderr)
            runs.append(run_cell(c, args.steps, args.seed, args.eval_every))
        out["single"] = {"threads": torch.get_num_threads(), "wall_ms": (time.perf_counter() - t0) * 1000.0, "cells": runs}
    if args.mode in ("pool", "both"):
        print(f"torch toy: pool of {args.processes} processes, {len(cells)} cells", file=sys.stderr)
        ctx = multiprocessing.get_context("spawn")
        t0 = time.perf_counter()
        with ctx.Pool(args.processes, initializer=_pool_init) as pool:
            runs = pool.map(_pool_cell, [(c, args.steps, args.seed, args.eval_every) for c in cells], chunksize=1)
        out["pool"] = {"processes": args.processes, "threads_per_process": 1, "wall_ms": (time.perf_counter() - t0) * 1000.0, "cells": runs}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
