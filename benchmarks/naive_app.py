"""The naive baseline: the same model behind Flask's development server.

What a first version of such a service often looks like: ``app.run()``
(threaded, one process), ``request.get_json()``, no validation, no metrics,
no access log of its own (the development server prints one line per
request to stderr, as it does by default).  Run from the baked project's
directory so ``model`` imports: ``python naive_app.py PORT``.
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
