#!/usr/bin/env python3
"""Float64 reference fixtures for the layers of @goldstone/models, made with PyTorch.

What it writes
    packages/models/test/fixtures/layers-hvp.json: small instances of every model family here
    (GCN and GIN graph networks with node, block and graph readouts; deep sets with equivariant
    layers, masks and energy-flow weights; weight-tied / translation-shared / sign- and
    scale-constrained block MLPs; embedding + decoder with concat and product pairs), each with its
    options, parameter specs (names and shapes, in flattening order), inputs, targets, parameters,
    a direction v, and the float64 loss, gradient and Hessian-vector product H·v = ∇(∇L·v).

Conventions (the same as the TypeScript models; see packages/models/README.md)
    - dense layers are h·W + b with W of shape [in, out]; `act` after hidden layers only;
    - graphs: lattice-1d/2d periodic (both edge directions, no self-loops); GCN uses
      Â = D̃^(−1/2)(A + I)D̃^(−1/2); GIN is act(act(((1+ε)h + A·h)·W + b)·W_mlp + b_mlp);
    - sets: an element is present when any feature is non-zero; mean pools divide by
      max(count, 1); equivariant layers are act(h·Λ + pool(h)·Γ + b)·mask; φ has an activation after
      every layer; the energy-flow weight channel is removed from φ's input and multiplies φ;
    - block MLPs: effective weights raw² (nonnegative), then columns divided by
      √(multiplicity·Σ w²) (unit-norm; multiplicity b for a tied first layer);
    - losses are batch means: mse over all elements, binary cross-entropy softplus(z) − y·z.

Every input number is rounded to float32 before the float64 computation. Only smooth activations
are used (no kinks), so float32 rounding cannot change which branch is taken.

Deterministic: fixed seed, CPU, float64, one thread. Run with Debian's python and torch from the
repository root:

    /usr/bin/python3 packages/models/scripts/make-fixtures.py

CI does not need torch: the tests read the committed JSON.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
DT = torch.float64
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'layers-hvp.json')

ACT = {
    'identity': lambda x: x,
    'tanh': torch.tanh,
    'softplus': F.softplus,
    'quadratic': lambda x: x * x,
    'gelu': lambda x: F.gelu(x),
}

gen = torch.Generator().manual_seed(20260611)


def f32(t):
    return t.to(torch.float32).to(DT)


def randn(*shape, std=1.0):
    return f32(torch.randn(*shape, generator=gen, dtype=DT) * std)


def lattice_adjacency(kind, size):
    n = size if kind == 'lattice-1d' else size * size
    A = torch.zeros(n, n, dtype=DT)
    if kind == 'lattice-1d':
        for i in range(size):
            j = (i + 1) % size
            A[i, j] = A[j, i] = 1
    else:
        for r in range(size):
            for c in range(size):
                a = r * size + c
                for b in (r * size + (c + 1) % size, ((r + 1) % size) * size + c):
                    A[a, b] = A[b, a] = 1
    return A


def dense_chain(h, P, prefix, depth, act, final_act=False):
    for i in range(depth):
        h = h @ P[f'{prefix}dense{i}.weight'] + P[f'{prefix}dense{i}.bias']
        if i < depth - 1 or final_act:
            h = act(h)
    return h


def chain_specs(prefix, dims):
    out = []
    for i in range(len(dims) - 1):
        out += [(f'{prefix}dense{i}.weight', [dims[i], dims[i + 1]]), (f'{prefix}dense{i}.bias', [dims[i + 1]])]
    return out


# ------------------------------------------------------------------------------------------------
# models: (options, inputShape, outputSize, specs, forward(P, x))

def gnn_case(opts, input_shape, out):
    layer, hidden, act = opts['layer'], opts['hidden'], ACT[opts['activation']]
    g = opts['graph']
    A = lattice_adjacency(g['kind'], g['size'])
    n = A.shape[0]
    Fin = input_shape[1] if len(input_shape) > 1 else 1
    f = [Fin] + hidden
    readout, pool, block = opts.get('readout', 'graph'), opts.get('pool', 'mean'), opts.get('block', 2)
    units = 1 if readout == 'graph' else n if readout == 'node' else n // block
    k = out // units
    specs = []
    for i in range(len(hidden)):
        if layer == 'gin':
            specs.append((f'gnn{i}.eps', [1]))
        specs += [(f'gnn{i}.weight', [f[i], f[i + 1]]), (f'gnn{i}.bias', [f[i + 1]])]
        if layer == 'gin':
            specs += [(f'gnn{i}.mlp.weight', [f[i + 1], f[i + 1]]), (f'gnn{i}.mlp.bias', [f[i + 1]])]
    head = [hidden[-1]] + opts.get('head', []) + [k]
    specs += chain_specs('head.', head)
    At = A + torch.eye(n, dtype=DT)
    d = At.sum(1)
    Ahat = At / torch.sqrt(d[:, None] * d[None, :])

    def forward(P, x):
        B = x.shape[0]
        h = x.reshape(B, n, Fin)
        for i in range(len(hidden)):
            if layer == 'gcn':
                h = act(torch.einsum('ij,bjf->bif', Ahat, h) @ P[f'gnn{i}.weight'] + P[f'gnn{i}.bias'])
            else:
                z = (1 + P[f'gnn{i}.eps']) * h + torch.einsum('ij,bjf->bif', A, h)
                h = act(act(z @ P[f'gnn{i}.weight'] + P[f'gnn{i}.bias']) @ P[f'gnn{i}.mlp.weight'] + P[f'gnn{i}.mlp.bias'])
        if readout == 'graph':
            pooled = h.sum(1) if pool == 'sum' else h.mean(1)
            return dense_chain(pooled, P, 'head.', len(head) - 1, act)
        if readout == 'block':
            h = h.reshape(B, n // block, block, -1)
            h = h.sum(2) if pool == 'sum' else h.mean(2)
        return dense_chain(h, P, 'head.', len(head) - 1, act).reshape(B, -1)

    return specs, forward


def deep_sets_case(opts, input_shape, out):
    N, Fdim = input_shape
    act = ACT[opts['activation']]
    wc = opts.get('weightChannel')
    Fin = Fdim if wc is None else Fdim - 1
    e = [Fin] + opts.get('equivariant', [])
    phi = [e[-1]] + opts['phi']
    rho = [phi[-1]] + opts['rho'] + [out]
    pool = opts.get('pool', 'sum')
    specs = []
    for i in range(len(e) - 1):
        specs += [(f'eq{i}.lambda', [e[i], e[i + 1]]), (f'eq{i}.gamma', [e[i], e[i + 1]]), (f'eq{i}.bias', [e[i + 1]])]
    specs += chain_specs('phi.', phi) + chain_specs('rho.', rho)

    def mpool(h, mask):
        s = (h * mask).sum(1)
        return s if pool == 'sum' else s / torch.clamp(mask.sum(1), min=1)

    def forward(P, x):
        mask = (x.abs().sum(-1, keepdim=True) != 0).to(DT)
        keep = [c for c in range(Fdim) if c != wc]
        h = x[:, :, keep]
        for i in range(len(e) - 1):
            h = act(h @ P[f'eq{i}.lambda'] + (mpool(h, mask) @ P[f'eq{i}.gamma'])[:, None, :] + P[f'eq{i}.bias']) * mask
        h = dense_chain(h, P, 'phi.', len(phi) - 1, act, final_act=True)
        if wc is not None:
            h = h * x[:, :, wc:wc + 1]
        return dense_chain(mpool(h, mask), P, 'rho.', len(rho) - 1, act)

    return specs, forward


def block_mlp_case(opts, input_shape, out):
    N = input_shape[0]
    b = opts.get('block', 1)
    tied, shared = opts.get('tied', False), opts.get('shared', False)
    blocks = N // b
    k = out // blocks if shared else out
    d0 = (1 if tied else b) if shared else (blocks if tied else N)
    dims = [d0] + opts['hidden'] + [k]
    act = ACT[opts['activation']]
    specs = chain_specs('', dims)

    def eff(raw, i):
        w = raw * raw if opts.get('sign') == 'nonnegative' else raw
        if opts.get('scale') == 'unit-norm':
            mult = b if (i == 0 and tied) else 1
            w = w / torch.sqrt(mult * (w * w).sum(0, keepdim=True))
        return w

    def forward(P, x):
        B = x.shape[0]
        if shared:
            h = x.reshape(B * blocks, b)
            if tied:
                h = h.sum(1, keepdim=True)
        else:
            h = x.reshape(B, N)
            if tied:
                h = h.reshape(B, blocks, b).sum(2)
        depth = len(dims) - 1
        for i in range(depth):
            h = h @ eff(P[f'dense{i}.weight'], i) + P[f'dense{i}.bias']
            if i < depth - 1:
                h = act(h)
        return h.reshape(B, -1)

    return specs, forward


def embedding_case(opts, input_shape, out):
    n, d = opts['nodes'], opts['dim']
    act = ACT[opts['activation']]
    dec = [2 * d if opts['combine'] == 'concat' else d] + opts['hidden'] + [out]
    specs = [('embedding', [n, d])] + chain_specs('decoder.', dec)

    def forward(P, x):
        idx = x.to(torch.long)
        ei, ej = P['embedding'][idx[:, 0]], P['embedding'][idx[:, 1]]
        h = torch.cat([ei, ej], 1) if opts['combine'] == 'concat' else ei * ej
        return dense_chain(h, P, 'decoder.', len(dec) - 1, act)

    return specs, forward


def padded_sets(B, N, Fdim, sizes, positive=None):
    x = torch.zeros(B, N, Fdim, dtype=DT)
    for bi, s in enumerate(sizes):
        x[bi, :s] = randn(s, Fdim)
        if positive is not None:
            x[bi, :s, positive] = f32(0.1 + torch.rand(s, generator=gen, dtype=DT))
    return x


def pair_inputs(n, B):
    rows = []
    for t in range(B):
        i = int(torch.randint(n, (1,), generator=gen))
        j = int(torch.randint(n - 1, (1,), generator=gen))
        rows.append([i, j if j < i else j + 1])
    return torch.tensor(rows, dtype=DT)


# name, model, builder, options, inputShape, outputSize, loss, x maker
CASES = [
    ('gcn-tanh-node-2d', 'gnn', gnn_case, {'layer': 'gcn', 'hidden': [3, 3], 'activation': 'tanh', 'readout': 'node', 'graph': {'kind': 'lattice-2d', 'size': 3}}, [9], 9, 'mse', lambda: randn(4, 9)),
    ('gin-softplus-block-1d', 'gnn', gnn_case, {'layer': 'gin', 'hidden': [3], 'activation': 'softplus', 'readout': 'block', 'pool': 'mean', 'block': 2, 'head': [3], 'graph': {'kind': 'lattice-1d', 'size': 6}}, [6, 2], 3, 'mse', lambda: randn(4, 6, 2)),
    ('gin-tanh-graph-sum', 'gnn', gnn_case, {'layer': 'gin', 'hidden': [3, 2], 'activation': 'tanh', 'readout': 'graph', 'pool': 'sum', 'graph': {'kind': 'lattice-1d', 'size': 5}}, [5], 1, 'binary-cross-entropy', lambda: randn(6, 5)),
    ('deep-sets-eq-mean', 'deep-sets', deep_sets_case, {'equivariant': [3], 'phi': [3], 'rho': [3], 'pool': 'mean', 'activation': 'tanh'}, [5, 3], 2, 'mse', lambda: padded_sets(4, 5, 3, [5, 3, 1, 4])),
    ('energy-flow-sum', 'deep-sets', deep_sets_case, {'phi': [4, 3], 'rho': [3], 'pool': 'sum', 'activation': 'gelu', 'weightChannel': 0}, [5, 3], 1, 'binary-cross-entropy', lambda: padded_sets(5, 5, 3, [5, 2, 4, 3, 5], positive=0)),
    ('block-tied-shared-unit-norm', 'block-mlp', block_mlp_case, {'hidden': [3], 'activation': 'tanh', 'block': 2, 'tied': True, 'shared': True, 'scale': 'unit-norm'}, [6], 3, 'mse', lambda: randn(5, 6)),
    ('block-tied-nonnegative', 'block-mlp', block_mlp_case, {'hidden': [4], 'activation': 'quadratic', 'block': 3, 'tied': True, 'sign': 'nonnegative'}, [6], 2, 'mse', lambda: randn(5, 6)),
    ('block-shared-nonneg-unit-norm', 'block-mlp', block_mlp_case, {'hidden': [3, 3], 'activation': 'softplus', 'block': 2, 'shared': True, 'sign': 'nonnegative', 'scale': 'unit-norm'}, [6], 3, 'mse', lambda: randn(5, 6)),
    ('embedding-concat', 'embedding-decoder', embedding_case, {'nodes': 6, 'dim': 3, 'combine': 'concat', 'hidden': [4], 'activation': 'tanh'}, [2], 1, 'binary-cross-entropy', lambda: pair_inputs(6, 10)),
    ('embedding-product', 'embedding-decoder', embedding_case, {'nodes': 6, 'dim': 3, 'combine': 'product', 'hidden': [4], 'activation': 'gelu'}, [2], 2, 'mse', lambda: pair_inputs(6, 10)),
]


def loss_fn(name, pred, y):
    if name == 'mse':
        return ((pred - y) ** 2).mean()
    return (F.softplus(pred) - y * pred).mean()


def main():
    cases = []
    for name, model, builder, opts, input_shape, out, loss, make_x in CASES:
        specs, forward = builder(opts, input_shape, out)
        x = make_x()
        B = x.shape[0]
        y = f32((torch.rand(B, out, generator=gen, dtype=DT) < 0.5).to(DT)) if loss != 'mse' else randn(B, out)
        P0 = {}
        for pname, shape in specs:
            fan_in = shape[0] if len(shape) == 2 else 1
            P0[pname] = randn(*shape, std=1 / math.sqrt(fan_in)) if not pname.endswith('bias') else randn(*shape, std=0.1)
        flat = torch.cat([P0[p].reshape(-1) for p, _ in specs]).clone().requires_grad_(True)
        v = randn(flat.numel())

        def unflat(w):
            P, o = {}, 0
            for pname, shape in specs:
                s = math.prod(shape)
                P[pname] = w[o:o + s].reshape(shape)
                o += s
            return P

        L = loss_fn(loss, forward(unflat(flat), x), y)
        (g,) = torch.autograd.grad(L, flat, create_graph=True)
        (hv,) = torch.autograd.grad(g @ v, flat)
        cases.append({
            'name': name,
            'model': model,
            'options': opts,
            'inputShape': input_shape,
            'outputSize': out,
            'loss': loss,
            'specs': [{'name': p, 'shape': s} for p, s in specs],
            'xShape': list(x.shape),
            'x': x.reshape(-1).tolist(),
            'y': y.reshape(-1).tolist(),
            'params': flat.detach().tolist(),
            'v': v.tolist(),
            'lossValue': L.item(),
            'grad': g.detach().tolist(),
            'hv': hv.tolist(),
        })
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as fh:
        json.dump({'generator': 'packages/models/scripts/make-fixtures.py', 'torch': torch.__version__, 'dtype': 'float64', 'cases': cases}, fh)
        fh.write('\n')
    print(f'wrote {len(cases)} cases to {os.path.relpath(OUT)}')


if __name__ == '__main__':
    main()
