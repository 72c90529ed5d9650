import shutil
from pathlib import Path

import pytest

import serve_http
from settings import load_settings

PROJECT = Path(__file__).resolve().parent.parent
MODEL = PROJECT / "model" / "iris.onnx"
# Three flowers of the iris data set whose species is not in doubt.
SETOSA = [5.1, 3.5, 1.4, 0.2]
VERSICOLOR = [6.4, 3.2, 4.5, 1.5]
VIRGINICA = [6.7, 3.0, 5.2, 2.3]


def make_client(**overrides):
    app = serve_http.create_app(load_settings(**overrides))
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture
def client():
    return make_client()


@pytest.fixture
def model_copy(tmp_path) -> Path:
    """A writable copy of the shipped model and its checksum, for tampering."""
    for name in ("iris.onnx", "iris.onnx.sha256"):
        shutil.copy(MODEL.parent / name, tmp_path / name)
    return tmp_path / "iris.onnx"
