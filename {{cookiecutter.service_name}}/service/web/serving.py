"""What both APIs share about the served model: readiness, metadata, limits and the prediction itself.

The model's state is on the app (``app.extensions["model_state"]``), the
settings in ``app.config["SETTINGS"]``, and what a batch goes through in
``app.extensions["predictor"]`` (the model, or the micro-batcher around
it); service/app.py puts them there.  The native API and the Open
Inference Protocol call these functions instead of repeating them, so their
answers cannot drift apart.
"""

from dataclasses import asdict

import numpy as np
from flask import current_app
from pydantic import BaseModel, Field

from service.inference import processing
from service.inference.contract import Model
from service.inference.predictions import first_not_finite
from service.inference.state import ModelState
from service.server import draining, timeouts
from service.settings import Settings
from service.web.errors import ApiError


class Tensor(BaseModel):
    """One input or output tensor of the model, in both APIs' metadata."""

    name: str
    datatype: str = Field(description="KServe V2 datatype, e.g. FP32.")
    shape: list[int] = Field(description="-1 for a dimension of any size (the batch).")


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def model_state() -> ModelState:
    return current_app.extensions["model_state"]


def ready_model() -> Model:
    """The model, or a 503 saying why there is none."""
    state = model_state()
    if state.model is None:
        raise ApiError(503, "model_not_ready", f"model not ready: {state.reason}")
    return state.model


def readiness() -> str | None:
    """None when this process serves predictions; else why not (what /readyz and V2's ready report)."""
    if draining.started():
        return "shutting down"
    state = model_state()
    return None if state.ready else state.reason


def metadata_document() -> dict:
    """The served model as GET /metadata shows it (GET /v2/models/{name} picks from it)."""
    info = ready_model().metadata
    document = {
        "name": info.name,
        "version": info.version,
        "task": info.task,
        "platform": info.platform,
        "sha256": model_state().sha256,
        "feature_names": list(info.feature_names),
        "columns": [column.model_dump(exclude_none=True) for column in info.columns],
    }
    if info.task == "classification":
        document["labels"] = list(info.labels)
    document |= {
        "inputs": [asdict(tensor) | {"shape": list(tensor.shape)} for tensor in info.inputs],
        "outputs": [asdict(tensor) | {"shape": list(tensor.shape)} for tensor in info.outputs],
        "max_batch_size": settings().max_batch_size,
    }
    return document


def check_batch_size(rows: int, where: str) -> None:
    """413 for a batch over MAX_BATCH_SIZE; ``where`` names it in the request (e.g. ``instances``)."""
    limit = settings().max_batch_size
    if rows > limit:
        raise ApiError(413, "batch_too_large", f"{where}: batch of {rows} exceeds the maximum of {limit}")


def predict(batch: np.ndarray, item: str = "instance") -> np.ndarray:
    """The answer rows for a validated float32 batch: preprocess, the model, postprocess.

    422 naming the first row (``item`` N) without a finite answer: finite
    inputs far outside the training data can overflow a model, and NaN is
    not JSON.
    """
    with timeouts.prediction():
        outputs = processing.postprocess(current_app.extensions["predictor"](processing.preprocess(batch)))
    bad_row = first_not_finite(outputs)
    if bad_row is not None:
        raise ApiError(
            422,
            "prediction_not_finite",
            f"{item} {bad_row}: the model gives no finite prediction for these values (out of its range)",
        )
    return outputs
