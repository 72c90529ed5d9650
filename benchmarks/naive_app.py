"""The hand-written Flask app: the same model behind one bare Flask route.

What a first version of such a service often looks like:
``request.get_json()``, no validation, no metrics, no access log of its own.
The benchmark serves it twice: under gunicorn with the generated project's
gunicorn.conf.py (``naive_app:app``, the same workers, threads and keep-alive
as the real service), and as the naive baseline on Flask's development server
(``python naive_app.py PORT``: ``app.run()``, threaded, one process, which
prints one line per request to stderr by default).  Run from the baked
project's directory so ``service`` imports.
"""

import sys

import numpy as np
from flask import Flask, jsonify, request
from service.inference.loader import load_model
from service.inference.predictions import to_predictions
from service.settings import load_settings

settings = load_settings()
model, _ = load_model(settings.model_path, settings)
app = Flask(__name__)


@app.post("/predict")
def predict():
    document = request.get_json()
    rows = document["instances"] if "instances" in document else [document["instance"]]
    outputs = model.predict(np.asarray(rows, dtype=np.float32))
    return jsonify(
        predictions=to_predictions(outputs, model.metadata.labels),
        model={"name": model.metadata.name, "version": model.metadata.version},
    )


@app.get("/readyz")
def readyz():
    return jsonify(status="ready")


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
