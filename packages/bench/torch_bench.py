#!/usr/bin/python3
"""PyTorch peer of goldstone's benchmark: the same models, batches and timing protocol.

Prints one JSON object on stdout. Run with Debian's own python3 (`/usr/bin/python3`), which has
`python3-torch` and OpenBLAS (`apt-get install -y python3-torch libopenblas0-pthread`).

    /usr/bin/python3 torch_bench.py [--quick] [--warmup N] [--reps N]

Cases (float32, 2 threads, softmax cross-entropy, ReLU MLPs with biases):
  train-mlp-64-256-256-2      one training step (forward + backward + Adam update), batch 256
  train-mlp-784-512-512-10    one training step, batch 128
  hvp-mlp-64-192-192-10       one Hessian-vector product by double backpropagation, batch 128
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

CASES = [
    {"name": "train-mlp-64-256-256-2", "kind": "train", "sizes": [64, 256, 256, 2], "batch": 256},
    {"name": "train-mlp-784-512-512-10", "kind": "train", "sizes": [784, 512, 512, 10], "batch": 128},
    {"name": "hvp-mlp-64-192-192-10", "kind": "hvp", "sizes": [64, 192, 192, 10], "batch": 128},
]


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def data(sizes, batch, gen):
    x = torch.randn(batch, sizes[0], generator=gen)
    y = torch.randint(0, sizes[-1], (batch,), generator=gen)
    return x, y


def time_ms(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000.0)
    return samples


def train_case(case, warmup, reps, gen):
    model = mlp(case["sizes"])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = data(case["sizes"], case["batch"], gen)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    return time_ms(step, warmup, reps), sum(p.numel() for p in model.parameters())


def hvp_case(case, warmup, reps, gen):
    model = mlp(case["sizes"])
    params = list(model.parameters())
    x, y = data(case["sizes"], case["batch"], gen)
    v = [torch.randn(p.shape, generator=gen) for p in params]
    loss_fn = torch.nn.CrossEntropyLoss()

    def hvp():
        loss = loss_fn(model(x), y)
        grads = torch.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * vi).sum() for g, vi in zip(grads, v))
        hv = torch.autograd.grad(dot, params)
        return hv[0][0, 0].item()

    return time_ms(hvp, warmup, reps), sum(p.numel() for p in params)


def blas():
    """The BLAS Debian's torch links through the libblas.so.3 alternative (OpenBLAS when installed)."""
    link = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu"
    if os.path.exists(link):
        return os.path.basename(os.path.dirname(os.path.realpath(link)))
    return "unknown (see torch.__config__.show())"


def summary(samples):
    s = sorted(samples)
    q = lambda f: s[min(len(s) - 1, int(f * (len(s) - 1) + 0.5))]
    return {
        "median_ms": statistics.median(s),
        "p10_ms": q(0.1),
        "p90_ms": q(0.9),
        "min_ms": s[0],
        "reps": len(s),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    quick_env = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    parser.add_argument("--quick", action="store_true", default=quick_env)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else (2 if args.quick else 10)
    reps = args.reps if args.reps is not None else (5 if args.quick else 50)

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    results = []
    for case in CASES:
        print(f"torch: {case['name']}", file=sys.stderr)
        run = train_case if case["kind"] == "train" else hvp_case
        samples, n_params = run(case, warmup, reps, gen)
        results.append({"name": case["name"], "params": n_params, "batch": case["batch"], **summary(samples)})
    print(
        json.dumps(
            {
                "peer": "pytorch",
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "blas": blas(),
                "warmup": warmup,
                "quick": args.quick,
                "cases": results,
            }
        )
    )


if __name__ == "__main__":
    main()
