{%- set classification = cookiecutter.task == "classification" -%}
import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
{%- if classification %}
from sklearn.datasets import load_iris
from xgboost import Booster, XGBClassifier
{%- else %}
from sklearn.datasets import load_diabetes
from xgboost import Booster, XGBRegressor
{%- endif %}

MODEL_KIND = "xgboost"
# How far the served outputs may be from the trained model's (float32 answers).
TOLERANCE = 1e-4


def train(features: np.ndarray, targets: np.ndarray):
    """Gradient-boosted trees through XGBoost's scikit-learn API, one thread so every run is the same."""
{%- if classification %}
    model = XGBClassifier(n_estimators=50, max_depth=3, learning_rate=0.3, objective="multi:softprob", n_jobs=1)
{%- else %}
    model = XGBRegressor(n_estimators=100, max_depth=3, learning_rate=0.1, objective="reg:squarederror", n_jobs=1)
{%- endif %}
    return model.fit(features, targets)


{% include "train/_outputs.py" %}


def save(model, features: np.ndarray) -> bytes:
    # XGBoost's own UBJSON format (what save_model("model.ubj") writes), never pickle.
    return bytes(model.get_booster().save_raw(raw_format="ubj"))


def check_saved(serialized: bytes, model, features: np.ndarray) -> float:
    """The largest difference between the reloaded booster's outputs and the trained model's over the data set."""
    reloaded = Booster(model_file=bytearray(serialized))
    served = reloaded.inplace_predict(features).reshape(len(features), -1)
    return float(np.max(np.abs(served - outputs(model, features))))
