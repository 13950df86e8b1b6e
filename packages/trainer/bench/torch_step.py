#!/usr/bin/python3
"""PyTorch peer of step-ab.mjs: one training step of the same four MLP cases, median ms.

    /usr/bin/python3 torch_step.py [steps] [threads]    (default 100 steps, 2 threads; float32, ReLU MLPs with biases)
"""
import json
import statistics
import sys
import time

import torch

torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 2)
CASES = [
    ("MLP 64-256-256-2, batch 256, adam, CE", [64, 256, 256, 2], 256, "adam", "ce"),
    ("MLP 784-512-512-10, batch 128, adam, CE", [784, 512, 512, 10], 128, "adam", "ce"),
    ("MLP 16-32-8, batch 64, adam, MSE", [16, 32, 8], 64, "adam", "mse"),
    ("MLP 784-50-50-10, batch 50, sgd, CE", [784, 50, 50, 10], 50, "sgd", "ce"),
]
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 100
gen = torch.Generator().manual_seed(1)
for name, sizes, batch, opt_name, loss_name in CASES:
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    x = torch.randn(batch, sizes[0], generator=gen)
    labels = torch.randint(0, sizes[-1], (batch,), generator=gen)
    y = torch.nn.functional.one_hot(labels, sizes[-1]).float()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3) if opt_name == "adam" else torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = torch.nn.CrossEntropyLoss() if loss_name == "ce" else torch.nn.MSELoss()
    target = labels if loss_name == "ce" else y

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), target)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(10):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"case": name, "pytorch": round(statistics.median(times), 3)}))
