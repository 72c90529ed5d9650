"""The Open Inference Protocol (KServe V2) routes: the example's outputs in JSON and binary, and every error.

Binary bodies are built here as the protocol's binary extension lays them
out (JSON, then little-endian row-major bytes), with numpy, not with the
service's own code.
"""

import json

import numpy as np
import pytest

from support.app import client_serving, make_client
from support.model import EXAMPLE, NotFinite
from support.openapi import assert_documented

ROWS = EXAMPLE.instances
WIDTH = len(ROWS[0])
HEADER = "Inference-Header-Content-Length"


@pytest.fixture(scope="module")
def v2_model():
    """The served model as GET /v2/models/{name} describes it."""
    client = make_client()
    name = client.get("/metadata").get_json()["name"]
    return client.get(f"/v2/models/{name}").get_json()


@pytest.fixture
def infer_path(v2_model):
    return f"/v2/models/{v2_model['name']}/infer"


def input_tensor(rows=ROWS, datatype="FP32", **fields) -> dict:
    return {"name": "input", "shape": [len(rows), WIDTH], "datatype": datatype, "data": rows, **fields}


def binary_body(request: dict, *arrays: np.ndarray) -> tuple[bytes, dict]:
    """A binary-extension body and its header: the JSON, then each array's little-endian bytes."""
    head = json.dumps(request).encode()
    return head + b"".join(array.tobytes() for array in arrays), {HEADER: str(len(head))}


def binary_infer(rows: np.ndarray, datatype: str = "FP32", **request) -> tuple[bytes, dict]:
    """An infer request sending ``rows`` in binary, and its headers."""
    tensor = {"name": "input", "shape": list(rows.shape), "datatype": datatype}
    tensor["parameters"] = {"binary_data_size": rows.nbytes}
    return binary_body({"inputs": [tensor], **request}, rows)


def expected_outputs(rows: int | None = None) -> np.ndarray:
    return np.array(EXAMPLE.outputs[:rows])


def assert_example_outputs(output: dict, values, rows: int | None = None) -> None:
    expected = expected_outputs(rows)
    assert output["shape"] == list(expected.shape)
    got = np.asarray(values, dtype=np.float64).reshape(output["shape"])
    np.testing.assert_allclose(got, expected, rtol=EXAMPLE.tolerance, atol=EXAMPLE.tolerance)


def v2_error(response, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert list(body) == ["error"] and isinstance(body["error"], str), body
    return body["error"]


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
    assert v2_model["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, WIDTH]}]
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
    body = {"inputs": [input_tensor()]} if suffix == "/infer" else None
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


# --- inference in JSON -----------------------------------------------------------------


@pytest.mark.parametrize("datatype", ["FP32", "FP64"])
def test_json_inference_gives_the_example_outputs(client, v2_model, infer_path, datatype):
    response = client.post(infer_path, json={"id": "req-1", "inputs": [input_tensor(datatype=datatype)]})
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


def test_flat_data_and_the_versioned_path(client, v2_model):
    flat = [value for row in ROWS for value in row]
    path = f"/v2/models/{v2_model['name']}/versions/{v2_model['versions'][0]}/infer"
    response = client.post(path, json={"inputs": [input_tensor(data=flat)]})
    assert response.status_code == 200
    assert_example_outputs(response.get_json()["outputs"][0], response.get_json()["outputs"][0]["data"])


@pytest.mark.parametrize("datatype", ["INT32", "INT64"])
def test_integer_inputs_are_cast_to_float32(client, infer_path, datatype):
    rows = [[round(value) for value in row] for row in ROWS]
    expected = client.post(infer_path, json={"inputs": [input_tensor(rows, "FP32")]}).get_json()
    response = client.post(infer_path, json={"inputs": [input_tensor(rows, datatype)]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["outputs"] == expected["outputs"]


def test_id_defaults_to_the_request_id(client, infer_path):
    response = client.post(infer_path, json={"inputs": [input_tensor()]}, headers={"X-Request-ID": "trace-42"})
    assert response.get_json()["id"] == "trace-42"


def test_inference_counts_in_the_metrics(client, infer_path):
    def total() -> float:
        text = client.get("/metrics").get_data(as_text=True)
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("predictions_total"))

    before = total()
    assert client.post(infer_path, json={"inputs": [input_tensor()]}).status_code == 200
    assert total() == before + len(ROWS)


# --- inference in binary -----------------------------------------------------------------


def read_binary_response(response) -> tuple[dict, bytes]:
    assert response.status_code == 200, response.get_data()
    assert response.mimetype == "application/octet-stream"
    length = int(response.headers[HEADER])
    return json.loads(response.data[:length]), response.data[length:]


def test_binary_request_and_response(client, infer_path):
    rows = np.array(ROWS, dtype=np.float32)
    data, headers = binary_infer(rows, parameters={"binary_data_output": True})
    head, raw = read_binary_response(client.post(infer_path, data=data, headers=headers))
    (output,) = head["outputs"]
    assert "data" not in output and output["parameters"]["binary_data_size"] == len(raw)
    assert_example_outputs(output, np.frombuffer(raw, dtype="<f4"))


def test_binary_fp64_input_with_a_json_output(client, v2_model, infer_path):
    rows = np.array(ROWS, dtype="<f8")
    data, headers = binary_infer(rows, "FP64")
    response = client.post(infer_path, data=data, headers={**headers, "Content-Type": "application/octet-stream"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    output = response.get_json()["outputs"][0]
    assert_example_outputs(output, output["data"])


def test_per_output_binary_data_overrides_the_request_default(client, v2_model, infer_path):
    name = v2_model["outputs"][0]["name"]
    request = {"inputs": [input_tensor()], "outputs": [{"name": name, "parameters": {"binary_data": True}}]}
    head, raw = read_binary_response(client.post(infer_path, json=request))
    assert_example_outputs(head["outputs"][0], np.frombuffer(raw, dtype="<f4"))
    request = {**request, "parameters": {"binary_data_output": True}}
    request["outputs"] = [{"name": name, "parameters": {"binary_data": False}}]
    response = client.post(infer_path, json=request)
    assert response.mimetype == "application/json"
    assert_example_outputs(response.get_json()["outputs"][0], response.get_json()["outputs"][0]["data"])


# --- every error: a 4xx {"error": "..."} naming the problem ------------------------------------


def binary_tensor(size: int, datatype: str = "FP32", rows: int = 1) -> dict:
    return {"name": "input", "shape": [rows, WIDTH], "datatype": datatype, "parameters": {"binary_data_size": size}}


ONE_ROW = np.array(ROWS[:1], dtype=np.float32)
# JSON has no NaN, but Python's and pydantic's parsers read the literal.
NAN_ROW = b'{"inputs": [{"name": "input", "shape": [1, %d], "datatype": "FP32", "data": [NaN%s]}]}' % (
    WIDTH,
    b", 1" * (WIDTH - 1),
)

BAD_JSON = [
    (b'{"inputs": [', "request JSON is not valid"),
    (b"[]", "Input should be an object"),
    ({"inputs": []}, "inputs: List should have at least 1 item"),
    ({"inputs": [input_tensor()], "extra": 1}, "extra: Extra inputs are not permitted"),
    ({"inputs": [input_tensor(datatype="FLOAT")]}, "inputs[0].datatype: Input should be"),
    ({"inputs": [input_tensor(datatype="BYTES")]}, "input 'input': datatype BYTES is not accepted"),
    ({"inputs": [input_tensor(datatype="BOOL")]}, "input 'input': datatype BOOL is not accepted"),
    ({"inputs": [input_tensor([["a"] * WIDTH])]}, "input 'input': element 0 ('a') is not a FP32 value"),
    ({"inputs": [input_tensor([[True] * WIDTH])]}, "input 'input': element 0 (True) is not a FP32 value"),
    ({"inputs": [input_tensor([[1.5] * WIDTH], "INT64")]}, "input 'input': element 0 (1.5) is not a INT64 value"),
    ({"inputs": [input_tensor([[2**40] * WIDTH], "INT32")]}, "input 'input': an element is outside INT32's range"),
    ({"inputs": [input_tensor([[1e39] * WIDTH], "FP64")]}, "input 'input': an element is outside float32's range"),
    (NAN_ROW, "input 'input': element 0 is NaN or infinite"),
    ({"inputs": [input_tensor(shape=[len(ROWS), WIDTH + 1])]}, f"shape [{len(ROWS)}, {WIDTH + 1}] does not fit"),
    ({"inputs": [input_tensor(shape=[len(ROWS) * WIDTH])]}, "does not fit the model's"),
    ({"inputs": [input_tensor(shape=[len(ROWS) + 1, WIDTH])]}, f"{len(ROWS) * WIDTH} elements in data, shape"),
    ({"inputs": [input_tensor([], shape=[0, WIDTH])]}, f"input 'input': the batch is empty (shape [0, {WIDTH}])"),
    ({"inputs": [input_tensor(shape=[-1, WIDTH])]}, "inputs[0].shape[0]: Input should be greater than or equal to 0"),
    ({"inputs": [input_tensor(name="features")]}, "unknown input 'features'; the model takes ['input']"),
    ({"inputs": [input_tensor(), input_tensor()]}, "input 'input' is given twice"),
    ({"inputs": [input_tensor(data=None)]}, "input 'input': no data"),
    ({"inputs": [input_tensor()], "outputs": [{"name": "nope"}]}, "unknown output 'nope'"),
    ({"inputs": [input_tensor()], "parameters": {"binary_data_output": "yes"}}, "binary_data_output must be true"),
    ({"inputs": [input_tensor(parameters={"binary_data_size": 16})]}, "give data or binary_data_size, not both"),
    ({"inputs": [input_tensor(parameters={"binary_data_size": -1}, data=None)]}, "binary_data_size must be a byte"),
    ({"inputs": [{**input_tensor(), "parameters": {"x": [1]}}]}, "inputs[0].parameters.x"),
]


@pytest.mark.parametrize(("body", "message"), BAD_JSON, ids=[message[:40] for _, message in BAD_JSON])
def test_bad_json_request_is_400_naming_the_problem(client, infer_path, body, message):
    data = body if isinstance(body, bytes) else json.dumps(body)
    response = client.post(infer_path, data=data, content_type="application/json")
    assert message in v2_error(response, 400)


@pytest.mark.parametrize(
    ("tensors", "arrays", "length", "message"),
    [
        ([binary_tensor(ONE_ROW.nbytes - 4)], [ONE_ROW], None, f"but {WIDTH} FP32 elements take {ONE_ROW.nbytes}"),
        ([binary_tensor(ONE_ROW.nbytes)], [ONE_ROW[:, :-1]], None, "runs past the end of the body"),
        ([binary_tensor(ONE_ROW.nbytes)], [ONE_ROW, ONE_ROW], None, f"{ONE_ROW.nbytes} bytes of binary data belong"),
        ([binary_tensor(ONE_ROW.nbytes)], [ONE_ROW], "12x", "Inference-Header-Content-Length: '12x'"),
        ([binary_tensor(ONE_ROW.nbytes)], [ONE_ROW], "99999", "not a byte count within the body"),
        ([binary_tensor(ONE_ROW.nbytes)], [ONE_ROW.astype(np.float64)], None, "belong to no input"),
        ([binary_tensor(ONE_ROW.nbytes)], [np.full_like(ONE_ROW, np.nan)], None, "element 0 is NaN or infinite"),
        ([binary_tensor(4 * WIDTH, "BYTES")], [ONE_ROW], None, "datatype BYTES is not accepted"),
    ],
)
def test_bad_binary_request_is_400_naming_the_problem(client, infer_path, tensors, arrays, length, message):
    data, headers = binary_body({"inputs": tensors}, *arrays)
    if length is not None:
        headers[HEADER] = length
    assert message in v2_error(client.post(infer_path, data=data, headers=headers), 400)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Content-Type": "text/plain"}, "Content-Type must be application/json"),
        ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, "Content-Encoding 'gzip' is not supported"),
    ],
)
def test_unsupported_body_encoding_is_415(client, infer_path, headers, message):
    response = client.post(infer_path, data=json.dumps({"inputs": [input_tensor()]}), headers=headers)
    assert message in v2_error(response, 415)


def test_batch_and_body_limits_are_413(v2_model):
    path = f"/v2/models/{v2_model['name']}/infer"
    response = make_client(max_batch_size=2).post(path, json={"inputs": [input_tensor([ROWS[0]] * 3)]})
    assert v2_error(response, 413) == "input 'input': batch of 3 exceeds the maximum of 2"
    response = make_client(max_body_bytes=1024).post(path, json={"inputs": [input_tensor([ROWS[0]] * 100)]})
    assert "1024 bytes" in v2_error(response, 413)


def test_no_finite_prediction_is_422(v2_model):
    client = client_serving(NotFinite)
    response = client.post(f"/v2/models/{v2_model['name']}/infer", json={"inputs": [input_tensor(ROWS[:2])]})
    assert v2_error(response, 422).startswith("row 1: ")


def test_wrong_method_and_unknown_route_use_the_v2_shape(client, infer_path):
    assert "method not allowed" in v2_error(client.get(infer_path), 405)
    assert "no such route" in v2_error(client.get("/v2/nope"), 404)


def test_api_key_guards_inference_not_health(v2_model):
    client = make_client(api_key="s3cret")
    assert client.get("/v2/health/ready").status_code == 200
    path = f"/v2/models/{v2_model['name']}/infer"
    assert "API key" in v2_error(client.post(path, json={"inputs": [input_tensor()]}), 401)
    response = client.post(path, json={"inputs": [input_tensor()]}, headers={"Authorization": "Bearer s3cret"})
    assert response.status_code == 200


def test_real_v2_responses_match_the_document(client, v2_model, infer_path):
    document = client.get("/openapi.json").get_json()
    templated = "/v2/models/{name}/infer"
    rows = np.array(ROWS, dtype=np.float32)
    data, headers = binary_infer(rows, parameters={"binary_data_output": True})
    for response in (
        client.post(infer_path, json={"inputs": [input_tensor()]}),
        client.post(infer_path, data=data, headers=headers),
        client.post(infer_path, json={"inputs": [input_tensor(name="x")]}),
        client.post("/v2/models/nope/infer", json={}),
    ):
        assert_documented(document, "POST", templated, response)
    assert_documented(document, "GET", "/v2/models/{name}", client.get(f"/v2/models/{v2_model['name']}"))
    for path in ("/v2", "/v2/health/live", "/v2/health/ready"):
        assert_documented(document, "GET", path, client.get(path))
    # A 405 is documented on the route's other methods.
    assert_documented(document, "GET", "/v2/health/live", client.post("/v2/health/live"))
