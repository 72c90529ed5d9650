"""The model contract of model.py, and refusal of a damaged model file."""

import numpy as np
import pytest
from conftest import MODEL, SETOSA, VERSICOLOR, VIRGINICA

from model import ModelLoadError, load_model


def test_predicts_the_known_species():
    model = load_model(MODEL)
    predictions = model.predict(np.array([SETOSA, VERSICOLOR, VIRGINICA], dtype=np.float32))
    assert [p.label for p in predictions] == ["setosa", "versicolor", "virginica"]
    assert model.metadata.n_features == 4


def test_missing_file(tmp_path):
    with pytest.raises(ModelLoadError, match="model file not found") as error:
        load_model(tmp_path / "absent.onnx")
    assert str(tmp_path) in str(error.value)  # the log line names the file


def test_truncated_file_fails_its_checksum(model_copy):
    model_copy.write_bytes(model_copy.read_bytes()[:300])
    with pytest.raises(ModelLoadError, match="does not match"):
        load_model(model_copy)


def test_truncated_file_without_checksum_is_not_loadable(model_copy):
    model_copy.with_name("iris.onnx.sha256").unlink()
    model_copy.write_bytes(model_copy.read_bytes()[:300])
    with pytest.raises(ModelLoadError, match="not a loadable ONNX model"):
        load_model(model_copy)


def test_checksum_mismatch(model_copy):
    model_copy.with_name("iris.onnx.sha256").write_text("0" * 64 + "  iris.onnx\n")
    with pytest.raises(ModelLoadError, match="does not match"):
        load_model(model_copy)
