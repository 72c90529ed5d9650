"""The served model's state: the model, or why there is none.

Loaded once per process by ``load_state`` (service/app.py keeps it on the
app); views reach it through service/web/serving.py.
"""

import logging
import time
from dataclasses import dataclass

from service.inference.contract import Model, ModelLoadError
from service.inference.loader import load_model
from service.server import metrics
from service.settings import Settings

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


def load_state(settings: Settings) -> ModelState:
    """Load MODEL_PATH, and say once in the log what was inferred or why it failed."""
    started = time.perf_counter()
    try:
        model, digest = load_model(settings.model_path, settings)
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
