{%- set classification = cookiecutter.task == "classification" -%}
import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
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
# Pinned so the exported graph does not change when skl2onnx's default moves.
TARGET_OPSET = 17
# How far the served outputs may be from scikit-learn's (float32 arithmetic in ONNX Runtime).
TOLERANCE = 1e-4


{% include "train/_pipeline.py" %}


{% include "train/_outputs.py" %}


def save(model, features: np.ndarray) -> bytes:
{%- if classification %}
    # zipmap=False: probabilities come back as one float tensor, not a list of
    # maps, which the service reads without a Python loop per row.
    options = {id(model.steps[-1][1]): {"zipmap": False}}
    onnx_model = to_onnx(model, features[:1], target_opset=TARGET_OPSET, options=options)
{%- else %}
    onnx_model = to_onnx(model, features[:1], target_opset=TARGET_OPSET)
{%- endif %}
    return onnx_model.SerializeToString(deterministic=True)


def check_saved(serialized: bytes, model, features: np.ndarray) -> float:
    """The largest difference between ONNX Runtime's and scikit-learn's outputs over the data set."""
    session = ort.InferenceSession(serialized, providers=["CPUExecutionProvider"])
    served = session.run(None, {session.get_inputs()[0].name: features})[-1]
    return float(np.max(np.abs(served.reshape(len(features), -1) - outputs(model, features))))
