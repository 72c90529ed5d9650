{%- set classification = cookiecutter.task == "classification" -%}
"""scikit-learn specifics: skops' trust list, the pickle opt-in, and a user's own pipeline."""

import logging
import operator

import joblib
import numpy as np
import pytest
import skops.io
{%- if classification %}
from sklearn.linear_model import LogisticRegression as Estimator
{%- else %}
from sklearn.linear_model import Ridge as Estimator
{%- endif %}
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from service.inference.contract import ModelLoadError
from service.inference.loader import load_model
from support.app import make_client
from support.model import EXAMPLE

WIDTH = len(EXAMPLE.instances[0])


def fitted(transform=None):
    """A pipeline of the example's width, fitted on random data, with an optional first step."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, WIDTH)).astype(np.float32)
    targets = {% if classification %}np.arange(60) % 3{% else %}features.sum(axis=1){% endif %}
    steps = [FunctionTransformer(transform)] if transform else []
    return make_pipeline(*steps, Estimator()).fit(features, targets)


def test_untrusted_type_is_refused_until_trusted(tmp_path, monkeypatch):
    path = tmp_path / "model.skops"
    skops.io.dump(fitted(operator.neg), path)  # a function outside skops' default trust list
    with pytest.raises(ModelLoadError, match=r"untrusted type _operator\.neg in the skops file: .*MODEL_TRUSTED_TYPES"):
        load_model(path)
    client = make_client(model_path=path)
    response = client.get("/readyz")
    assert response.status_code == 503 and "MODEL_TRUSTED_TYPES" in response.get_json()["reason"]

    monkeypatch.setenv("MODEL_TRUSTED_TYPES", "_operator.neg")
    model, _ = load_model(path)
    assert model.predict(np.zeros((2, WIDTH), dtype=np.float32)).shape[0] == 2


@pytest.mark.parametrize("suffix", [".joblib", ".pkl"])
def test_pickle_needs_the_opt_in(tmp_path, monkeypatch, caplog, suffix):
    path = tmp_path / f"model{suffix}"
    joblib.dump(fitted(), path)
    with pytest.raises(ModelLoadError, match=r"pickle/joblib files run any code .*MODEL_ALLOW_PICKLE=true"):
        load_model(path)

    monkeypatch.setenv("MODEL_ALLOW_PICKLE", "true")
    with caplog.at_level(logging.WARNING, logger="service.model"):
        model, _ = load_model(path)
    assert any("runs any code the file contains" in r.getMessage() for r in caplog.records)
    assert model.metadata.n_features == WIDTH


def test_feature_names_come_from_the_model(tmp_path):
    path = tmp_path / "model.skops"
    names = [f"column_{i}" for i in range(WIDTH)]
    estimator = fitted()
    estimator.steps[0][1].feature_names_in_ = np.array(names, dtype=object)  # as if fitted on a data frame
    skops.io.dump(estimator, path)
    assert load_model(path)[0].metadata.feature_names == tuple(names)
