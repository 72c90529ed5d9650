"""V2 inference of a model of rows of numbers: one FP32 input ``(n, n_features)``, in JSON and binary.

Binary bodies are built here as the protocol's binary extension lays them
out (JSON, then little-endian row-major bytes), with numpy, not with the
service's own code.
"""

import json

import numpy as np
import pytest

from support.model import EXAMPLE, METADATA, v2_inputs
from support.openapi import assert_documented
from support.v2 import HEADER, assert_example_outputs, binary_body, read_binary_response, v2_error

ROWS = v2_inputs(EXAMPLE.instances)[0]["data"]  # positional, whichever form the example uses
WIDTH = METADATA.n_features


@pytest.fixture
def infer_path(client):
    return f"/v2/models/{client.get('/metadata').get_json()['name']}/infer"


def input_tensor(rows=ROWS, datatype="FP32", **fields) -> dict:
    return {"name": "input", "shape": [len(rows), WIDTH], "datatype": datatype, "data": rows, **fields}


def binary_infer(rows: np.ndarray, datatype: str = "FP32", **request) -> tuple[bytes, dict]:
    """An infer request sending ``rows`` in binary, and its headers."""
    tensor = {"name": "input", "shape": list(rows.shape), "datatype": datatype}
    tensor["parameters"] = {"binary_data_size": rows.nbytes}
    return binary_body({"inputs": [tensor], **request}, rows)


@pytest.mark.parametrize("datatype", ["FP32", "FP64"])
def test_json_rows_in_either_float_type(client, infer_path, datatype):
    response = client.post(infer_path, json={"inputs": [input_tensor(datatype=datatype)]})
    assert response.status_code == 200, response.get_json()
    assert_example_outputs(response.get_json()["outputs"][0], response.get_json()["outputs"][0]["data"])


def test_flat_data(client, infer_path):
    flat = [value for row in ROWS for value in row]
    response = client.post(infer_path, json={"inputs": [input_tensor(data=flat)]})
    assert response.status_code == 200
    assert_example_outputs(response.get_json()["outputs"][0], response.get_json()["outputs"][0]["data"])


@pytest.mark.parametrize("datatype", ["INT32", "INT64"])
def test_integer_inputs_are_cast_to_float32(client, infer_path, datatype):
    rows = [[round(value) for value in row] for row in ROWS]
    expected = client.post(infer_path, json={"inputs": [input_tensor(rows, "FP32")]}).get_json()
    response = client.post(infer_path, json={"inputs": [input_tensor(rows, datatype)]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["outputs"] == expected["outputs"]


def test_binary_request_and_response(client, infer_path):
    rows = np.array(ROWS, dtype=np.float32)
    data, headers = binary_infer(rows, parameters={"binary_data_output": True})
    head, raw = read_binary_response(client.post(infer_path, data=data, headers=headers))
    (output,) = head["outputs"]
    assert "data" not in output and output["parameters"]["binary_data_size"] == len(raw)
    assert_example_outputs(output, np.frombuffer(raw, dtype="<f4"))


def test_binary_fp64_input_with_a_json_output(client, infer_path):
    rows = np.array(ROWS, dtype="<f8")
    data, headers = binary_infer(rows, "FP64")
    response = client.post(infer_path, data=data, headers={**headers, "Content-Type": "application/octet-stream"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    output = response.get_json()["outputs"][0]
    assert_example_outputs(output, output["data"])


# --- every error of the tensor: a 400 naming the problem --------------------------------------


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


def test_binary_responses_match_the_document(client, infer_path):
    document = client.get("/openapi.json").get_json()
    data, headers = binary_infer(np.array(ROWS, dtype=np.float32), parameters={"binary_data_output": True})
    assert_documented(document, "POST", "/v2/models/{name}/infer", client.post(infer_path, data=data, headers=headers))
