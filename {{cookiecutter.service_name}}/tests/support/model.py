{%- set classification = cookiecutter.task == "classification" -%}
"""The served model, the files beside it, and its example (model/example.json).

Every test that needs real inputs takes them from the example, so swapping
the model and its example file is all a swap needs: these tests follow.
"""

import numpy as np

from service.api.schemas import as_batch
from service.inference.example import read_example
from service.inference.loader import load_model
from service.settings import load_settings

MODEL = load_settings().model_path
EXAMPLE = read_example(MODEL)
# The files that make up the served model, copied together for tampering.
MODEL_FILES = (MODEL.name, MODEL.name + ".sha256", "metadata.json", "example.json")
METADATA = load_model(MODEL)[0].metadata
# Whether the model takes a table of several types (rows as objects; V2: one input per column),
# not rows of numbers: the tests of the forms it does not take are not collected (conftest.py).
TABLE = METADATA.tabular


def named(row) -> dict:
    """An example row as an object of its named columns (the form every model takes)."""
    if isinstance(row, dict):
        return row
    if isinstance(row, str):  # a text model's row: the string alone
        return {METADATA.feature_names[0]: row}
    return dict(zip(METADATA.feature_names, row, strict=True))


def model_input(rows: list) -> np.ndarray:
    """What ``predict`` gets for these rows, as /predict decodes them."""
    return as_batch(rows, "instances", METADATA)


def v2_inputs(rows: list) -> list[dict]:
    """V2 JSON inputs of these rows: one FP32 tensor of rows of numbers, or one input per column of a table."""
    if not TABLE:
        values = [[named(row)[name] for name in METADATA.feature_names] for row in rows]
        return [{"name": "input", "datatype": "FP32", "shape": [len(rows), METADATA.n_features], "data": values}]
    return [
        {
            "name": spec.name,
            "datatype": spec.datatype,
            "shape": [len(rows)],
            "data": [named(row)[spec.name] for row in rows],
        }
        for spec in METADATA.inputs
    ]


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


class NotFinite:
    """A model whose second row comes out as NaN, as a real one does far outside its range."""

    def __init__(self, model):
        self._model, self.metadata = model, model.metadata

    def predict(self, batch):
        outputs = self._model.predict(batch).copy()
        outputs[1:, 0] = float("nan")
        return outputs
