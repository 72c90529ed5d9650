{%- set classification = cookiecutter.task == "classification" -%}
"""XGBoost specifics: a raw Booster loads like the shipped scikit-learn-API model, in JSON or UBJSON."""

import numpy as np
import pytest
import xgboost

from service.inference.contract import ModelLoadError
from service.inference.loader import load_model
from support.model import EXAMPLE

WIDTH = len(EXAMPLE.instances[0])


def booster(objective: str, **params) -> xgboost.Booster:
    """A small raw Booster (xgboost.train, no scikit-learn) of the example's width."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(90, WIDTH)).astype(np.float32)
    classifier = objective.startswith(("multi", "binary"))
    targets = np.arange(90) % params.get("num_class", 2) if classifier else features[:, 0]
    return xgboost.train({"objective": objective, "nthread": 1, **params}, xgboost.DMatrix(features, targets), 5)


{%- if classification %}


@pytest.mark.parametrize("suffix", [".ubj", ".json"])
@pytest.mark.parametrize(
    ("objective", "params", "classes"), [("multi:softprob", {"num_class": 3}, 3), ("binary:logistic", {}, 2)]
)
def test_raw_booster_serves_probabilities(tmp_path, suffix, objective, params, classes):
    trained = booster(objective, **params)
    path = tmp_path / f"model{suffix}"
    trained.save_model(path)
    model, _ = load_model(path)
    batch = np.array(EXAMPLE.instances, dtype=np.float32)
    probabilities = model.predict(batch)
    assert probabilities.shape == (len(batch), classes)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert model.metadata.labels == tuple(str(i) for i in range(classes))


def test_objective_without_probabilities_is_refused(tmp_path):
    path = tmp_path / "model.ubj"
    booster("multi:softmax", num_class=3).save_model(path)
    with pytest.raises(ModelLoadError, match=r"objective multi:softmax gives no probabilities .* multi:softprob"):
        load_model(path)
{%- else %}


@pytest.mark.parametrize("suffix", [".ubj", ".json"])
def test_raw_booster_serves_values(tmp_path, suffix):
    trained = booster("reg:squarederror")
    path = tmp_path / f"model{suffix}"
    trained.save_model(path)
    model, _ = load_model(path)
    batch = np.array(EXAMPLE.instances, dtype=np.float32)
    np.testing.assert_allclose(model.predict(batch)[:, 0], trained.inplace_predict(batch), rtol=1e-6)


def test_classifier_in_a_regression_service_is_refused(tmp_path):
    path = tmp_path / "model.ubj"
    booster("binary:logistic").save_model(path)
    with pytest.raises(ModelLoadError, match="makes a classifier, but this service was generated for task=regression"):
        load_model(path)
{%- endif %}


def test_pickle_is_refused(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(b"not opened")
    with pytest.raises(ModelLoadError, match=r"unknown file type '\.pkl': save the model with save_model"):
        load_model(path)
