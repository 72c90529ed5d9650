"""The model behind the contract (service/inference/contract.py), and refusal of a damaged model file."""

import json
import logging

import numpy as np
import pytest

from service.inference.contract import ModelLoadError
from service.inference.loader import load_model
from service.inference.processing import postprocess, preprocess
from support.app import make_client
from support.model import EXAMPLE, MODEL, model_input, named


def test_predicts_the_example():
    model, digest = load_model(MODEL)
    # The example's instances are what clients send: through preprocess and postprocess, as a request goes.
    outputs = postprocess(model.predict(preprocess(model_input(EXAMPLE.instances))))
    np.testing.assert_allclose(outputs, EXAMPLE.outputs, rtol=EXAMPLE.tolerance, atol=EXAMPLE.tolerance)
    assert outputs.shape == (len(EXAMPLE.instances), model.metadata.n_outputs)
    assert model.metadata.n_features == len(named(EXAMPLE.instances[0]))
    assert len(digest) == 64


def test_metadata_describes_the_tensors():
    info = load_model(MODEL)[0].metadata
    if info.tabular:  # V2 takes a table of several types one column at a time
        assert [(tensor.name, tensor.shape) for tensor in info.inputs] == [(name, (-1,)) for name in info.feature_names]
    else:
        assert info.inputs[0].shape == (-1, info.n_features)
    assert info.outputs[0].shape == (-1, info.n_outputs)
    assert info.task == "{{ cookiecutter.task }}"
    if info.task == "classification":
        assert len(info.labels) == info.n_outputs


def test_missing_file(tmp_path):
    with pytest.raises(ModelLoadError, match="model file not found") as error:
        load_model(tmp_path / "absent" / MODEL.name)
    assert str(tmp_path) in str(error.value)  # the log line names the file


def test_truncated_file_fails_its_checksum(model_copy):
    model_copy.write_bytes(model_copy.read_bytes()[:300])
    with pytest.raises(ModelLoadError, match="does not match"):
        load_model(model_copy)


def test_truncated_file_without_checksum_is_not_loadable(model_copy):
    model_copy.with_name(model_copy.name + ".sha256").unlink()
    model_copy.write_bytes(model_copy.read_bytes()[:300])
    with pytest.raises(ModelLoadError, match="not a loadable") as error:
        load_model(model_copy)
    assert str(model_copy.parent) not in error.value.reason  # the reason reaches /readyz: no paths


def test_corrupted_file_gives_503_with_the_reason(model_copy):
    """A damaged model never crash-loops the service: it starts, and /readyz says why it is not ready."""
    model_copy.with_name(model_copy.name + ".sha256").unlink()
    data = bytearray(model_copy.read_bytes())
    data[len(data) // 2 :] = bytes(len(data) - len(data) // 2)  # the second half zeroed
    model_copy.write_bytes(bytes(data))
    client = make_client(model_path=model_copy)
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503, response.get_json()
    body = response.get_json()
    assert body["status"] == "not_ready" and body["reason"].startswith("not a loadable"), body
    assert str(model_copy.parent) not in body["reason"]


def test_checksum_mismatch(model_copy):
    model_copy.with_name(model_copy.name + ".sha256").write_text("0" * 64 + f"  {model_copy.name}\n")
    with pytest.raises(ModelLoadError, match="does not match"):
        load_model(model_copy)


def test_no_checksum_file_loads_with_one_warning(model_copy, caplog):
    model_copy.with_name(model_copy.name + ".sha256").unlink()
    with caplog.at_level(logging.WARNING, logger="service.model"):
        load_model(model_copy)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "integrity not checked" in warnings[0], warnings


def test_metadata_file_overrides_and_is_checked(model_copy):
    metadata = model_copy.with_name("metadata.json")
    metadata.write_text('{"name": "renamed", "version": "9"}')
    info = load_model(model_copy)[0].metadata
    assert (info.name, info.version) == ("renamed", "9")
    metadata.write_text('{"nmae": "typo"}')
    with pytest.raises(ModelLoadError, match=r"metadata\.json: nmae: Extra inputs are not permitted"):
        load_model(model_copy)
    other = "regression" if info.task == "classification" else "classification"
    metadata.write_text(f'{% raw %}{{"task": "{other}"}}{% endraw %}')
    with pytest.raises(ModelLoadError, match=f"says task={other}, but this service was generated for task={info.task}"):
        load_model(model_copy)


def test_declared_inputs_name_the_columns(model_copy):
    metadata = model_copy.with_name("metadata.json")
    served = load_model(model_copy)[0].metadata  # a model fitted on named columns keeps its names
    names, width = served.feature_names, len(served.feature_names)
    declared = [column.model_dump(exclude_none=True) for column in served.columns]
    metadata.write_text(json.dumps({"inputs": declared}))
    info = load_model(model_copy)[0].metadata
    assert info.feature_names == names and info.tabular == served.tabular
    assert info.columns == served.columns
    metadata.write_text(json.dumps({"inputs": [{"name": "only"}]}))
    # A model that knows its column names (scikit-learn's feature_names_in_) names them in its refusal.
    refused = (
        f"1 feature names for a model of {width} features|are not the columns the model was fitted on"
        "|a text pipeline takes one string column"
    )
    with pytest.raises(ModelLoadError, match=refused):
        load_model(model_copy)
{%- if cookiecutter.model_framework != "sklearn" %}
    metadata.write_text(json.dumps({"inputs": [{"name": name, "nullable": True} for name in names]}))
    with pytest.raises(ModelLoadError, match="takes rows of numbers only"):
        load_model(model_copy)
{%- endif %}
