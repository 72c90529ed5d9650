{%- set classification = cookiecutter.task == "classification" -%}
"""Shared fixtures: a test client, the served model's files, and its example (model/example.json).

Every test that needs real inputs takes them from the example, so swapping
the model and its example file is all a swap needs: these tests follow.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest

import serve_http
from service.inference.example import read_example
from service.settings import load_settings

PROJECT = Path(__file__).resolve().parent.parent
MODEL = load_settings().model_path
EXAMPLE = read_example(MODEL)
# The files that make up the served model, copied together for tampering.
MODEL_FILES = (MODEL.name, MODEL.name + ".sha256", "metadata.json", "example.json")


def make_client(**overrides):
    app = serve_http.create_app(load_settings(**overrides))
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture
def client():
    return make_client()


@pytest.fixture
def model_copy(tmp_path) -> Path:
    """A writable copy of the served model and the files beside it."""
    for name in MODEL_FILES:
        if (MODEL.parent / name).exists():
            shutil.copy(MODEL.parent / name, tmp_path / name)
    return tmp_path / MODEL.name


def as_outputs(predictions: list[dict], labels: list[str]) -> np.ndarray:
    """API predictions back to the rows of predict(): the example's ``outputs``."""
{%- if classification %}
    return np.array([[p["probabilities"][label] for label in labels] for p in predictions])
{%- else %}
    return np.array([p["value"] if isinstance(p["value"], list) else [p["value"]] for p in predictions])
{%- endif %}


def assert_matches_example(predictions: list[dict], labels: list[str], rows: int | None = None) -> None:
    """``predictions`` (for the example's first ``rows`` instances) are the example's outputs."""
    expected = np.array(EXAMPLE.outputs[:rows])
    tolerance = EXAMPLE.tolerance
    np.testing.assert_allclose(as_outputs(predictions, labels), expected, rtol=tolerance, atol=tolerance)
{%- if classification %}
    assert [p["label"] for p in predictions] == [labels[i] for i in expected.argmax(axis=1)]
{%- endif %}
