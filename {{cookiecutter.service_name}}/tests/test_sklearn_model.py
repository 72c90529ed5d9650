{%- set classification = cookiecutter.task == "classification" -%}
"""scikit-learn specifics: skops' trust list, the pickle opt-in, and a user's own pipeline."""

import json
import logging
import operator
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
{%- if classification %}
from sklearn.linear_model import LogisticRegression as Estimator
from sklearn.neural_network import MLPClassifier as Network
{%- else %}
from sklearn.linear_model import Ridge as Estimator
from sklearn.neural_network import MLPRegressor as Network
{%- endif %}
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler, minmax_scale

from service.inference.contract import ModelLoadError
from service.inference.loader import load_model
from support.app import make_client
from support.model import EXAMPLE

WIDTH = len(EXAMPLE.instances[0])


def training_data() -> tuple[np.ndarray, np.ndarray]:
    """Random rows of the example's width and their targets."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, WIDTH)).astype(np.float32)
    targets = {% if classification %}np.arange(60) % 3{% else %}features.sum(axis=1){% endif %}
    return features, targets


def fitted(transform=None):
    """A pipeline of the example's width, fitted on random data, with an optional first step."""
    steps = [FunctionTransformer(transform)] if transform else []
    return make_pipeline(*steps, Estimator()).fit(*training_data())


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


def test_a_trust_declared_in_metadata_json_is_seen_without_any_setting(tmp_path):
    path = tmp_path / "model.skops"
    skops.io.dump(fitted(operator.neg), path)
    (tmp_path / "metadata.json").write_text(json.dumps({"trusted_types": ["_operator.neg"]}))
    model, _ = load_model(path)
    assert model.predict(np.zeros((2, WIDTH), dtype=np.float32)).shape[0] == 2


def test_scikit_learns_own_classes_load_without_declared_trust(tmp_path):
    path = tmp_path / "model.skops"
    network = Network(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # it does not converge in 20 steps
        network.fit(*training_data())
    skops.io.dump(network, path)  # holds sklearn.neural_network._stochastic_optimizers.AdamOptimizer
    assert any(name.startswith("sklearn.") for name in skops.io.get_untrusted_types(file=path))
    model, _ = load_model(path)
    assert model.predict(np.zeros((2, WIDTH), dtype=np.float32)).shape[0] == 2


def test_a_scikit_learn_function_still_needs_declared_trust(tmp_path):
    # Only classes are trusted by module: a function is code a FunctionTransformer would call.
    path = tmp_path / "model.skops"
    skops.io.dump(fitted(minmax_scale), path)
    with pytest.raises(ModelLoadError, match=r"untrusted type sklearn\.preprocessing\._data\.minmax_scale "):
        load_model(path)


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


def test_columns_selected_by_name_get_a_data_frame(tmp_path):
    path = tmp_path / "model.skops"
    features, targets = training_data()
    names = [f"column_{i}" for i in range(WIDTH)]
    frame = pd.DataFrame(features, columns=names)
    by_name = ColumnTransformer([("scaled", StandardScaler(), names[:2])], remainder="passthrough")
    pipeline = make_pipeline(by_name, Estimator()).fit(frame, targets)
    skops.io.dump(pipeline, path)
    model, _ = load_model(path)
    rows = features[:3]
    expected = {% if classification %}pipeline.predict_proba{% else %}pipeline.predict{% endif %}(frame[:3])
    np.testing.assert_allclose(model.predict(rows), np.reshape(expected, (3, -1)), rtol=1e-5, atol=1e-5)
    assert model.metadata.feature_names == tuple(names)


def test_an_unfitted_model_is_refused_as_unfitted(tmp_path):
    path = tmp_path / "model.skops"
    skops.io.dump(make_pipeline(StandardScaler(), Estimator()), path)
    with pytest.raises(ModelLoadError, match=r"Pipeline is not fitted: fit it before skops\.io\.dump"):
        load_model(path)


def test_a_fitted_text_pipeline_is_not_called_unfitted(tmp_path):
    path = tmp_path / "model.skops"
    texts = ["good", "bad", "great", "awful", "fine", "poor"] * 10
    skops.io.dump(make_pipeline(TfidfVectorizer(), Estimator()).fit(texts, training_data()[1]), path)
    with pytest.raises(ModelLoadError, match=r"Pipeline takes no fixed number of columns") as error:
        load_model(path)
    assert "fitted" not in error.value.reason
