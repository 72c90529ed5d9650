"""A catalogue of bad Open Inference Protocol (V2) requests for the default bake, as raw bytes.

The V2 sibling of bad_requests.py: each is sent on its own connection to a
real gunicorn (test_v2_protocol.py) and must get ``status`` with the
protocol's ``{"error": "..."}`` holding ``message``.  None may reach the model.
"""

import json
from dataclasses import dataclass

from support.service import request_bytes

# The default bake's model (train.py's metadata.json) and its one input.
MODEL = "iris-logistic-regression"
INFER = f"/v2/models/{MODEL}/infer"
SETOSA = [5.1, 3.5, 1.4, 0.2]
HEADER = "Inference-Header-Content-Length"


@dataclass(frozen=True)
class BadV2:
    id: str
    data: bytes
    status: int
    message: str
    method: str = "POST"


def tensor(**fields) -> dict:
    return {"name": "input", "shape": [1, 4], "datatype": "FP32", "data": SETOSA, **fields}


def infer(body, headers=(), content_type: str | None = "application/json", path: str = INFER) -> bytes:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return request_bytes("POST", path, data, content_type, headers)


def binary(head: dict, payload: bytes, length: str | None = None) -> bytes:
    """A binary-extension request: the JSON, then ``payload``; ``length`` overrides the header's value."""
    text = json.dumps(head).encode()
    return infer(text + payload, headers=[(HEADER, length or str(len(text)))], content_type=None)


ROW_BYTES = b"\x00\x00\x80\x3f" * 4  # four float32 1.0, little-endian
BINARY_INPUT = {"name": "input", "shape": [1, 4], "datatype": "FP32", "parameters": {"binary_data_size": 16}}

CATALOGUE = [
    BadV2("malformed-json", infer(b'{"inputs": [{"name": "input",, }]}'), 400, "request JSON is not valid"),
    BadV2("empty-body", infer(b""), 400, "request JSON is not valid"),
    BadV2("json-array", infer(b"[]"), 400, "body: Input should be an object"),
    BadV2("no-inputs", infer({"inputs": []}), 400, "inputs: List should have at least 1 item"),
    BadV2("extra-field", infer({"inputs": [tensor()], "debug": True}), 400, "debug: Extra inputs are not permitted"),
    BadV2("unknown-datatype", infer({"inputs": [tensor(datatype="FLOAT32")]}), 400, "inputs[0].datatype: Input should be"),
    BadV2("bytes-for-numbers", infer({"inputs": [tensor(datatype="BYTES", data=["a"] * 4)]}), 400, "input 'input': datatype BYTES is not accepted"),
    BadV2("string-element", infer({"inputs": [tensor(data=[5.1, "3.5", 1.4, 0.2])]}), 400, "input 'input': element 1 ('3.5') is not a FP32 value"),
    BadV2("bool-element", infer({"inputs": [tensor(data=[True, 3.5, 1.4, 0.2])]}), 400, "element 0 (True) is not a FP32 value"),
    BadV2("float-as-int64", infer({"inputs": [tensor(datatype="INT64")]}), 400, "element 0 (5.1) is not a INT64 value"),
    BadV2("int32-overflow", infer({"inputs": [tensor(datatype="INT32", data=[2**31, 1, 1, 1])]}), 400, "outside INT32's range"),
    BadV2("nan", infer(b'{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [NaN, 1, 1, 1]}]}'), 400, "element 0 is NaN or infinite"),
    BadV2("float32-overflow", infer({"inputs": [tensor(datatype="FP64", data=[1e39, 1, 1, 1])]}), 400, "outside float32's range"),
    BadV2("wrong-width", infer({"inputs": [tensor(shape=[1, 5], data=[*SETOSA, 1])]}), 400, "shape [1, 5] does not fit the model's [-1, 4]"),
    BadV2("wrong-rank", infer({"inputs": [tensor(shape=[4])]}), 400, "shape [4] does not fit"),
    BadV2("count-mismatch", infer({"inputs": [tensor(shape=[2, 4])]}), 400, "4 elements in data, shape [2, 4] needs 8"),
    BadV2("empty-batch", infer({"inputs": [tensor(shape=[0, 4], data=[])]}), 400, "input 'input': the batch is empty (shape [0, 4])"),
    BadV2("negative-dimension", infer({"inputs": [tensor(shape=[-1, 4])]}), 400, "inputs[0].shape[0]: Input should be greater than or equal to 0"),
    BadV2("unknown-input", infer({"inputs": [tensor(name="features")]}), 400, "unknown input 'features'"),
    BadV2("duplicate-input", infer({"inputs": [tensor(), tensor()]}), 400, "input 'input' is given twice"),
    BadV2("no-data", infer({"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32"}]}), 400, "input 'input': no data"),
    BadV2("unknown-output", infer({"inputs": [tensor()], "outputs": [{"name": "scores"}]}), 400, "unknown output 'scores'"),
    BadV2("binary-flag-not-bool", infer({"inputs": [tensor()], "parameters": {"binary_data_output": 1}}), 400, "binary_data_output must be true or false"),
    BadV2("binary-size-wrong", binary({"inputs": [{**BINARY_INPUT, "parameters": {"binary_data_size": 12}}]}, ROW_BYTES[:12]), 400, "binary_data_size is 12 bytes, but 4 FP32 elements take 16"),
    BadV2("binary-short", binary({"inputs": [BINARY_INPUT]}, ROW_BYTES[:8]), 400, "runs past the end of the body"),
    BadV2("binary-extra-bytes", binary({"inputs": [BINARY_INPUT]}, ROW_BYTES * 2), 400, "16 bytes of binary data belong to no input"),
    BadV2("header-length-not-a-number", binary({"inputs": [BINARY_INPUT]}, ROW_BYTES, "x"), 400, "Inference-Header-Content-Length: 'x'"),
    BadV2("header-length-past-body", binary({"inputs": [BINARY_INPUT]}, ROW_BYTES, "100000"), 400, "not a byte count within the body"),
    BadV2("text-plain", infer({"inputs": [tensor()]}, content_type="text/plain"), 415, "Content-Type must be application/json"),
    BadV2("gzip", infer({"inputs": [tensor()]}, headers=[("Content-Encoding", "gzip")]), 415, "Content-Encoding 'gzip' is not supported"),
    BadV2("batch-too-large", infer({"inputs": [tensor(shape=[257, 4], data=[SETOSA] * 257)]}), 413, "batch of 257 exceeds the maximum of 256"),
    BadV2("body-too-large", infer(b'{"inputs": [' + b" " * 1_048_576 + b"]}"), 413, "request body exceeds the limit of 1048576 bytes"),
    BadV2("unknown-model", infer({"inputs": [tensor()]}, path="/v2/models/resnet/infer"), 404, "unknown model 'resnet'"),
    BadV2("unknown-version", infer({"inputs": [tensor()]}, path=f"/v2/models/{MODEL}/versions/9/infer"), 404, "has no version '9'"),
    BadV2("unknown-v2-route", request_bytes("GET", "/v2/repository/index", content_type=None), 404, "no such route", "GET"),
    BadV2("get-infer", request_bytes("GET", INFER, content_type=None), 405, "method not allowed", "GET"),
    BadV2("post-metadata", infer({}, path=f"/v2/models/{MODEL}"), 405, "method not allowed"),
]  # fmt: skip
