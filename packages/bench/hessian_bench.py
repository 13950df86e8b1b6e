#!/usr/bin/python3
"""PyTorch peer of goldstone's exact-Hessian bench (src/exact-hessian.ts): the Hessian of the
quickstart model's MSE (tanh MLP in goldstone's layout) w.r.t. the flat float32 parameters by
`torch.autograd.functional.hessian`, on the exact problem the bench writes (parameters, data),
and its largest difference from goldstone's matrix (`hessian.f32` beside the problem file).

    /usr/bin/python3 hessian_bench.py problem.json [--threads 2]

Prints one JSON object on stdout: the median wall time of `reps` builds (default, one backward per
row), the same with `vectorize=True` when this torch supports it, the loss check and
max |H_torch - H_goldstone| / max |H_torch|. Exits non-zero when the losses differ.
"""
import argparse
import json
import os
import sys
import time

import torch

from peer_common import check_layout, flat_forward, load_problem, median

ap = argparse.ArgumentParser()
ap.add_argument("problem")
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()
torch.set_num_threads(args.threads)

p = load_problem(args.problem)
prob = p["problem"]
sizes, n = prob["sizes"], prob["examples"]
check_layout(p["specs"], sizes, "hessian_bench.py")
x = torch.tensor(p["x"], dtype=torch.float32).reshape(n, sizes[0])
y = torch.tensor(p["y"], dtype=torch.float32).reshape(n, sizes[-1])
w = torch.tensor(p["w"], dtype=torch.float32)


def loss(wf):
    return ((flat_forward(wf, x, sizes, "tanh") - y) ** 2).mean()


loss_abs_diff = abs(float(loss(w)) - p["loss"])
if loss_abs_diff > 1e-4 * max(1.0, abs(p["loss"])):
    sys.exit(f"hessian_bench.py: PyTorch's loss {float(loss(w))} differs from goldstone's {p['loss']}")


def timed(**kw):
    torch.autograd.functional.hessian(loss, w, **kw)  # warm-up
    times, H = [], None
    for _ in range(max(1, prob.get("reps", 1))):
        t0 = time.perf_counter()
        H = torch.autograd.functional.hessian(loss, w, **kw)
        times.append((time.perf_counter() - t0) * 1000)
    return median(times), H


ms, H = timed()
try:
    vectorized_ms, _ = timed(vectorize=True)
except Exception as e:  # vmap coverage differs between torch versions
    print(f"hessian_bench.py: vectorize=True failed: {e}", file=sys.stderr)
    vectorized_ms = None

N = w.numel()
ours = torch.from_file(os.path.join(os.path.dirname(args.problem), "hessian.f32"), size=N * N, dtype=torch.float32).reshape(N, N)
max_abs = float(H.abs().max())
print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
                  "ms": round(ms, 3), "vectorized_ms": None if vectorized_ms is None else round(vectorized_ms, 3),
                  "loss_abs_diff": loss_abs_diff, "rel_max_diff": float((H - ours).abs().max()) / max_abs,
                  "max_abs": max_abs}))
