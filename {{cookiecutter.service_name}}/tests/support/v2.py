"""Helpers of the V2 tests: binary-extension bodies built with numpy (not the service's code), answers read."""

import json

import numpy as np

from support.model import EXAMPLE

HEADER = "Inference-Header-Content-Length"


def binary_body(request: dict, *arrays: np.ndarray | bytes) -> tuple[bytes, dict]:
    """A binary-extension body and its header: the JSON, then each array's little-endian bytes."""
    head = json.dumps(request).encode()
    raw = b"".join(array if isinstance(array, bytes) else array.tobytes() for array in arrays)
    return head + raw, {HEADER: str(len(head))}


def assert_example_outputs(output: dict, values, rows: int | None = None) -> None:
    """A V2 output holds the example's outputs (for its first ``rows`` instances)."""
    expected = np.array(EXAMPLE.outputs[:rows])
    assert output["shape"] == list(expected.shape)
    got = np.asarray(values, dtype=np.float64).reshape(output["shape"])
    np.testing.assert_allclose(got, expected, rtol=EXAMPLE.tolerance, atol=EXAMPLE.tolerance)


def v2_error(response, status: int) -> str:
    """The message of a V2 error response, after checking its status and the protocol's shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert list(body) == ["error"] and isinstance(body["error"], str), body
    return body["error"]


def read_binary_response(response) -> tuple[dict, bytes]:
    """A binary-extension answer: its JSON and the bytes after it."""
    assert response.status_code == 200, response.get_data()
    assert response.mimetype == "application/octet-stream"
    length = int(response.headers[HEADER])
    return json.loads(response.data[:length]), response.data[length:]
