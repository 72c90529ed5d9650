"""The Open Inference Protocol (KServe V2) of the generated service, spoken by a real V2 client.

tritonclient (Triton's HTTP client, the usual V2 client) calls the default
(classification) and the regression bakes under a real gunicorn, in JSON and
in binary mode, and must get the outputs of each model's example file;
schemathesis fuzzes the V2 routes of the document; the V2 bad-request
catalogue (support/bad_v2_requests.py) gets its 4xx without reaching the model.
"""

import json

import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from support.bad_v2_requests import CATALOGUE, MODEL
from support.baking import bake_ok
from support.fuzzing import schemathesis
from support.service import Gunicorn, assert_no_leak, leak_patterns, predictions_total, send_raw

V2_ROUTES = {"/v2", "/v2/health/live", "/v2/health/ready"}


@pytest.fixture(scope="module", params=["classification", "regression"])
def v2_server(request, service_venv, cookies_session, tmp_path_factory):
    """A bake of each task under gunicorn (2 workers), with its model's example."""
    project, python = service_venv
    if request.param != "classification":
        # The tasks' bakes pin the same packages (checked here), so one venv serves both.
        other = bake_ok(cookies_session, task=request.param)
        for name in ("requirements-serve.txt", "requirements-dev.txt"):
            assert (other / name).read_text() == (project / name).read_text(), name
        project = other
    with Gunicorn(project, python, tmp_path_factory.mktemp(f"v2-{request.param}")) as server:
        server.wait_ready()
        server.example = json.loads((project / "model" / "example.json").read_text())
        server.metadata = json.loads((project / "model" / "metadata.json").read_text())
        yield server
        code, _ = server.terminate()
        assert code == 0, server.output()[-3000:]


@pytest.fixture
def client(v2_server):
    with triton.InferenceServerClient(f"127.0.0.1:{v2_server.port}", network_timeout=30) as client:
        yield client


def test_health_and_metadata_as_the_protocol_says(v2_server, client):
    name, version = v2_server.metadata["name"], v2_server.metadata["version"]
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready(name) and client.is_model_ready(name, version)
    assert not client.is_model_ready("no-such-model")
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    metadata = client.get_model_metadata(name)
    assert metadata == client.get_model_metadata(name, version)
    assert (metadata["name"], metadata["versions"], metadata["platform"]) == (name, [version], "onnx_onnxv1")
    width = len(v2_server.example["instances"][0])
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, width]}]
    (output,) = metadata["outputs"]
    outputs = np.array(v2_server.example["outputs"], dtype=np.float64).reshape(len(v2_server.example["instances"]), -1)
    assert output["shape"] == [-1, outputs.shape[1]]


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
@pytest.mark.parametrize("datatype", ["FP32", "FP64"])
def test_real_v2_client_gets_the_example_outputs(v2_server, client, binary, datatype):
    example, name = v2_server.example, v2_server.metadata["name"]
    rows = np.array(example["instances"], dtype=np.float32 if datatype == "FP32" else np.float64)
    tensor = triton.InferInput("input", list(rows.shape), datatype)
    tensor.set_data_from_numpy(rows, binary_data=binary)
    output_name = client.get_model_metadata(name)["outputs"][0]["name"]
    result = client.infer(
        name,
        [tensor],
        model_version=v2_server.metadata["version"],
        outputs=[triton.InferRequestedOutput(output_name, binary_data=binary)],
        request_id=f"v2-{datatype}",
    )
    expected = np.array(example["outputs"], dtype=np.float64).reshape(len(rows), -1)
    tolerance = example["tolerance"]
    np.testing.assert_allclose(result.as_numpy(output_name), expected, rtol=tolerance, atol=tolerance)
    response = result.get_response()
    assert (response["model_name"], response["id"]) == (name, f"v2-{datatype}")
    assert ("parameters" in response["outputs"][0]) == binary  # binary_data_size: the data came in binary


def test_client_defaults_binary_outputs_and_every_output(v2_server, client):
    # With no outputs named, tritonclient asks for all of them in binary (binary_data_output).
    rows = np.array(v2_server.example["instances"][:1], dtype=np.float32)
    tensor = triton.InferInput("input", list(rows.shape), "FP32")
    tensor.set_data_from_numpy(rows)
    result = client.infer(v2_server.metadata["name"], [tensor])
    (output,) = result.get_response()["outputs"]
    assert output["parameters"]["binary_data_size"] == 4 * len(v2_server.example["outputs"][0])
    assert result.as_numpy(output["name"]).shape == (1, output["parameters"]["binary_data_size"] // 4)


@pytest.mark.parametrize(
    ("model", "shape", "status", "message"),
    [
        ("no-such-model", None, "404", "unknown model 'no-such-model'"),
        (None, [1, 99], "400", "shape [1, 99] does not fit"),
    ],
)
def test_client_sees_the_protocols_errors(v2_server, client, model, shape, status, message):
    width = len(v2_server.example["instances"][0])
    shape = shape or [1, width]
    tensor = triton.InferInput("input", shape, "FP32")
    tensor.set_data_from_numpy(np.ones(shape, dtype=np.float32))
    with pytest.raises(InferenceServerException) as raised:
        client.infer(model or v2_server.metadata["name"], [tensor])
    assert raised.value.status() == status
    assert message in raised.value.message()


# --- schemathesis over the V2 routes -----------------------------------------------------

# Schema-valid V2 requests may still be refused: data not matching the shape, an
# input the model does not have (400), a batch too large (413), no finite answer (422).
SCHEMATHESIS_CONFIG = """\
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "413", "422"]
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "404", "405", "413", "415", "422"]
"""


def test_schemathesis_over_the_v2_routes_finds_no_server_error(v2_server, tmp_path):
    statuses, routes = schemathesis(
        v2_server,
        tmp_path,
        SCHEMATHESIS_CONFIG,
        "--include-path-regex",
        "^/v2",
        "--max-examples",
        "150",
        "--seed",
        "20261129",
    )
    print(f"\nschemathesis V2: {statuses.total()} requests, statuses {dict(statuses)}, routes {len(routes)}")
    assert statuses.total() >= 500
    assert set(routes) >= V2_ROUTES and any(route.endswith("/infer") for route in routes), routes
    assert statuses[200] > 0
    assert not [status for status in statuses if status >= 500], statuses


# --- the V2 bad-request catalogue ---------------------------------------------------------


@pytest.fixture(scope="module")
def default_server(service_venv, tmp_path_factory):
    project, python = service_venv
    with Gunicorn(project, python, tmp_path_factory.mktemp("v2-catalogue")) as server:
        server.wait_ready()
        server.leaks = leak_patterns(project, python)
        yield server


@pytest.mark.parametrize("bad", CATALOGUE, ids=lambda bad: bad.id)
def test_bad_v2_request_gets_its_4xx_naming_the_problem_and_never_reaches_the_model(default_server, bad):
    before = predictions_total(default_server.port)
    answer = send_raw(default_server.port, bad.data, method=bad.method)
    assert answer.status == bad.status, answer
    assert answer.headers.get_content_type() == "application/json", answer
    assert list(answer.json) == ["error"] and bad.message in answer.json["error"], answer
    assert answer.headers["X-Request-ID"], answer
    assert_no_leak(answer, default_server.leaks)
    assert predictions_total(default_server.port) == before, "a bad request reached the model"


def test_the_v2_catalogue_crashed_nothing(default_server):
    output = default_server.output()
    assert "Traceback" not in output and "unhandled error" not in output, output[-5000:]


def test_catalogue_model_is_the_default_bakes(service_venv):
    project, _ = service_venv
    assert json.loads((project / "model" / "metadata.json").read_text())["name"] == MODEL
