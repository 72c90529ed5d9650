"""The Open Inference Protocol (KServe V2) routes: health, metadata, the example's outputs, limits and errors.

These hold for every model; its inputs' own forms are tested in
test_v2_tensors.py (one FP32 tensor of rows of numbers) or test_v2_tables.py
(one input per column of a table of several types), whichever it takes.
"""

import json

import numpy as np
import pytest

from support.app import client_serving, make_client
from support.model import EXAMPLE, METADATA, TABLE, NotFinite, v2_inputs
from support.openapi import assert_documented
from support.v2 import assert_example_outputs, read_binary_response, v2_error

ROWS = EXAMPLE.instances
FIRST = f"input {METADATA.inputs[0].name!r}"


@pytest.fixture(scope="module")
def v2_model():
    """The served model as GET /v2/models/{name} describes it."""
    client = make_client()
    name = client.get("/metadata").get_json()["name"]
    return client.get(f"/v2/models/{name}").get_json()


@pytest.fixture
def infer_path(v2_model):
    return f"/v2/models/{v2_model['name']}/infer"


# --- health and metadata -------------------------------------------------------------


def test_health_and_server_metadata(client):
    assert client.get("/v2/health/live").get_json() == {"live": True}
    assert client.get("/v2/health/ready").get_json() == {"ready": True}
    server = client.get("/v2").get_json()
    assert server["version"] and server["name"]
    assert "binary_tensor_data" in server["extensions"]
    # The spelling of the protocol's open_inference_rest.yaml: the same answer, no redirect.
    assert client.get("/v2/").get_json() == server


def test_model_metadata_lists_the_contract_tensors(client, v2_model):
    native = client.get("/metadata").get_json()
    assert v2_model["name"] == native["name"]
    assert v2_model["versions"] == [native["version"]]
    assert v2_model["platform"] == {{ cookiecutter._frameworks[cookiecutter.model_framework].v2_platform | jsonify }}  # fmt: skip
    if TABLE:  # one input per column, named as it, in its V2 datatype
        inputs = [{"name": column.name, "datatype": column.v2_datatype, "shape": [-1]} for column in METADATA.columns]
    else:
        inputs = [{"name": "input", "datatype": "FP32", "shape": [-1, METADATA.n_features]}]
    assert v2_model["inputs"] == inputs
    (output,) = v2_model["outputs"]
    assert output["shape"] == [-1, len(EXAMPLE.outputs[0])]
    versioned = client.get(f"/v2/models/{v2_model['name']}/versions/{native['version']}")
    assert versioned.get_json() == v2_model


def test_model_ready_with_and_without_version(client, v2_model):
    name, version = v2_model["name"], v2_model["versions"][0]
    assert client.get(f"/v2/models/{name}/ready").get_json() == {"name": name, "ready": True}
    assert client.get(f"/v2/models/{name}/versions/{version}/ready").status_code == 200


@pytest.mark.parametrize("suffix", ["", "/ready", "/infer"])
def test_unknown_model_or_version_is_404(client, v2_model, suffix):
    method = client.post if suffix == "/infer" else client.get
    body = {"inputs": v2_inputs(ROWS)} if suffix == "/infer" else None
    assert "unknown model 'nope'" in v2_error(method(f"/v2/models/nope{suffix}", json=body), 404)
    path = f"/v2/models/{v2_model['name']}/versions/0.0.0-nope{suffix}"
    assert "no version '0.0.0-nope'" in v2_error(method(path, json=body), 404)


def test_not_ready_is_503_and_live_stays_200(tmp_path, v2_model):
    client = make_client(model_path=tmp_path / "absent.onnx")
    assert client.get("/v2/health/live").status_code == 200
    assert client.get("/v2/health/ready").status_code == 503
    name = v2_model["name"]
    for response in (client.get(f"/v2/models/{name}/ready"), client.post(f"/v2/models/{name}/infer", json={})):
        assert "model not ready" in v2_error(response, 503)


# --- inference -------------------------------------------------------------------------


def test_json_inference_gives_the_example_outputs(client, v2_model, infer_path):
    response = client.post(infer_path, json={"id": "req-1", "inputs": v2_inputs(ROWS)})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["model_name"], body["model_version"], body["id"]) == (
        v2_model["name"],
        v2_model["versions"][0],
        "req-1",
    )
    (output,) = body["outputs"]
    assert (output["name"], output["datatype"]) == (v2_model["outputs"][0]["name"], v2_model["outputs"][0]["datatype"])
    assert_example_outputs(output, output["data"])


def test_the_versioned_path(client, v2_model):
    path = f"/v2/models/{v2_model['name']}/versions/{v2_model['versions'][0]}/infer"
    response = client.post(path, json={"inputs": v2_inputs(ROWS)})
    assert response.status_code == 200
    assert_example_outputs(response.get_json()["outputs"][0], response.get_json()["outputs"][0]["data"])


def test_id_defaults_to_the_request_id(client, infer_path):
    response = client.post(infer_path, json={"inputs": v2_inputs(ROWS)}, headers={"X-Request-ID": "trace-42"})
    assert response.get_json()["id"] == "trace-42"


def test_inference_counts_in_the_metrics(client, infer_path):
    def total() -> float:
        text = client.get("/metrics").get_data(as_text=True)
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("predictions_total"))

    before = total()
    assert client.post(infer_path, json={"inputs": v2_inputs(ROWS)}).status_code == 200
    assert total() == before + len(ROWS)


def test_per_output_binary_data_overrides_the_request_default(client, v2_model, infer_path):
    name = v2_model["outputs"][0]["name"]
    request = {"inputs": v2_inputs(ROWS), "outputs": [{"name": name, "parameters": {"binary_data": True}}]}
    head, raw = read_binary_response(client.post(infer_path, json=request))
    assert_example_outputs(head["outputs"][0], np.frombuffer(raw, dtype="<f4"))
    request = {**request, "parameters": {"binary_data_output": True}}
    request["outputs"] = [{"name": name, "parameters": {"binary_data": False}}]
    response = client.post(infer_path, json=request)
    assert response.mimetype == "application/json"
    assert_example_outputs(response.get_json()["outputs"][0], response.get_json()["outputs"][0]["data"])


# --- limits and errors: a 4xx {"error": "..."} naming the problem ---------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Content-Type": "text/plain"}, "Content-Type must be application/json"),
        ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, "Content-Encoding 'gzip' is not supported"),
    ],
)
def test_unsupported_body_encoding_is_415(client, infer_path, headers, message):
    response = client.post(infer_path, data=json.dumps({"inputs": v2_inputs(ROWS)}), headers=headers)
    assert message in v2_error(response, 415)


def test_batch_and_body_limits_are_413(v2_model):
    path = f"/v2/models/{v2_model['name']}/infer"
    response = make_client(max_batch_size=2).post(path, json={"inputs": v2_inputs([ROWS[0]] * 3)})
    assert v2_error(response, 413) == f"{FIRST}: batch of 3 exceeds the maximum of 2"
    response = make_client(max_body_bytes=1024).post(path, json={"inputs": v2_inputs([ROWS[0]] * 100)})
    assert "1024 bytes" in v2_error(response, 413)


def test_no_finite_prediction_is_422(v2_model):
    client = client_serving(NotFinite)
    response = client.post(f"/v2/models/{v2_model['name']}/infer", json={"inputs": v2_inputs(ROWS[:2])})
    assert v2_error(response, 422).startswith("row 1: ")


def test_wrong_method_and_unknown_route_use_the_v2_shape(client, infer_path):
    assert "method not allowed" in v2_error(client.get(infer_path), 405)
    assert "no such route" in v2_error(client.get("/v2/nope"), 404)


def test_api_key_guards_inference_not_health(v2_model):
    client = make_client(api_key="s3cret")
    assert client.get("/v2/health/ready").status_code == 200
    path = f"/v2/models/{v2_model['name']}/infer"
    assert "API key" in v2_error(client.post(path, json={"inputs": v2_inputs(ROWS)}), 401)
    response = client.post(path, json={"inputs": v2_inputs(ROWS)}, headers={"Authorization": "Bearer s3cret"})
    assert response.status_code == 200


def test_real_v2_responses_match_the_document(client, v2_model, infer_path):
    document = client.get("/openapi.json").get_json()
    templated = "/v2/models/{name}/infer"
    for response in (
        client.post(infer_path, json={"inputs": v2_inputs(ROWS)}),
        client.post(infer_path, json={"inputs": v2_inputs(ROWS), "parameters": {"binary_data_output": True}}),
        client.post(infer_path, json={"inputs": [{**v2_inputs(ROWS)[0], "name": "x"}]}),
        client.post("/v2/models/nope/infer", json={}),
    ):
        assert_documented(document, "POST", templated, response)
    assert_documented(document, "GET", "/v2/models/{name}", client.get(f"/v2/models/{v2_model['name']}"))
    for path in ("/v2", "/v2/health/live", "/v2/health/ready"):
        assert_documented(document, "GET", path, client.get(path))
    # A 405 is documented on the route's other methods.
    assert_documented(document, "GET", "/v2/health/live", client.post("/v2/health/live"))
