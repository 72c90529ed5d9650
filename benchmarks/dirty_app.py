"""The generated service with its model in a gunicorn dirty worker (gunicorn >= 25).

Loaded by benchmarks/dirty_workers.py only, with ``--dirty-app
dirty_app:ModelProcess --dirty-workers 1``: one separate process holds the
ONNX session (``ModelProcess``), and the HTTP workers' model
(``RemoteModel``) sends each batch to it through gunicorn's dirty client.
Not part of the template: it measures whether that design would pay off.
"""

import numpy as np
import serve_http
from gunicorn.dirty import DirtyApp, get_dirty_client
from model import Prediction, load_model
from settings import load_settings

APP_PATH = "dirty_app:ModelProcess"


class ModelProcess(DirtyApp):
    """Runs in the dirty worker: the only process with an ONNX session."""

    def init(self) -> None:
        settings = load_settings()
        self.model = load_model(settings.model_path, settings.model_threads)

    def predict(self, rows: list[list[float]]) -> list[list]:
        predictions = self.model.predict(np.asarray(rows, dtype=np.float32))
        return [[p.label, p.probabilities] for p in predictions]


class RemoteModel:
    """What the HTTP workers hold: the model's metadata and a client."""

    def __init__(self, metadata) -> None:
        self.metadata = metadata

    def predict(self, batch: np.ndarray) -> list[Prediction]:
        rows = get_dirty_client().execute(APP_PATH, "predict", batch.tolist())
        return [Prediction(label, probabilities) for label, probabilities in rows]


def create() -> object:
    settings = load_settings()
    # The metadata only; this session is dropped before the workers fork.
    metadata = load_model(settings.model_path).metadata
    return serve_http.create_app(settings, model=RemoteModel(metadata))


app = create()
