#!/usr/bin/python3
"""Float64 reference fixtures for @goldstone/analysis-hessian, from PyTorch.

A tanh MLP 4-8-3 (the layout of @goldstone/models' `mlp`: dense{i}.weight [in, out] then
dense{i}.bias [out], flattened row-major in that order) with mean softmax cross-entropy on 32
examples. Inputs, targets, parameters and probe vectors are drawn from a seeded generator and
rounded to float32 (so goldstone sees exactly the same numbers); everything else is computed in
float64: Hessian-vector products, the dense Hessian's spectrum and its trace.

Run with Debian's python3 (apt-get install -y python3-torch libopenblas0-pthread):
    /usr/bin/python3 packages/analysis-hessian/scripts/make-fixtures.py
"""
import json
import os

import torch

torch.set_num_threads(2)
torch.manual_seed(20240601)
DIMS = [4, 8, 3]
N = 32


def f32(t):
    return t.float().double()


x = f32(torch.randn(N, DIMS[0]))
labels = torch.randint(0, DIMS[-1], (N,))
y = torch.nn.functional.one_hot(labels, DIMS[-1]).double()
shapes = []
for i in range(len(DIMS) - 1):
    shapes.append((f"dense{i}.weight", (DIMS[i], DIMS[i + 1])))
    shapes.append((f"dense{i}.bias", (DIMS[i + 1],)))
sizes = [int(torch.tensor(s).prod()) for _, s in shapes]
n = sum(sizes)
parts = []
for (name, shape), size in zip(shapes, sizes):
    scale = 1.0 / (shape[0] ** 0.5) if name.endswith("weight") else 0.3
    parts.append(torch.randn(size) * scale * 1.5)
w = f32(torch.cat(parts))


def loss(wflat):
    offset = 0
    params = {}
    for (name, shape), size in zip(shapes, sizes):
        params[name] = wflat[offset:offset + size].reshape(shape)
        offset += size
    h = x
    depth = len(DIMS) - 2
    for i in range(depth + 1):
        h = h @ params[f"dense{i}.weight"] + params[f"dense{i}.bias"]
        if i < depth:
            h = torch.tanh(h)
    return -(y * torch.log_softmax(h, dim=-1)).sum(-1).mean()


H = torch.autograd.functional.hessian(loss, w)
H = 0.5 * (H + H.T)
evals = torch.linalg.eigvalsh(H).flip(0)
vs = [f32(torch.randn(n)) for _ in range(3)]
hvps = [torch.autograd.functional.hvp(loss, w, v)[1] for v in vs]

out = {
    "description": "tanh MLP 4-8-3, mean softmax cross-entropy, float64 PyTorch reference (scripts/make-fixtures.py)",
    "torch": torch.__version__,
    "dims": DIMS,
    "n": N,
    "x": x.flatten().tolist(),
    "y": y.flatten().tolist(),
    "w": w.tolist(),
    "loss": loss(w).item(),
    "vectors": [v.tolist() for v in vs],
    "hvps": [h.tolist() for h in hvps],
    "eigenvalues": evals.tolist(),
    "trace": torch.trace(H).item(),
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "tanh-mlp-ce.json")
with open(path, "w") as fh:
    json.dump(out, fh)
print("wrote", os.path.normpath(path), "n params", n, "top eigenvalues", evals[:5].tolist())
