"""The Open Inference Protocol (KServe V2) beside /predict: health, metadata and inference under /v2.

What KServe, Triton and MLServer clients call (the protocol's REST
specification), with Triton's binary tensor data extension (tensors.py): a
model of numeric rows takes one FP32 input ``(n, n_features)``, a table of
several types one input per column (tables.py).
Errors are the protocol's ``{"error": "..."}`` (``error_shape``, registered
for PREFIX by service/app.py).  The same limits, metrics, logs, request IDs and
API key as the native API apply: both go through service/web/serving.py.
"""

import functools
import json

import numpy as np
from flask import Blueprint, Response, g, jsonify, request
from pydantic import ValidationError

from service.inference.contract import Model
from service.inference.predictions import to_predictions
from service.project import SERVICE_NAME, SERVICE_VERSION, V2_PLATFORM
from service.server import metrics
from service.v2 import schemas
from service.v2.tables import read_table
from service.v2.tensors import HEADER_LENGTH, output_tensor, read_input, split_body
from service.validation import one_line
from service.web import serving
from service.web.bodies import check_content_type, read_body
from service.web.errors import ApiError
from service.web.openapi import operation

# Where the protocol's routes live.
PREFIX = "/v2"
blueprint = Blueprint("v2", __name__, url_prefix=PREFIX)
EXTENSIONS = ["binary_tensor_data"]
# Bodies a V2 client sends: JSON, or JSON and binary tensors (tritonclient sends no Content-Type).
BODY_TYPES = (None, "application/json", "application/octet-stream")
ERRORS = (400, 404, 413, 415, 422, 500, 503)
# The binary extension's bodies: the JSON (its length in HEADER_LENGTH), then the tensors' bytes.
BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
# Every V2 route documents its errors in the protocol's shape.
v2_operation = functools.partial(operation, error_model=schemas.V2ErrorResponse)


def error_shape(status: int, code: str, message: str, details: list[dict] | None) -> dict:
    """The protocol's error body: the message alone (the request ID is in the X-Request-ID header)."""
    return {"error": message}


def served_model(name: str, version: str | None) -> Model:
    """The model the path names: 404 for another name or version, 503 while it is not ready."""
    model = serving.ready_model()
    info = model.metadata
    if name != info.name:
        raise ApiError(404, "unknown_model", f"unknown model {name!r}; this server serves {info.name!r}")
    if version is not None and version != info.version:
        raise ApiError(404, "unknown_version", f"model {name!r} has no version {version!r}; it has {info.version!r}")
    return model


@blueprint.get("/health/live")
@v2_operation("V2 server live", {200: ("Live.", schemas.V2Live)}, public=True)
def live():
    return jsonify(live=True)


@blueprint.get("/health/ready")
@v2_operation(
    "V2 server ready: the model is loaded and answers and the server is not stopping, like /readyz",
    {200: ("Ready.", schemas.V2Ready), 503: ("Not ready.", schemas.V2Ready)},
    public=True,
)
def ready():
    ready = serving.readiness() is None
    return jsonify(ready=ready), 200 if ready else 503


# strict_slashes=False: the protocol's own OpenAPI file spells it /v2/, its prose /v2; one rule answers both.
@blueprint.get("", strict_slashes=False)
@v2_operation("V2 server metadata", {200: ("Server metadata.", schemas.V2ServerMetadata)})
def server_metadata():
    return jsonify(name=SERVICE_NAME, version=SERVICE_VERSION, extensions=EXTENSIONS)


@blueprint.get("/models/<name>", endpoint="model_metadata")
@blueprint.get("/models/<name>/versions/<version>", endpoint="model_version_metadata")
@v2_operation(
    "V2 model metadata: its input and output tensors",
    {200: ("Model metadata.", schemas.V2ModelMetadata)},
    errors=(404, 500, 503),
)
def model_metadata(name: str, version: str | None = None):
    served_model(name, version)
    document = serving.metadata_document()
    return jsonify(
        name=document["name"],
        versions=[document["version"]],
        # The protocol's platform name ("<project>_<format>") of this service's runtime.
        platform=V2_PLATFORM,
        inputs=document["inputs"],
        outputs=document["outputs"],
    )


@blueprint.get("/models/<name>/ready", endpoint="model_ready")
@blueprint.get("/models/<name>/versions/<version>/ready", endpoint="model_version_ready")
@v2_operation(
    "V2 model ready",
    {200: ("Ready.", schemas.V2ModelReady)},
    errors=(404, 500, 503),
)
def model_ready(name: str, version: str | None = None):
    served_model(name, version)
    return jsonify(name=name, ready=True)


@blueprint.post("/models/<name>/infer", endpoint="model_infer")
@blueprint.post("/models/<name>/versions/<version>/infer", endpoint="model_version_infer")
@v2_operation(
    "V2 inference; binary tensor data (Inference-Header-Content-Length) too",
    {
        200: (
            "The outputs; with binary outputs, the JSON is followed by their bytes.",
            [schemas.V2InferResponse, BINARY],
        )
    },
    errors=ERRORS,
    request=[schemas.V2InferRequest, BINARY],
    headers={
        HEADER_LENGTH: ("Binary extension: bytes of JSON before the binary tensors.", {"type": "integer", "minimum": 0})
    },
)
def infer(name: str, version: str | None = None):
    model = served_model(name, version)
    check_content_type(BODY_TYPES)
    header, binary = split_body(read_body(serving.settings().max_body_bytes), request.headers.get(HEADER_LENGTH))
    infer_request = parse_request(header)
    info = model.metadata
    if info.tabular:  # one input per column (tables.py)
        batch = read_table(infer_request, info.columns, binary)
    else:
        batch = read_batch(infer_request, info.inputs, binary)
    first = f"input {info.inputs[0].name!r}"
    if len(batch) == 0:  # as /predict: an adapter need not handle an empty batch
        raise ApiError(400, "empty_batch", f"{first}: the batch is empty (shape {list(batch.shape)})")
    serving.check_batch_size(len(batch), first)
    outputs = requested_outputs(infer_request, info.outputs)
    values = serving.predict(batch, item="row")
    metrics.count_predictions(to_predictions(values, info.labels))
    tensors, raws = [], []
    for spec, binary_output in outputs:
        # The contract's predict() gives one output: ``values`` is it.
        tensor, raw = output_tensor(spec, values, binary_output)
        tensors.append(tensor)
        raws.append(raw)
    answer = {
        "model_name": info.name,
        "model_version": info.version,
        "id": infer_request.id if infer_request.id is not None else g.request_id,
        "outputs": tensors,
    }
    if not any(binary_output for _, binary_output in outputs):
        return jsonify(answer)
    head = json.dumps(answer, separators=(",", ":")).encode()
    response = Response(head + b"".join(raws), content_type="application/octet-stream")
    response.headers[HEADER_LENGTH] = str(len(head))
    return response


def parse_request(header: bytes) -> schemas.V2InferRequest:
    try:
        return schemas.V2InferRequest.model_validate_json(header)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        if first["type"] == "json_invalid":
            raise ApiError(400, "malformed_json", f"request JSON is not valid: {first['msg']}") from None
        raise ApiError(400, "invalid_request", one_line(error)) from None


def read_batch(infer_request: schemas.V2InferRequest, specs, binary: memoryview) -> np.ndarray:
    """A numeric model's float32 batch from its one input (binary data consumed in order)."""
    by_name = {spec.name: spec for spec in specs}
    given: dict[str, np.ndarray] = {}
    offset = 0
    for tensor in infer_request.inputs:
        spec = by_name.get(tensor.name)
        if spec is None:
            raise ApiError(400, "unknown_input", f"unknown input {tensor.name!r}; the model takes {sorted(by_name)}")
        if tensor.name in given:
            raise ApiError(400, "duplicate_input", f"input {tensor.name!r} is given twice")
        given[tensor.name], offset = read_input(tensor, spec, binary, offset)
    if offset != len(binary):
        raise ApiError(400, "invalid_tensor", f"{len(binary) - offset} bytes of binary data belong to no input")
    # The contract's predict() takes one input, so every valid request gives exactly it
    # (at least one input, each known, none twice).
    (batch,) = given.values()
    return batch


def requested_outputs(infer_request: schemas.V2InferRequest, specs) -> list[tuple]:
    """(output spec, in binary?) for every output to return, in the request's order."""
    default = flag((infer_request.parameters or {}).get("binary_data_output", False), "binary_data_output")
    if infer_request.outputs is None:
        return [(spec, default) for spec in specs]
    by_name = {spec.name: spec for spec in specs}
    chosen = []
    for output in infer_request.outputs:
        spec = by_name.get(output.name)
        if spec is None:
            raise ApiError(400, "unknown_output", f"unknown output {output.name!r}; the model gives {sorted(by_name)}")
        chosen.append(
            (spec, flag((output.parameters or {}).get("binary_data", default), f"output {output.name!r}: binary_data"))
        )
    return chosen


def flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise ApiError(400, "invalid_request", f"parameter {name} must be true or false, got {value!r}")
    return value
