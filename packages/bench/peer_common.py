"""Shared pieces of the PyTorch peers that read a problem exported by the bench: goldstone's mlp
parameter layout (dense{i}.weight [in, out] row-major, then dense{i}.bias [out], flattened in
that order) and the forward pass of a flat parameter vector in that layout."""
import json
import sys

import torch

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}


def load_problem(path):
    with open(path) as f:
        return json.load(f)


def check_layout(specs, sizes, script):
    """Exit with a message unless `specs` is goldstone's mlp layout for `sizes`."""
    expected = []
    for i in range(len(sizes) - 1):
        expected += [(f"dense{i}.weight", [sizes[i], sizes[i + 1]]), (f"dense{i}.bias", [sizes[i + 1]])]
    got = [(s["name"], s["shape"]) for s in specs]
    if got != expected:
        sys.exit(f"{script}: unexpected parameter layout {got}")


def flat_forward(wf, x, sizes, activation):
    """The MLP's outputs for the flat parameters `wf` (goldstone's layout), activation between layers."""
    act = ACTIVATIONS[activation]
    o, h = 0, x
    for i in range(len(sizes) - 1):
        a, b = sizes[i] * sizes[i + 1], sizes[i + 1]
        W = wf[o:o + a].reshape(sizes[i], sizes[i + 1]); o += a
        B = wf[o:o + b]; o += b
        h = h @ W + B
        if i < len(sizes) - 2:
            h = act(h)
    return h


def torch_mlp(sizes, activation):
    """nn.Linear layers of widths `sizes` (PyTorch's own init) with `activation` ("tanh", "relu") between them."""
    act = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[activation]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers)


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2
