#!/usr/bin/python3
"""PyTorch peer of goldstone's curvature bench (src/krylov.ts): the same Lanczos (full
reorthogonalisation) and deflated power iteration, float32 Hessian-vector products by double
backward, on the exact problem the bench writes (parameters, data, reference eigenvalues).

    /usr/bin/python3 krylov_bench.py problem.json [--threads 2]

Each algorithm runs until its top-k estimates are all within `accuracy` (relative) of the
reference, or its product budget is spent; products and wall time to that point are reported.
Before timing, the loss and one product H·probe are checked against goldstone's. Prints one JSON
object on stdout; exits non-zero when the function or the Hessian differ from goldstone's.
"""
import argparse
import json
import statistics
import sys
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("problem")
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()
torch.set_num_threads(args.threads)

p = json.load(open(args.problem))
prob = p["problem"]
K, ACC, BUDGET = prob["k"], prob["accuracy"], prob["budget"]
ref = p["reference"][:K]
sizes, n = prob["sizes"], prob["examples"]
x = torch.tensor(p["x"], dtype=torch.float32).reshape(n, sizes[0])
y = torch.tensor(p["y"], dtype=torch.float32).reshape(n, sizes[-1])
w = torch.tensor(p["w"], dtype=torch.float32).requires_grad_(True)

# goldstone's mlp layout: dense{i}.weight [in, out] row-major, then dense{i}.bias [out]
specs = p["specs"]
layers = len(sizes) - 1
expected = []
for i in range(layers):
    expected += [(f"dense{i}.weight", [sizes[i], sizes[i + 1]]), (f"dense{i}.bias", [sizes[i + 1]])]
got = [(s["name"], s["shape"]) for s in specs]
if got != expected:
    sys.exit(f"krylov_bench.py: unexpected parameter layout {got}")


def loss(wf):
    o, h = 0, x
    for i in range(layers):
        a, b = sizes[i] * sizes[i + 1], sizes[i + 1]
        W = wf[o:o + a].reshape(sizes[i], sizes[i + 1]); o += a
        B = wf[o:o + b]; o += b
        h = h @ W + B
        if i < layers - 1:
            h = torch.tanh(h)
    return -(y * torch.log_softmax(h, -1)).sum(-1).mean()


L = loss(w)
g = torch.autograd.grad(L, w, create_graph=True)[0]
count = [0]


def hvp(v):
    count[0] += 1
    return torch.autograd.grad(g, w, v.float(), retain_graph=True)[0].double()


# the same function and Hessian as goldstone's (also the warm-up product)
probe = torch.tensor(p["probe"], dtype=torch.float64)
ours = torch.tensor(p["probe_hv"], dtype=torch.float64)
hv = hvp(probe)
check = {"loss_abs_diff": abs(float(L) - p["loss"]), "hvp_rel_diff": float((hv - ours).norm() / ours.norm())}
if check["loss_abs_diff"] > 1e-4 * max(1.0, abs(p["loss"])) or check["hvp_rel_diff"] > 1e-3:
    sys.exit(f"krylov_bench.py: PyTorch's problem differs from goldstone's: {check}")


def accurate(vals):
    return len(vals) >= K and all(abs(vals[i] - r) <= ACC * abs(r) for i, r in enumerate(ref))


def result(hit, spent):
    return {"reached": hit is not None, "products": hit[0] if hit else None,
            "ms": round(hit[1], 3) if hit else None, "products_spent": spent}


N = w.numel()


def run_lanczos(gen):
    """Lanczos with full reorthogonalisation (twice, as goldstone's)."""
    t0 = time.perf_counter(); count[0] = 0; hit = None
    q = torch.randn(N, generator=gen, dtype=torch.float64); q /= q.norm()
    Q, al, be = [q], [], []
    for j in range(min(BUDGET, N)):
        wv = hvp(Q[-1]); a = float(Q[-1] @ wv); al.append(a)
        wv -= a * Q[-1]
        if j > 0: wv -= be[-1] * Q[-2]
        Qm = torch.stack(Q)
        for _ in range(2): wv -= Qm.T @ (Qm @ wv)
        T = torch.diag(torch.tensor(al, dtype=torch.float64))
        for i, b in enumerate(be): T[i, i + 1] = T[i + 1, i] = b
        if accurate(torch.linalg.eigvalsh(T).flip(0).tolist()):
            hit = (count[0], (time.perf_counter() - t0) * 1000); break
        b = float(wv.norm()); be.append(b); Q.append(wv / b)
    return hit, count[0]


def run_power(gen):
    """Deflated power iteration: each pair stopped at residual <= ACC*|lam|; stopped as soon as
    the k estimates (found pairs and the current one) all reach the reference, or at the budget."""
    t0 = time.perf_counter(); count[0] = 0; hit = None
    found, est = [], []
    for k in range(K):
        v = torch.randn(N, generator=gen, dtype=torch.float64)
        for u in found: v -= (u @ v) * u
        v /= v.norm()
        est.append(0.0)
        while count[0] < BUDGET:
            av = hvp(v)
            for u in found: av -= (u @ av) * u
            lam = float(v @ av); r = float((av - lam * v).norm())
            est[k] = lam
            if accurate(est):
                hit = (count[0], (time.perf_counter() - t0) * 1000); break
            if r <= ACC * abs(lam): break
            v = av / av.norm()
        if hit or count[0] >= BUDGET: break
        found.append(v)
    return hit, count[0]


def repeated(fn, seed):
    """prob["reps"] runs with the same start vectors (the same products); the median wall time."""
    runs = [fn(torch.Generator().manual_seed(seed)) for _ in range(max(1, prob.get("reps", 1)))]
    hit, spent = runs[0]
    if hit is None or any(h is None for h, _ in runs):
        return result(None, spent)
    return result((hit[0], statistics.median(h[1] for h, _ in runs)), spent)


lanczos = repeated(run_lanczos, p["seed"])
power = repeated(run_power, p["seed"] + 1)

print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
                  "check": check, "lanczos": lanczos, "power": power}))
