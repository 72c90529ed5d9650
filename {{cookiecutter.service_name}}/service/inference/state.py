"""The served model's state, kept on the app (``app.extensions["model"]``).

Loaded once per process by ``load_state`` (serve_http.create_app); views
read it with ``model_state()``, or ``ready_model()`` when they need the model.
"""

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from service.inference.contract import Model, ModelLoadError
from service.inference.loader import load_model
from service.server import metrics
from service.web.errors import ApiError

log = logging.getLogger("service.model")


@dataclass(frozen=True)
class ModelState:
    """The served model, or why there is none (what /readyz reports)."""

    model: Model | None = None
    sha256: str = ""
    reason: str = "model not loaded yet"

    @property
    def ready(self) -> bool:
        return self.model is not None


def load_state(path: Path, threads: int) -> ModelState:
    """Load the model, and say once in the log what was inferred or why it failed."""
    started = time.perf_counter()
    try:
        model, digest = load_model(path, threads)
    except ModelLoadError as error:
        log.error("model not loaded, service will not become ready: %s", error)
        return ModelState(reason=error.reason)
    elapsed = time.perf_counter() - started
    metrics.MODEL_LOAD_SECONDS.set(elapsed)
    info = model.metadata
    log.info(
        "model loaded",
        extra={
            "model": info.name,
            "version": info.version,
            "task": info.task,
            "platform": info.platform,
            "features": list(info.feature_names),
            "labels": list(info.labels),
            "outputs": info.n_outputs,
            "sha256": digest,
            "load_seconds": round(elapsed, 4),
        },
    )
    return ModelState(model=model, sha256=digest, reason="")


def model_state() -> ModelState:
    return current_app.extensions["model"]


def ready_model() -> Model:
    """The model, or a 503 saying why there is none."""
    state = current_app.extensions["model"]
    if state.model is None:
        raise ApiError(503, "model_not_ready", f"model not ready: {state.reason}")
    return state.model
