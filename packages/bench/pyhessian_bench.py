#!/usr/bin/python3
"""PyTorch peer of goldstone's SLQ / Hutchinson bench (src/curvature-estimators.ts): the Hessian
trace (Hutchinson, Rademacher probes) and the spectral density (stochastic Lanczos quadrature)
computed as PyHessian computes them (Yao et al. 2020, pyhessian/hessian.py: `trace` and
`density`): the gradient graph built once (`loss.backward(create_graph=True)`), then a
sequential Python loop of Hessian-vector products (`torch.autograd.grad` of the gradients with
`retain_graph=True`) over lists of per-parameter tensors, float32, on the exact problem the bench
writes (goldstone's weights and batch, a ReLU MLP with softmax cross-entropy).

    /usr/bin/python3 pyhessian_bench.py problem.json [--threads 2]

Differences from PyHessian, stated: `trace` runs all probes (tol 0; PyHessian's default stops
early at a relative change below 1e-3), the tridiagonal eigenproblem uses torch.linalg.eigh
(PyHessian's torch.eig is gone from recent torch). Prints one JSON object on stdout; exits
non-zero when the loss or one H·v differ from goldstone's.
"""
import argparse
import json
import math
import sys
import time
import warnings

import torch

from peer_common import check_layout, load_problem, median, torch_mlp

ap = argparse.ArgumentParser()
ap.add_argument("problem")
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()
torch.set_num_threads(args.threads)
# PyHessian builds the graph with loss.backward(create_graph=True), which torch warns about
warnings.filterwarnings("ignore", message="Using backward\\(\\) with create_graph=True")

p = load_problem(args.problem)
prob = p["problem"]
sizes, n = prob["sizes"], prob["batch"]
check_layout(p["specs"], sizes, "pyhessian_bench.py")

# the model: nn.Linear layers holding goldstone's weights (Linear.weight is W transposed)
model = torch_mlp(sizes, "relu")
linears = [m for m in model if isinstance(m, torch.nn.Linear)]
flat = torch.tensor(p["w"], dtype=torch.float32)


def to_params(vec):
    """A flat vector in goldstone's layout as a list shaped like model.parameters()."""
    out, o = [], 0
    for i in range(len(sizes) - 1):
        a, b = sizes[i] * sizes[i + 1], sizes[i + 1]
        out.append(vec[o:o + a].reshape(sizes[i], sizes[i + 1]).t().contiguous()); o += a
        out.append(vec[o:o + b].clone()); o += b
    return out


with torch.no_grad():
    for lin, (W, B) in zip(linears, zip(to_params(flat)[0::2], to_params(flat)[1::2])):
        lin.weight.copy_(W); lin.bias.copy_(B)
inputs = torch.tensor(p["x"], dtype=torch.float32).reshape(n, sizes[0])
targets = torch.tensor(p["y"], dtype=torch.float32).reshape(n, sizes[-1]).argmax(-1)
criterion = torch.nn.CrossEntropyLoss()

# --- PyHessian's utilities (pyhessian/utils.py), as written there -------------------------------


def group_product(xs, ys):
    return sum([torch.sum(x * y) for (x, y) in zip(xs, ys)])


def group_add(params, update, alpha=1):
    for i, _ in enumerate(params):
        params[i].data.add_(update[i] * alpha)
    return params


def normalization(v):
    s = group_product(v, v)
    s = s ** 0.5
    s = s.cpu().item()
    return [vi / (s + 1e-6) for vi in v]


def get_params_grad(model):
    params, grads = [], []
    for param in model.parameters():
        if not param.requires_grad:
            continue
        params.append(param)
        grads.append(0. if param.grad is None else param.grad + 0.)
    return params, grads


count = [0]


def hessian_vector_product(gradsH, params, v):
    count[0] += 1
    return torch.autograd.grad(gradsH, params, grad_outputs=v, only_inputs=True, retain_graph=True)


def orthnormal(w, v_list):
    for v in v_list:
        w = group_add(w, v, alpha=-group_product(w, v))
    return normalization(w)


# --- PyHessian's hessian class: the graph once, then trace() and density() ----------------------


class Hessian:
    def __init__(self):
        model.zero_grad()
        outputs = model(inputs)
        self.loss = criterion(outputs, targets)
        self.loss.backward(create_graph=True)
        self.params, self.gradsH = get_params_grad(model)

    def trace(self, maxIter=100, tol=1e-3):
        trace_vhv, trace = [], 0.
        for _ in range(maxIter):
            model.zero_grad()
            v = [torch.randint_like(p, high=2) for p in self.params]
            for v_i in v:
                v_i[v_i == 0] = -1
            Hv = hessian_vector_product(self.gradsH, self.params, v)
            trace_vhv.append(group_product(Hv, v).cpu().item())
            mean = sum(trace_vhv) / len(trace_vhv)
            if abs(mean - trace) / (abs(trace) + 1e-6) < tol:
                return trace_vhv
            trace = mean
        return trace_vhv

    def density(self, iter=100, n_v=1):
        eigen_list_full, weight_list_full = [], []
        for _ in range(n_v):
            v = [torch.randint_like(p, high=2) for p in self.params]
            for v_i in v:
                v_i[v_i == 0] = -1
            v = normalization(v)
            v_list, w_list, alpha_list, beta_list = [v], [], [], []
            for i in range(iter):
                model.zero_grad()
                if i == 0:
                    w_prime = hessian_vector_product(self.gradsH, self.params, v)
                    alpha = group_product(w_prime, v)
                    alpha_list.append(alpha.cpu().item())
                    w = group_add(list(w_prime), v, alpha=-alpha)
                    w_list.append(w)
                else:
                    beta = torch.sqrt(group_product(w, w))
                    beta_list.append(beta.cpu().item())
                    if beta_list[-1] != 0.:
                        v = orthnormal(w, v_list)
                    else:
                        w = [torch.randn(p.size()) for p in self.params]
                        v = orthnormal(w, v_list)
                    v_list.append(v)
                    w_prime = hessian_vector_product(self.gradsH, self.params, v)
                    alpha = group_product(w_prime, v)
                    alpha_list.append(alpha.cpu().item())
                    w_tmp = group_add(list(w_prime), v, alpha=-alpha)
                    w = group_add(w_tmp, v_list[-2], alpha=-beta)
            T = torch.zeros(iter, iter)
            for i in range(len(alpha_list)):
                T[i, i] = alpha_list[i]
                if i < len(alpha_list) - 1:
                    T[i + 1, i] = beta_list[i]
                    T[i, i + 1] = beta_list[i]
            a_, b_ = torch.linalg.eigh(T)
            eigen_list_full.append(a_.tolist())
            weight_list_full.append((b_[0, :] ** 2).tolist())
        return eigen_list_full, weight_list_full


# --- the same function and Hessian as goldstone's (also the warm-up product) --------------------
h = Hessian()
N = flat.numel()
probe = to_params(torch.tensor(p["probe"], dtype=torch.float32))
hv = hessian_vector_product(h.gradsH, h.params, probe)
hv_flat = torch.cat([t for i in range(len(hv) // 2) for t in (hv[2 * i].t().reshape(-1), hv[2 * i + 1].reshape(-1))]).double()
ours = torch.tensor(p["probe_hv"], dtype=torch.float64)
check = {"loss_abs_diff": abs(float(h.loss) - p["loss"]), "hvp_rel_diff": float((hv_flat - ours).norm() / ours.norm())}
if check["loss_abs_diff"] > 1e-4 * max(1.0, abs(p["loss"])) or check["hvp_rel_diff"] > 1e-3:
    sys.exit(f"pyhessian_bench.py: PyTorch's problem differs from goldstone's: {check}")


def timed(fn):
    """prob["reps"] runs from the same random stream (a new Hessian object each: the graph once per run)."""
    times, out, products = [], None, 0
    for _ in range(max(1, prob.get("reps", 1))):
        torch.manual_seed(p["seed"])
        count[0] = 0
        t0 = time.perf_counter()
        out = fn(Hessian())
        times.append((time.perf_counter() - t0) * 1000)
        products = count[0]
    return median(times), out, products


def stats(values):
    k = len(values)
    mean = sum(values) / k
    var = sum((x - mean) ** 2 for x in values) / (k - 1) if k > 1 else 0.0
    return mean, math.sqrt(var / k)


S, H = prob["slq"], prob["hutchinson"]
slq_ms, (eigs, weights), slq_products = timed(lambda hs: hs.density(iter=S["steps"], n_v=S["probes"]))
per_probe = [N * sum(t * w for t, w in zip(e, ws)) for e, ws in zip(eigs, weights)]
slq_trace, slq_se = stats(per_probe)
hut_ms, vhv, hut_products = timed(lambda hs: hs.trace(maxIter=H["probes"], tol=0.0))
hut_trace, hut_se = stats(vhv)
print(json.dumps({
    "peer": "pytorch", "style": "pyhessian", "torch": torch.__version__, "threads": torch.get_num_threads(), "check": check,
    "slq": {"ms": round(slq_ms, 3), "products": slq_products, "ms_per_product": round(slq_ms / slq_products, 3),
            "trace": slq_trace, "trace_stderr": slq_se, "top_node": max(max(e) for e in eigs)},
    "hutchinson": {"ms": round(hut_ms, 3), "products": hut_products, "ms_per_product": round(hut_ms / hut_products, 3),
                   "trace": hut_trace, "trace_stderr": hut_se},
}))
