"""The limit: the smallest WSGI app that serves the same model.

No framework, no validation beyond what ``json.loads`` and ``np.asarray`` do,
no metrics, no logs: parse the JSON body, call the generated project's own
``model.predict`` and write the same response shape (its own
``predictions.to_predictions``).  Served by gunicorn with
the generated project's gunicorn.conf.py (run from the baked project's
directory, with this directory on --pythonpath), so it gets the same workers,
threads, keep-alive and preload as the real service.
"""

import json

import numpy as np
from service.inference.loader import load_model
from service.inference.predictions import to_predictions
from service.settings import load_settings

settings = load_settings()
model, _ = load_model(settings.model_path, settings)
LABELS = model.metadata.labels
model.predict(np.zeros((1, model.metadata.n_features), dtype=np.float32))
MODEL_INFO = {"name": model.metadata.name, "version": model.metadata.version}


def app(environ, start_response):
    if environ["PATH_INFO"] != "/predict":  # the benchmark's readiness probe
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "18")])
        return [b'{"status":"ready"}']
    length = int(environ.get("CONTENT_LENGTH") or 0)
    document = json.loads(environ["wsgi.input"].read(length))
    rows = document["instances"] if "instances" in document else [document["instance"]]
    outputs = model.predict(np.asarray(rows, dtype=np.float32))
    body = json.dumps({"predictions": to_predictions(outputs, LABELS), "model": MODEL_INFO}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
