"""V2 inference of a table of several types: one input per column (the ``pd`` content type), JSON and binary.

Collected when the served model takes such a table (conftest.py).  Binary
bodies are built here as the protocol's binary extension lays them out: a
BYTES element as its 4-byte little-endian length then its bytes, numbers
little-endian, a BOOL one byte.
"""

import base64

import numpy as np
import pytest

from support.model import EXAMPLE, METADATA, named, v2_inputs
from support.v2 import assert_example_outputs, binary_body, v2_error

ROWS = EXAMPLE.instances
COLUMNS = METADATA.columns
STRING = next((column for column in COLUMNS if column.type == "string"), None)
NUMBER = next((column for column in COLUMNS if column.type in ("number", "integer")), None)
REQUIRED = next((column for column in COLUMNS if not column.nullable), None)


@pytest.fixture
def infer_path(client):
    return f"/v2/models/{client.get('/metadata').get_json()['name']}/infer"


def with_input(name: str, **fields) -> list[dict]:
    """The example's inputs with one changed."""
    return [tensor | fields if tensor["name"] == name else tensor for tensor in v2_inputs(ROWS)]


def as_binary(tensor: dict) -> tuple[dict, bytes]:
    """One column input sent in the binary extension, and its bytes."""
    values = tensor["data"]
    if tensor["datatype"] == "BYTES":
        encoded = [value.encode() for value in values]
        raw = b"".join(len(value).to_bytes(4, "little") + value for value in encoded)
    elif tensor["datatype"] == "BOOL":
        raw = np.array(values, dtype=np.uint8).tobytes()
    else:  # every number as FP64, a missing one as NaN
        tensor = tensor | {"datatype": "FP64"}
        raw = np.array([np.nan if value is None else value for value in values], dtype="<f8").tobytes()
    header = {key: value for key, value in tensor.items() if key != "data"}
    return header | {"parameters": {"binary_data_size": len(raw)}}, raw


def test_metadata_lists_one_input_per_column(client):
    name = client.get("/metadata").get_json()["name"]
    inputs = client.get(f"/v2/models/{name}").get_json()["inputs"]
    assert [(tensor["name"], tensor["shape"]) for tensor in inputs] == [(column.name, [-1]) for column in COLUMNS]
    assert [tensor["datatype"] for tensor in inputs] == [column.v2_datatype for column in COLUMNS]


@pytest.mark.parametrize("column_shape", ["[n]", "[n, 1]"])
def test_columns_in_any_order_and_either_shape_give_the_example_outputs(client, infer_path, column_shape):
    inputs = v2_inputs(ROWS)[::-1]  # by name, not by position
    if column_shape == "[n, 1]":  # MLServer's pandas codec sends this one
        inputs = [
            tensor | {"shape": [len(ROWS), 1], "data": [[value] for value in tensor["data"]]} for tensor in inputs
        ]
    for request in ({"inputs": inputs}, {"inputs": inputs, "parameters": {"content_type": "pd"}}):
        response = client.post(infer_path, json=request)
        assert response.status_code == 200, response.get_json()
        assert_example_outputs(response.get_json()["outputs"][0], response.get_json()["outputs"][0]["data"])


def test_binary_columns_give_the_same_outputs(client, infer_path):
    """Every column without a null string travels in binary; the others stay JSON, in one request."""
    tensors, raws = [], []
    for tensor in v2_inputs(ROWS):
        if tensor["datatype"] == "BYTES" and None in tensor["data"]:
            tensors.append(tensor)
            continue
        header, raw = as_binary(tensor)
        tensors.append(header)
        raws.append(raw)
    data, headers = binary_body({"inputs": tensors}, *raws)
    response = client.post(infer_path, data=data, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_example_outputs(response.get_json()["outputs"][0], response.get_json()["outputs"][0]["data"])


@pytest.mark.skipif(STRING is None, reason="the model has no string column")
def test_strings_as_base64(client, infer_path):
    values = [named(row)[STRING.name] for row in ROWS]
    encoded = [None if value is None else base64.b64encode(value.encode()).decode() for value in values]
    inputs = with_input(STRING.name, data=encoded, parameters={"content_type": "base64"})
    response = client.post(infer_path, json={"inputs": inputs})
    assert response.status_code == 200, response.get_json()
    assert_example_outputs(response.get_json()["outputs"][0], response.get_json()["outputs"][0]["data"])


def bad_requests() -> list:
    """(inputs, message) for what a table's columns refuse, built from the model's own columns."""
    first = COLUMNS[0].name
    inputs = v2_inputs(ROWS)
    cases = [
        ([*inputs, inputs[0] | {"name": "colour"}], "unknown input 'colour'; the model takes one input per column"),
        ([*inputs, inputs[0]], f"input {first!r} is given twice"),
        (with_input(first, shape=[len(ROWS), 2]), f"input {first!r}: shape [{len(ROWS)}, 2] is not a column"),
        (with_input(first, data=None), f"input {first!r}: no data"),
    ]
    if len(COLUMNS) > 1:  # a column left out, or shorter than the others
        cases += [
            (inputs[1:], f"missing input {first!r}: the model takes one input per column"),
            (with_input(first, shape=[len(ROWS) - 1], data=inputs[0]["data"][1:]), "of one length"),
        ]
    if STRING is not None:
        name = STRING.name
        cases += [
            (with_input(name, datatype="FP32"), f"input {name!r}: datatype FP32 is not accepted for a string column"),
            (with_input(name, data=[7] * len(ROWS)), f"input {name!r}: element 0 (7) is not a BYTES value"),
            (with_input(name, parameters={"content_type": "pickle"}), "content_type 'pickle' is not one of"),
            (
                with_input(name, data=["%%%"] * len(ROWS), parameters={"content_type": "base64"}),
                f"input {name!r}: element 0 is not valid base64",
            ),
        ]
        if STRING.enum is not None:
            cases.append((with_input(name, data=["Atlantis"] * len(ROWS)), "'Atlantis' is not one of"))
    if NUMBER is not None:
        name = NUMBER.name
        cases += [
            (with_input(name, datatype="BYTES"), f"input {name!r}: datatype BYTES is not accepted for a"),
            (with_input(name, data=["1"] * len(ROWS)), f"input {name!r}: element 0 ('1') is not a"),
        ]
    if REQUIRED is not None:
        cases.append((with_input(REQUIRED.name, data=[None] * len(ROWS)), "element 0: null is not allowed"))
    return cases


BAD = bad_requests()


@pytest.mark.parametrize(("inputs", "message"), BAD, ids=[message[:40] for _, message in BAD])
def test_bad_columns_are_400_naming_the_input_and_the_rule(client, infer_path, inputs, message):
    response = client.post(infer_path, json={"inputs": inputs})
    assert message in v2_error(response, 400)


def test_a_request_content_type_other_than_pd_is_400(client, infer_path):
    response = client.post(infer_path, json={"inputs": v2_inputs(ROWS), "parameters": {"content_type": "np"}})
    assert "this model takes a table, one input per column ('pd')" in v2_error(response, 400)


@pytest.mark.skipif(STRING is None, reason="the model has no string column")
def test_bad_binary_strings_are_400(client, infer_path):
    header, _ = as_binary(next(t for t in v2_inputs(ROWS) if t["name"] == STRING.name))
    others = [tensor for tensor in v2_inputs(ROWS) if tensor["name"] != STRING.name]
    cases = {
        b"\x02\x00\x00\x00\xff\xfe" * len(ROWS): "element 0 is not UTF-8 text",
        b"\x09\x00\x00\x00abc": "element 0 runs past binary_data_size",
        b"\x01\x00": "element 0's 4-byte length is cut short",
    }
    for raw, message in cases.items():
        tensor = header | {"parameters": {"binary_data_size": len(raw)}}
        data, headers = binary_body({"inputs": [tensor, *others]}, raw)
        assert message in v2_error(client.post(infer_path, data=data, headers=headers), 400)
    raw = b"\x01\x00\x00\x00a" * (len(ROWS) + 1)
    data, headers = binary_body({"inputs": [header | {"parameters": {"binary_data_size": len(raw)}}, *others]}, raw)
    message = f"{len(ROWS) + 1} BYTES elements in binary, its shape needs {len(ROWS)}"
    assert message in v2_error(client.post(infer_path, data=data, headers=headers), 400)
