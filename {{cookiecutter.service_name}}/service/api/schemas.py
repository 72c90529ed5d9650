{%- set classification = cookiecutter.task == "classification" -%}
"""Request validation and the response shapes of the API.

Validation is pydantic's, straight from the request bytes: strict numbers (no
strings, no booleans) within float32's range, no NaN or Infinity in any
spelling, no unknown fields, and errors that name the offending position,
e.g. ``instances[2][1]``.  The response models are not used to build
responses (plain dicts are cheaper); the OpenAPI document is generated from
them (openapi.py), and tests/test_openapi.py checks real responses against it.
"""

from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from service.web.errors import ApiError

# The largest finite float32: the model's input type.  Bounding the value here
# puts the range in the OpenAPI document too, and nothing overflows later.
FLOAT32_MAX = float(np.finfo(np.float32).max)
Feature = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-FLOAT32_MAX, le=FLOAT32_MAX)]
# pydantic would spell the bound out in 39 digits.
OUT_OF_RANGE = dict.fromkeys(
    ("less_than_equal", "greater_than_equal"), "Input should be within float32's range (±3.4e38)"
)


def _one_of_two_forms(schema: dict) -> None:
    # Both fields are optional but exactly one must be given: say so with
    # oneOf, and drop pydantic's "default": null, which is not a valid value.
    for field in schema["properties"].values():
        field.pop("default", None)
    schema["oneOf"] = [{"required": ["instances"]}, {"required": ["instance"]}]


class PredictRequest(BaseModel):
    """Either a batch (``instances``) or one instance (``instance``), not both."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_of_two_forms)

    instances: list[list[Feature]] = Field(
        default=None, min_length=1, description="A batch: one list of feature values per instance."
    )
    instance: list[Feature] = Field(default=None, description="A single instance's feature values.")

    @model_validator(mode="after")
    def exactly_one_form(self) -> "PredictRequest":
        if (self.instances is None) == (self.instance is None):
            raise ValueError("give exactly one of 'instances' (a batch) or 'instance' (one instance)")
        return self


class Prediction(BaseModel):
{%- if classification %}
    label: str = Field(description="The most probable class.")
    probabilities: dict[str, float] = Field(description="Probability of every class.")
{%- else %}
    value: float | list[float] = Field(
        description="The predicted value; one per target, as a list, when the model predicts several."
    )
{%- endif %}


class ModelInfo(BaseModel):
    name: str
    version: str


class PredictResponse(BaseModel):
    predictions: list[Prediction] = Field(description="One prediction per instance, in request order.")
    model: ModelInfo


class Tensor(BaseModel):
    name: str
    datatype: str = Field(description="KServe V2 datatype, e.g. FP32.")
    shape: list[int] = Field(description="-1 for a dimension of any size (the batch).")


class MetadataResponse(BaseModel):
    name: str
    version: str
    task: str
    platform: str = Field(description="What runs the model, e.g. {{ cookiecutter._frameworks[cookiecutter.model_framework].runtime }}.")
    sha256: str = Field(description="SHA-256 of the served model file.")
    feature_names: list[str] = Field(description="The input columns, in order.")
{%- if classification %}
    labels: list[str] = Field(description="The classes, in the order of the probabilities.")
{%- endif %}
    inputs: list[Tensor]
    outputs: list[Tensor]
    max_batch_size: int


class StatusResponse(BaseModel):
    status: str
    reason: str | None = None


class ErrorDetail(BaseModel):
    loc: str = Field(description="Where in the request, e.g. instances[2][1].")
    msg: str
    type: str


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable error code.")
    message: str = Field(description="What was wrong, for a human.")
    request_id: str | None = None
    details: list[ErrorDetail] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


def location(loc: tuple) -> str:
    """('instances', 2, 1) -> 'instances[2][1]'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def parse_predict_request(body: bytes, n_features: int, max_batch_size: int) -> np.ndarray:
    """Validate a /predict body and return it as a float32 (n, n_features) array."""
    try:
        request = PredictRequest.model_validate_json(body)
    except ValidationError as error:
        details = [
            {"loc": location(e["loc"]), "msg": OUT_OF_RANGE.get(e["type"], e["msg"]), "type": e["type"]}
            for e in error.errors(include_url=False, include_input=False, include_context=False)
        ]
        if details[0]["type"] == "json_invalid":
            raise ApiError(400, "malformed_json", f"request body is not valid JSON: {details[0]['msg']}") from None
        first = details[0]
        more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
        raise ApiError(400, "invalid_request", f"{first['loc']}: {first['msg']}{more}", details) from None

    rows = request.instances if request.instances is not None else [request.instance]
    prefix = "instances" if request.instances is not None else "instance"
    if len(rows) > max_batch_size:
        raise ApiError(
            413, "batch_too_large", f"instances: batch of {len(rows)} exceeds the maximum of {max_batch_size}"
        )
    for index, row in enumerate(rows):
        if len(row) != n_features:
            where = f"{prefix}[{index}]" if request.instances is not None else prefix
            raise ApiError(400, "wrong_feature_count", f"{where}: expected {n_features} features, got {len(row)}")
    # Every value is finite and within float32's range (Feature): no overflow.
    return np.asarray(rows, dtype=np.float32)
