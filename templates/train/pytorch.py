{%- set classification = cookiecutter.task == "classification" -%}
import argparse
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import torch
{%- if classification %}
from sklearn.datasets import load_iris
{%- else %}
from sklearn.datasets import load_diabetes
{%- endif %}
from torch import nn

MODEL_KIND = "mlp"
# How far the served outputs may be from the trained model's (float32 answers).
TOLERANCE = 1e-4
EPOCHS = {% if classification %}300{% else %}500{% endif %}
SEED = 0


class Network(nn.Module):
    """An MLP that standardizes its raw inputs itself, so the service feeds it the features as they come."""

    def __init__(self, features: np.ndarray, width: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.from_numpy(features.mean(axis=0)))
        self.register_buffer("scale", torch.from_numpy(features.std(axis=0)))
        self.layers = nn.Sequential(nn.Linear(features.shape[1], 16), nn.ReLU(), nn.Linear(16, width))
{%- if not classification %}
        self.register_buffer("target_mean", torch.zeros(1))
        self.register_buffer("target_scale", torch.ones(1))
{%- endif %}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
{%- if classification %}
        # Class logits: the service applies softmax.
        return self.layers((x - self.mean) / self.scale)
{%- else %}
        return self.layers((x - self.mean) / self.scale) * self.target_scale + self.target_mean
{%- endif %}


def train(features: np.ndarray, targets: np.ndarray):
    """The network, trained full-batch with Adam on one thread from a fixed seed, so every run is the same."""
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
{%- if classification %}
    network = Network(features, width=int(targets.max()) + 1)
    loss_of = nn.CrossEntropyLoss()
    y = torch.from_numpy(targets).long()
{%- else %}
    network = Network(features, width=1)
    network.target_mean.fill_(float(targets.mean()))
    network.target_scale.fill_(float(targets.std()))
    loss_of = nn.MSELoss()
    # The loss on standardized targets, so one learning rate fits any target scale.
    y = torch.from_numpy(((targets - targets.mean()) / targets.std()).astype(np.float32)).reshape(-1, 1)
{%- endif %}
    x = torch.from_numpy(features)
    optimizer = torch.optim.Adam(network.parameters(), lr=0.01)
    for _ in range(EPOCHS):
        optimizer.zero_grad()
{%- if classification %}
        loss = loss_of(network(x), y)
{%- else %}
        loss = loss_of(network.layers((x - network.mean) / network.scale), y)
{%- endif %}
        loss.backward()
        optimizer.step()
    return torch.jit.script(network.eval())


def outputs(model, rows: np.ndarray) -> np.ndarray:
    """What the service's predict() must give for ``rows``: {% if classification %}class probabilities{% else %}one value per row{% endif %}."""
    with torch.inference_mode():
{%- if classification %}
        return torch.softmax(model(torch.from_numpy(rows)), dim=1).numpy()
{%- else %}
        return model(torch.from_numpy(rows)).numpy().reshape(len(rows), -1)
{%- endif %}


def save(model, features: np.ndarray) -> bytes:
    # TorchScript: the service loads it with torch.jit.load, which runs no pickled Python code.
    buffer = io.BytesIO()
    torch.jit.save(model, buffer)
    return buffer.getvalue()


def check_saved(serialized: bytes, model, features: np.ndarray) -> float:
    """The largest difference between the reloaded module's outputs and the trained one's over the data set."""
    reloaded = torch.jit.load(io.BytesIO(serialized))
    return float(np.max(np.abs(outputs(reloaded, features) - outputs(model, features))))
