"""The generated service with its model in a gunicorn dirty worker (gunicorn >= 25).

Loaded by benchmarks/dirty_workers.py only, with ``--dirty-app
dirty_app:ModelProcess --dirty-workers 1``: one separate process holds the
ONNX session (``ModelProcess``), and the HTTP workers' model
(``RemoteModel``) sends each batch to it through gunicorn's dirty client.
Not part of the template: it measures whether that design would pay off.
"""

import numpy as np
from gunicorn.dirty import DirtyApp, get_dirty_client
from service.app import create_app
from service.inference.loader import load_model
from service.inference.state import ModelState
from service.settings import load_settings

APP_PATH = "dirty_app:ModelProcess"


class ModelProcess(DirtyApp):
    """Runs in the dirty worker: the only process with an ONNX session."""

    def init(self) -> None:
        settings = load_settings()
        self.model, _ = load_model(settings.model_path, settings)

    def predict(self, rows: list[list[float]]) -> list[list[float]]:
        return self.model.predict(np.asarray(rows, dtype=np.float32)).tolist()


class RemoteModel:
    """What the HTTP workers hold: the model's metadata and a client (the contract's ``predict``)."""

    def __init__(self, metadata) -> None:
        self.metadata = metadata

    def predict(self, batch: np.ndarray) -> np.ndarray:
        rows = get_dirty_client().execute(APP_PATH, "predict", batch.tolist())
        return np.asarray(rows, dtype=np.float32)


def create() -> object:
    settings = load_settings()
    # The metadata only; this session is dropped before the workers fork.
    model, digest = load_model(settings.model_path, settings)
    return create_app(settings, ModelState(model=RemoteModel(model.metadata), sha256=digest, reason=""))


app = create()
