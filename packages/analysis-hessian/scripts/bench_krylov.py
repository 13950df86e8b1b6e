#!/usr/bin/python3
"""PyTorch peer of bench-krylov.ts: the same Lanczos (full reorthogonalisation) and deflated power
iteration, float32 HVPs by double backward, on the problem the TS script writes. Prints one JSON line."""
import json
import sys
import time

import torch

torch.set_num_threads(2)
p = json.load(open(sys.argv[1]))
dims, n, K, ACC, ref = p["dims"], p["n"], p["k"], p["acc"], p["ref"]
x = torch.tensor(p["x"], dtype=torch.float32).reshape(n, dims[0])
y = torch.tensor(p["y"], dtype=torch.float32).reshape(n, dims[-1])
w = torch.tensor(p["w"], dtype=torch.float32).requires_grad_(True)
shapes = []
for i in range(len(dims) - 1):
    shapes += [(dims[i], dims[i + 1]), (dims[i + 1],)]


def loss(wf):
    o, h = 0, x
    for i in range(len(dims) - 1):
        a, b = shapes[2 * i], shapes[2 * i + 1]
        W = wf[o:o + a[0] * a[1]].reshape(a); o += a[0] * a[1]
        B = wf[o:o + b[0]]; o += b[0]
        h = h @ W + B
        if i < len(dims) - 2:
            h = torch.tanh(h)
    return -(y * torch.log_softmax(h, -1)).sum(-1).mean()


g = torch.autograd.grad(loss(w), w, create_graph=True)[0]
count = [0]


def hvp(v):
    count[0] += 1
    return torch.autograd.grad(g, w, v.float(), retain_graph=True)[0].double()


def accurate(vals):
    return len(vals) >= K and all(abs(vals[i] - r) / abs(r) < ACC for i, r in enumerate(ref))


gen = torch.Generator().manual_seed(1)
N = w.numel()
# Lanczos with full reorthogonalisation
t0 = time.perf_counter(); count[0] = 0
q = torch.randn(N, generator=gen, dtype=torch.float64); q /= q.norm()
Q, al, be, lz = [q], [], [], -1
for j in range(300):
    wv = hvp(Q[-1]); a = float(Q[-1] @ wv); al.append(a)
    wv -= a * Q[-1]
    if j > 0: wv -= be[-1] * Q[-2]
    Qm = torch.stack(Q)
    for _ in range(2): wv -= Qm.T @ (Qm @ wv)
    T = torch.diag(torch.tensor(al, dtype=torch.float64))
    for i, b in enumerate(be): T[i, i + 1] = T[i + 1, i] = b
    vals = torch.linalg.eigvalsh(T).flip(0).tolist()
    if accurate(vals): lz = count[0]; break
    b = float(wv.norm()); be.append(b); Q.append(wv / b)
lz_ms = (time.perf_counter() - t0) * 1000
# deflated power iteration
t0 = time.perf_counter(); count[0] = 0
found, pw = [], -1
for k in range(K):
    v = torch.randn(N, generator=gen, dtype=torch.float64)
    for u, _ in found: v -= (u @ v) * u
    v /= v.norm()
    for it in range(5000):
        av = hvp(v)
        for u, _ in found: av -= (u @ av) * u
        lam = float(v @ av); r = float((av - lam * v).norm())
        if k == K - 1 and pw < 0 and abs(lam - ref[k]) / abs(ref[k]) < ACC: pw = count[0]
        if r <= ACC * abs(lam): break
        v = av / av.norm()
    found.append((v, lam))
pw_ms = (time.perf_counter() - t0) * 1000
print(json.dumps({"torch": torch.__version__, "lanczos": {"products": lz, "ms": lz_ms}, "power": {"products": pw, "ms": pw_ms}}))
