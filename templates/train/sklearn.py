{%- set classification = cookiecutter.task == "classification" -%}
import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import skops.io
{%- if classification %}
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
{%- else %}
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
{%- endif %}
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

MODEL_KIND = "{% if classification %}logistic{% else %}ridge{% endif %}-regression"
# How far the served outputs may be from the trained model's (float32 answers).
TOLERANCE = 1e-4


{% include "train/_pipeline.py" %}


{% include "train/_outputs.py" %}


def save(model, features: np.ndarray) -> bytes:
    # skops, not pickle: the service rebuilds only trusted types and runs no code from the file.
    return skops.io.dumps(model)


def check_saved(serialized: bytes, model, features: np.ndarray) -> float:
    """The largest difference between the reloaded model's outputs and the trained one's over the data set."""
    reloaded = skops.io.loads(serialized, trusted=skops.io.get_untrusted_types(data=serialized))
    return float(np.max(np.abs(outputs(reloaded, features) - outputs(model, features))))
