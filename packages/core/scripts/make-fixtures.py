#!/usr/bin/env python3
"""Float64 reference fixtures for goldstone's Hessian-vector products, made with PyTorch.

What it writes
    packages/core/test/fixtures/mlp-hvp.json: a list of small multilayer perceptrons (every
    activation, every loss, with and without biases, one with a multi-dimensional input shape),
    each with its inputs, targets, parameters, a direction v, and the float64 loss, gradient and
    Hessian-vector product H·v = ∇(∇L·v) (double backpropagation in torch.float64).

Conventions (the same as @goldstone/core and the `mlp` model of @goldstone/models)
    - parameters `dense{i}.weight` of shape [in, out] and `dense{i}.bias` of shape [out],
      i = 0..depth, flattened row-major in that order (weight before bias, layer by layer);
    - the model is h ← act(h·W + b) for hidden layers, logits = h·W + b for the last one, with the
      input flattened to [B, prod(inputShape)];
    - losses are means over the batch: `mse` = mean over all elements of (pred − y)²,
      `softmax-cross-entropy` = mean_b −Σ_c y_bc log softmax(z_b)_c with one-hot y,
      `binary-cross-entropy` = mean_b softplus(z_b) − y_b z_b (logits [B, 1], 0/1 targets);
    - gelu is the exact erf form, leaky-relu has slope 0.01, elu has α = 1, quadratic is x².

Every input number (x, y, parameters, v) is rounded to float32 before the float64 computation,
so the float32 code under test sees exactly the same inputs and only its arithmetic differs.
For relu, leaky-relu and elu (not twice differentiable at 0) the data are redrawn until every
hidden pre-activation is at least 1e-2 from 0, so float32 rounding cannot cross a kink.

Deterministic: fixed seeds, CPU, float64, one thread. Run with Debian's python and torch
(apt-get install -y python3-torch libopenblas0-pthread) from the repository root:

    /usr/bin/python3 packages/core/scripts/make-fixtures.py

CI does not need torch: the tests read the committed JSON.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'mlp-hvp.json')

ACT = {
    'identity': lambda x: x,
    'relu': F.relu,
    'tanh': torch.tanh,
    'sigmoid': torch.sigmoid,
    'softplus': F.softplus,  # threshold 20 is never reached with these inputs
    'gelu': lambda x: F.gelu(x),  # exact erf form (PyTorch's default)
    'elu': lambda x: F.elu(x, alpha=1.0),
    'leaky-relu': lambda x: F.leaky_relu(x, 0.01),
    'quadratic': lambda x: x * x,
}
KINKED = {'relu', 'leaky-relu', 'elu'}

# name, activation, hidden, bias, loss, input shape, output size, batch
CASES = [
    ('tanh-ce', 'tanh', [6, 5], True, 'softmax-cross-entropy', [4], 3, 8),
    ('sigmoid-bce', 'sigmoid', [6], True, 'binary-cross-entropy', [4], 1, 8),
    ('gelu-mse-2d-input', 'gelu', [5, 4], True, 'mse', [2, 3], 2, 6),
    ('relu-ce', 'relu', [7, 6], True, 'softmax-cross-entropy', [4], 3, 8),
    ('relu-mse', 'relu', [8], True, 'mse', [3], 2, 10),
    ('softplus-bce', 'softplus', [5, 5], True, 'binary-cross-entropy', [3], 1, 8),
    ('elu-mse', 'elu', [6, 4], True, 'mse', [3], 2, 8),
    ('leaky-relu-ce', 'leaky-relu', [6], True, 'softmax-cross-entropy', [4], 4, 8),
    ('quadratic-mse', 'quadratic', [5], True, 'mse', [3], 2, 8),
    ('identity-ce', 'identity', [4], True, 'softmax-cross-entropy', [3], 3, 6),
    ('tanh-mse-nobias', 'tanh', [6, 6], False, 'mse', [4], 2, 8),
    ('sigmoid-ce-deep', 'sigmoid', [5, 5, 4], True, 'softmax-cross-entropy', [3], 3, 8),
]


def f32(t):
    """Round to float32 and back: the values the float32 code will see exactly."""
    return t.float().double()


def specs_of(in_dim, hidden, out, bias):
    dims = [in_dim] + hidden + [out]
    specs = []
    for i in range(len(dims) - 1):
        specs.append((f'dense{i}.weight', [dims[i], dims[i + 1]]))
        if bias:
            specs.append((f'dense{i}.bias', [dims[i + 1]]))
    return specs


def unflatten(w, specs):
    out, offset = {}, 0
    for name, shape in specs:
        n = math.prod(shape)
        out[name] = w[offset:offset + n].reshape(shape)
        offset += n
    return out


def forward(w, specs, act, x, depth, bias, preacts=None):
    p = unflatten(w, specs)
    h = x.reshape(x.shape[0], -1)
    for i in range(depth + 1):
        z = h @ p[f'dense{i}.weight']
        if bias:
            z = z + p[f'dense{i}.bias']
        if i < depth:
            if preacts is not None:
                preacts.append(z.detach())
            h = ACT[act](z)
        else:
            h = z
    return h


def loss_of(name, pred, y):
    if name == 'mse':
        return ((pred - y) ** 2).mean()
    if name == 'softmax-cross-entropy':
        return -(y * torch.log_softmax(pred, dim=1)).sum(dim=1).mean()
    if name == 'binary-cross-entropy':
        return F.binary_cross_entropy_with_logits(pred.reshape(-1), y.reshape(-1), reduction='mean')
    raise ValueError(name)


def make_case(index, name, act, hidden, bias, loss, input_shape, out, batch):
    in_dim = math.prod(input_shape)
    specs = specs_of(in_dim, hidden, out, bias)
    depth = len(hidden)
    for attempt in range(1000):
        g = torch.Generator().manual_seed(1000 * index + attempt)
        x = f32(torch.randn([batch] + input_shape, generator=g, dtype=torch.float64))
        if loss == 'mse':
            y = f32(torch.randn(batch, out, generator=g, dtype=torch.float64))
        elif loss == 'softmax-cross-entropy':
            y = F.one_hot(torch.randint(0, out, (batch,), generator=g), out).double()
        else:
            y = torch.randint(0, 2, (batch, 1), generator=g).double()
        parts = []
        for pname, shape in specs:
            fan_in = shape[0] if pname.endswith('weight') else 1
            scale = 1.2 / math.sqrt(fan_in) if pname.endswith('weight') else 0.3
            parts.append(torch.randn(math.prod(shape), generator=g, dtype=torch.float64) * scale)
        w = f32(torch.cat(parts))
        v = f32(torch.randn(w.numel(), generator=g, dtype=torch.float64))
        preacts = []
        forward(w, specs, act, x, depth, bias, preacts)
        margin = min(float(z.abs().min()) for z in preacts)
        if act not in KINKED or margin >= 1e-2:
            break
    else:
        raise RuntimeError(f'{name}: no draw keeps pre-activations away from the kink')

    w = w.clone().requires_grad_(True)
    L = loss_of(loss, forward(w, specs, act, x, depth, bias), y)
    (grad,) = torch.autograd.grad(L, w, create_graph=True)
    (hv,) = torch.autograd.grad(grad @ v, w)
    return {
        'name': name,
        'activation': act,
        'hidden': hidden,
        'bias': bias,
        'loss': loss,
        'inputShape': input_shape,
        'outputSize': out,
        'batch': batch,
        'specs': [{'name': n, 'shape': s} for n, s in specs],
        'minPreactivation': margin,
        'x': x.reshape(-1).tolist(),
        'y': y.reshape(-1).tolist(),
        'yShape': list(y.shape),
        'w': w.detach().tolist(),
        'v': v.tolist(),
        'lossValue': float(L),
        'grad': grad.detach().tolist(),
        'hv': hv.tolist(),
    }


def main():
    cases = [make_case(i, *c) for i, c in enumerate(CASES)]
    doc = {
        'description': 'Float64 PyTorch references for MLP loss, gradient and Hessian-vector product; '
                       'made by packages/core/scripts/make-fixtures.py',
        'torch': torch.__version__.split('+')[0],
        'cases': cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as fh:
        json.dump(doc, fh, separators=(',', ':'))
        fh.write('\n')
    print(f'wrote {len(cases)} cases to {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)')


if __name__ == '__main__':
    main()
