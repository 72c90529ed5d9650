{%- set classification = cookiecutter.task == "classification" -%}
"""scikit-learn specifics: skops' trust list, the pickle opt-in, a user's own pipeline, named mixed-type columns."""

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
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
{%- if classification %}
from sklearn.linear_model import LogisticRegression as Estimator
from sklearn.neural_network import MLPClassifier as Network
{%- else %}
from sklearn.linear_model import Ridge as Estimator
from sklearn.neural_network import MLPRegressor as Network
{%- endif %}
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler, minmax_scale

from service.inference.contract import ModelLoadError
from service.inference.loader import load_model
from support.app import make_client
from support.model import METADATA

WIDTH = METADATA.n_features


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


TEXTS = ["good", "bad", "great", "awful", "fine", "poor"] * 10


def text_pipeline(tmp_path):
    """A TF-IDF pipeline fitted on a list of strings, saved with skops; and the pipeline."""
    pipeline = make_pipeline(TfidfVectorizer(), Estimator()).fit(TEXTS, training_data()[1])
    skops.io.dump(pipeline, tmp_path / "model.skops")
    return pipeline


def test_a_text_pipeline_takes_strings_alone_or_as_its_column(tmp_path):
    pipeline = text_pipeline(tmp_path)
    model, _ = load_model(tmp_path / "model.skops")
    assert [column.model_dump(exclude_defaults=True) for column in model.metadata.columns] == [
        {"name": "text", "type": "string"}
    ]
    client = make_client(model_path=tmp_path / "model.skops")
    alone = client.post("/predict", json={"instances": ["good", "awful"]})
    assert alone.status_code == 200, alone.get_json()
    named = client.post("/predict", json={"instances": [{"text": "good"}, {"text": "awful"}]})
    single = client.post("/predict", json={"instance": "good"})
    assert named.get_json() == alone.get_json()
    assert single.get_json()["predictions"] == alone.get_json()["predictions"][:1]
    expected = {% if classification %}pipeline.predict_proba{% else %}pipeline.predict{% endif %}(["good", "awful"])
    np.testing.assert_allclose(
        model.predict(np.array([["good"], ["awful"]], dtype=object)), np.reshape(expected, (2, -1)), rtol=1e-6
    )
    name = client.get("/metadata").get_json()["name"]
    tensor = {"name": "text", "datatype": "BYTES", "shape": [2], "data": ["good", "awful"]}
    v2 = client.post(f"/v2/models/{name}/infer", json={"inputs": [tensor]})
    np.testing.assert_allclose(v2.get_json()["outputs"][0]["data"], np.ravel(expected), rtol=1e-6)
    for body, message in [
        ({"instances": ["good", 5]}, "instances[1]: 5 is not a string (the 'text' text) nor an object"),
        ({"instances": [{"text": None}]}, "instances[0].text: null is not allowed"),
        ({"instance": {"txt": "good"}}, "instance: unknown column 'txt'"),
    ]:
        response = client.post("/predict", json=body)
        assert (response.status_code, response.get_json()["error"]["message"]) == (400, message)
    items = client.get("/openapi.json").get_json()["components"]["schemas"]["PredictRequest"]["properties"]
    assert items["instances"]["items"]["anyOf"][0] == {"type": "string"}


def test_a_text_pipelines_declared_column_names_it_and_must_be_one_string(tmp_path):
    text_pipeline(tmp_path)
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps({"inputs": [{"name": "review", "type": "string"}]}))
    client = make_client(model_path=tmp_path / "model.skops")
    assert client.post("/predict", json={"instances": [{"review": "good"}]}).status_code == 200
    metadata.write_text(json.dumps({"inputs": [{"name": "review", "type": "string", "nullable": True}]}))
    with pytest.raises(ModelLoadError, match="a text pipeline takes one string column, not nullable"):
        load_model(tmp_path / "model.skops")


def test_a_model_of_neither_columns_nor_text_is_refused_saying_so(tmp_path):
    path = tmp_path / "model.skops"
    records = [{"word": text} for text in TEXTS]  # a DictVectorizer takes dicts: no fixed columns, no text
    skops.io.dump(make_pipeline(DictVectorizer(), Estimator()).fit(records, training_data()[1]), path)
    with pytest.raises(
        ModelLoadError, match=r"Pipeline takes no fixed number of columns .* is no text pipeline"
    ) as error:
        load_model(path)
    assert "fitted" not in error.value.reason


def mixed_pipeline(tmp_path):
    """A pipeline on named columns of several types with missing values, saved with skops; and its data frame."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "island": rng.choice(["Biscoe", "Dream", "Torgersen"], 60),
            "bill_length_mm": rng.normal(44, 5, 60),
            "sex": rng.choice(np.array(["female", "male", None], dtype=object), 60),
        }
    )
    frame.loc[3, "bill_length_mm"] = np.nan
    targets = {% if classification %}np.arange(60) % 3{% else %}frame["bill_length_mm"].fillna(44).to_numpy(){% endif %}
    prepare = ColumnTransformer(
        [
            ("number", make_pipeline(SimpleImputer(), StandardScaler()), ["bill_length_mm"]),
            ("island", OneHotEncoder(), ["island"]),
            ("sex", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder()), ["sex"]),
        ]
    )
    pipeline = make_pipeline(prepare, Estimator()).fit(frame, targets)
    skops.io.dump(pipeline, tmp_path / "model.skops")
    return pipeline, frame


ROWS = [
    {"sex": "male", "island": "Biscoe", "bill_length_mm": 39.1},
    {"island": "Dream", "bill_length_mm": None, "sex": None},
    {"bill_length_mm": 50.2, "sex": "female", "island": "Torgersen"},
]


def test_columns_are_inferred_from_the_pipeline(tmp_path, caplog):
    mixed_pipeline(tmp_path)
    with caplog.at_level(logging.INFO, logger="service.model"):
        columns = load_model(tmp_path / "model.skops")[0].metadata.columns
    assert [column.model_dump(exclude_defaults=True) for column in columns] == [
        {"name": "island", "type": "string", "enum": ("Biscoe", "Dream", "Torgersen")},
        {"name": "bill_length_mm", "nullable": True},
        {"name": "sex", "type": "string", "nullable": True, "enum": ("female", "male")},
    ]
    assert any("input columns inferred" in record.getMessage() for record in caplog.records)


def test_named_mixed_rows_get_the_pipelines_answers(tmp_path):
    pipeline, _ = mixed_pipeline(tmp_path)
    client = make_client(model_path=tmp_path / "model.skops")
    response = client.post("/predict", json={"instances": ROWS})
    assert response.status_code == 200, response.get_json()
    expected = {% if classification %}pipeline.predict_proba{% else %}pipeline.predict{% endif %}(pd.DataFrame(ROWS)[["island", "bill_length_mm", "sex"]])
    predictions = response.get_json()["predictions"]
{%- if classification %}
    labels = client.get("/metadata").get_json()["labels"]
    served = [[p["probabilities"][label] for label in labels] for p in predictions]
{%- else %}
    served = [[p["value"]] for p in predictions]
{%- endif %}
    np.testing.assert_allclose(served, np.reshape(expected, (3, -1)), rtol=1e-5, atol=1e-6)
    assert client.post("/predict", json={"instance": ROWS[1]}).status_code == 200


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {"instances": [ROWS[0], ROWS[1], ROWS[2] | {"island": "Atlantis"}]},
            "invalid_row",
            "instances[2].island: 'Atlantis' is not one of Biscoe, Dream, Torgersen",
        ),
        (
            {"instances": [{"island": "Biscoe", "bill_length_mm": 39.1}]},
            "invalid_row",
            "instances[0]: missing column 'sex'",
        ),
        ({"instances": [ROWS[0] | {"colour": "red"}]}, "invalid_row", "instances[0]: unknown column 'colour'"),
        ({"instance": ROWS[0] | {"island": None}}, "invalid_row", "instance.island: null is not allowed"),
        (
            {"instances": [ROWS[0], [1, 39.1, 2]]},
            "invalid_request",
            "instances[1]: Input should be an object of the model's columns (island, bill_length_mm, sex)",
        ),
        ({"instances": [ROWS[0]], "extra": 1}, "invalid_request", "extra: Extra inputs are not permitted"),
    ],
    ids=lambda value: value[:40] if isinstance(value, str) else None,
)
def test_a_bad_named_row_is_a_json_400_naming_the_field_and_the_rule(tmp_path, body, code, message):
    mixed_pipeline(tmp_path)
    response = make_client(model_path=tmp_path / "model.skops").post("/predict", json=body)
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert (error["code"], error["message"]) == (code, message)


def test_metadata_openapi_and_v2_know_the_columns(tmp_path):
    mixed_pipeline(tmp_path)
    client = make_client(model_path=tmp_path / "model.skops")
    metadata = client.get("/metadata").get_json()
    assert metadata["columns"][0] == {
        "name": "island",
        "type": "string",
        "nullable": False,
        "enum": ["Biscoe", "Dream", "Torgersen"],
    }
    request = client.get("/openapi.json").get_json()["components"]["schemas"]["PredictRequest"]
    row = request["properties"]["instances"]["items"]
    assert row["required"] == ["island", "bill_length_mm", "sex"] and row["additionalProperties"] is False
    assert row["properties"]["sex"] == {"type": ["string", "null"], "enum": ["female", "male", None]}
    v2_model = client.get(f"/v2/models/{metadata['name']}").get_json()
    assert v2_model["inputs"] == [
        {"name": "island", "datatype": "BYTES", "shape": [-1]},
        {"name": "bill_length_mm", "datatype": "FP64", "shape": [-1]},
        {"name": "sex", "datatype": "BYTES", "shape": [-1]},
    ]


def test_v2_takes_one_input_per_column_and_answers_as_predict(tmp_path):
    mixed_pipeline(tmp_path)
    client = make_client(model_path=tmp_path / "model.skops")
    name = client.get("/metadata").get_json()["name"]
    native = client.post("/predict", json={"instances": ROWS}).get_json()["predictions"]
    inputs = [
        {"name": "sex", "datatype": "BYTES", "shape": [3, 1], "data": [[row["sex"]] for row in ROWS]},
        {"name": "island", "datatype": "BYTES", "shape": [3], "data": [row["island"] for row in ROWS]},
        {"name": "bill_length_mm", "datatype": "FP32", "shape": [3], "data": [row["bill_length_mm"] for row in ROWS]},
    ]
    request = {"parameters": {"content_type": "pd"}, "inputs": inputs}
    response = client.post(f"/v2/models/{name}/infer", json=request)
    assert response.status_code == 200, response.get_json()
    (output,) = response.get_json()["outputs"]
{%- if classification %}
    expected = [[prediction["probabilities"][label] for label in ("0", "1", "2")] for prediction in native]
{%- else %}
    expected = [[prediction["value"]] for prediction in native]
{%- endif %}
    np.testing.assert_allclose(np.reshape(output["data"], output["shape"]), expected, rtol=1e-6)
    inputs[1]["data"] = ["Biscoe", "Atlantis", "Dream"]
    response = client.post(f"/v2/models/{name}/infer", json={"inputs": inputs})
    assert response.get_json() == {
        "error": "input 'island': element 1: 'Atlantis' is not one of Biscoe, Dream, Torgersen"
    }


def test_a_declared_datatype_is_what_v2_metadata_lists(tmp_path):
    mixed_pipeline(tmp_path)
    declared = [
        {"name": "island", "type": "string", "enum": ["Biscoe", "Dream", "Torgersen"]},
        {"name": "bill_length_mm", "nullable": True, "datatype": "FP32"},
        {"name": "sex", "type": "string", "nullable": True, "enum": ["female", "male"]},
    ]
    (tmp_path / "metadata.json").write_text(json.dumps({"name": "mixed", "inputs": declared}))
    client = make_client(model_path=tmp_path / "model.skops")
    assert client.get("/v2/models/mixed").get_json()["inputs"][1] == {
        "name": "bill_length_mm",
        "datatype": "FP32",
        "shape": [-1],
    }
    declared[0]["datatype"] = "FP32"
    (tmp_path / "metadata.json").write_text(json.dumps({"inputs": declared}))
    with pytest.raises(ModelLoadError, match="column 'island': datatype FP32 is not one for a string column"):
        load_model(tmp_path / "model.skops")


def test_declared_inputs_override_and_must_be_the_models_columns(tmp_path):
    mixed_pipeline(tmp_path)
    declared = [
        {"name": "island", "type": "string", "enum": ["Biscoe", "Dream", "Torgersen"]},
        {"name": "bill_length_mm", "type": "number", "nullable": True, "minimum": 20, "maximum": 70},
        {"name": "sex", "type": "string", "nullable": True, "enum": ["female", "male"]},
    ]
    (tmp_path / "metadata.json").write_text(json.dumps({"inputs": declared}))
    client = make_client(model_path=tmp_path / "model.skops")
    response = client.post("/predict", json={"instance": ROWS[0] | {"bill_length_mm": 90}})
    assert response.get_json()["error"]["message"] == "instance.bill_length_mm: 90 is more than the maximum 70"
    (tmp_path / "metadata.json").write_text(json.dumps({"inputs": declared[::-1]}))
    with pytest.raises(
        ModelLoadError, match=r"metadata.json's inputs \(sex, bill_length_mm, island\) are not the columns"
    ):
        load_model(tmp_path / "model.skops")
