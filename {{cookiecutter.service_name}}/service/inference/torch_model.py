"""The PyTorch adapter of the model contract (contract.py): a TorchScript module.

Why TorchScript (``torch.jit.script``/``trace`` + ``torch.jit.save``, a
``.pt`` file) and not ``torch.export``: ``torch.jit.load`` rebuilds the
module from TorchScript's own serialized code and tensors, with an unpickler
that knows only TorchScript types, so loading runs no Python code from the
file.  ``torch.export.load`` falls back to ``torch.load(weights_only=False)``
(full pickle) for parts of a ``.pt2`` archive, so a crafted file could run
code at load.  ``torch.load`` of a whole pickled module is not accepted.
PyTorch 2.13 marks ``torch.jit.load`` deprecated (and unsupported from
Python 3.14, which this template therefore does not offer with PyTorch);
until ``torch.export`` loads without pickle, it is the safe choice.

The module takes a float32 ``(batch, features)`` tensor and returns one row
per instance: class logits (softmax gives probabilities; ``"scores":
"probabilities"`` in metadata.json if it applies softmax itself) or
regression values.  The number of features comes from metadata.json's
``feature_names``, else from the first 2-D weight (a first ``nn.Linear``).
"""

import logging
import os
import warnings
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from service.inference.contract import DeclaredMetadata, ModelLoadError, describe
from service.settings import Settings

log = logging.getLogger("service.model")


def _device() -> torch.device:
{%- if cookiecutter.include_gpu is yes %}
    # CUDA when the CUDA build of torch is installed and a GPU is visible, else the CPU.
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
{%- else %}
    return torch.device("cpu")
{%- endif %}


def _rebuild_pools_in_the_child() -> None:
    # PyTorch marks its inherited thread pool as corrupt at fork and swaps in
    # a new one on a thread's first parallel op: two request threads doing it
    # at once can see no pool at all ("Invalid thread pool!", a 500 from a
    # fresh worker). The child's only thread swaps it here, before any
    # request thread exists (tests/test_torch_model.py races them).
    torch.set_num_threads(torch.get_num_threads())


# Once per process, however many times a model is loaded.
os.register_at_fork(after_in_child=_rebuild_pools_in_the_child)


def _input_width(module: torch.jit.ScriptModule, declared: DeclaredMetadata) -> int | None:
    if declared.feature_names is not None:
        return len(declared.feature_names)
    for name, weight in module.named_parameters():
        if weight.dim() == 2:
            log.info("input width %d read from the first 2-D weight (%s)", weight.shape[1], name)
            return int(weight.shape[1])
    return None


class TorchModel:
    """A TorchScript module behind the contract, run under torch.inference_mode()."""

    platform: ClassVar[str] = "pytorch"
    # Its thread pools belong to the thread that starts them: a forked worker starts its own.
    threads_survive_fork: ClassVar[bool] = True

    def __init__(self, module: torch.jit.ScriptModule, device: torch.device, softmax: bool) -> None:
        self._module = module
        self._device = device
        self._softmax = softmax

    def predict(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            output = self._module(torch.from_numpy(batch).to(self._device))
            if self._softmax:
                output = torch.softmax(output, dim=1)
            return output.float().cpu().numpy().reshape(len(batch), -1)

    @classmethod
    def load(cls, path: Path, declared: DeclaredMetadata, settings: Settings) -> "TorchModel":
        if path.suffix != ".pt":
            raise ModelLoadError(
                path, f"unknown file type {path.suffix!r}: save a TorchScript module with torch.jit.save to .pt"
            )
        # Before the warm-up, which runs in gunicorn's master under preload.
        # Forking after it is safe even when it starts an intra-op pool: that
        # pool belongs to the master's main thread, and a worker predicts on
        # its gthread request threads, which start pools of their own
        # (tests/test_torch_model.py forks after a multi-threaded batch).
        torch.set_num_threads(settings.model_threads or os.cpu_count() or 1)
        device = _device()
        try:
            with warnings.catch_warnings():  # the deprecation above, chosen knowingly (start-up, one thread)
                warnings.filterwarnings(
                    "ignore", message=r"`torch\.jit\.load` is deprecated", category=DeprecationWarning
                )
                module = torch.jit.load(str(path), map_location=device).eval()
        except Exception as error:  # zip, TorchScript and C++ errors: one line, no path
            message = " ".join(str(error).split()).replace(str(path), path.name)[:200]
            raise ModelLoadError(
                path, f"not a loadable TorchScript module ({type(error).__name__}: {message})"
            ) from error
        n_features = _input_width(module, declared)
        if n_features is None:
            raise ModelLoadError(
                path, "the input width is unknown (no 2-D weight): list feature_names in metadata.json"
            )
        softmax = declared.task == "classification" and declared.scores != "probabilities"
        model = cls(module, device, softmax)
        try:
            warm_up = model.predict(np.zeros((1, n_features), dtype=np.float32))
        except Exception as error:
            message = " ".join(str(error).split())[:200]
            raise ModelLoadError(
                path, f"the model fails on a row of zeros ({type(error).__name__}: {message})"
            ) from error
        model.metadata = describe(path, declared, cls.platform, n_features, warm_up)
        return model
