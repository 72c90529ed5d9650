{%- set classification = cookiecutter.task == "classification" -%}
"""Request validation and the response shapes of the API.

Validation is pydantic's, straight from the request bytes: strict numbers (no
strings, no booleans) within float32's range, no NaN or Infinity in any
spelling, no unknown fields, and errors that name the offending position,
e.g. ``instances[2][1]``.  The response models are not used to build
responses (plain dicts are cheaper); the OpenAPI document is generated from
them (service/web/openapi.py), and tests/test_openapi.py checks real responses
against it.  The error shape is service/web/errors.py's ``ErrorResponse``.
"""

import json
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, model_validator

from service.inference.columns import RowError, decode_rows
from service.inference.contract import FLOAT32_MAX, Column, ModelMetadata
from service.validation import one_line, problems
from service.web.errors import ApiError
from service.web.serving import Tensor

# Bounding each value to float32's range (the model's input type) puts the
# range in the OpenAPI document too, and nothing overflows later.
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


class OneOfTwoForms(BaseModel):
    """Either a batch (``instances``) or one instance (``instance``), not both."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_of_two_forms)

    @model_validator(mode="after")
    def exactly_one_form(self) -> "OneOfTwoForms":
        if (self.instances is None) == (self.instance is None):
            raise ValueError("give exactly one of 'instances' (a batch) or 'instance' (one instance)")
        return self


class PredictRequest(OneOfTwoForms):
    """Either a batch (``instances``) or one instance (``instance``), not both."""

    instances: list[list[Feature]] = Field(
        default=None, min_length=1, description="A batch: one list of feature values per instance."
    )
    instance: list[Feature] = Field(default=None, description="A single instance's feature values.")


# A row as an object of named columns; service/inference/columns.py checks each value against its column.
Row = dict[str, JsonValue]


class RowsRequest(OneOfTwoForms):
    """Rows as objects of the model's named columns, in any key order."""

    instances: list[Row] = Field(default=None, min_length=1, description="A batch: one object per instance.")
    instance: Row = Field(default=None, description="A single instance: its columns by name.")


class TextRequest(OneOfTwoForms):
    """For a model of one string column: each row the string alone, or an object of that column."""

    instances: list[JsonValue] = Field(
        default=None, min_length=1, description="A batch: one string (or object) per instance."
    )
    instance: JsonValue = Field(default=None, description="A single instance: the string (or an object).")


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


class MetadataResponse(BaseModel):
    name: str
    version: str
    task: str
    platform: str = Field(description="What runs the model, e.g. {{ cookiecutter._frameworks[cookiecutter.model_framework].runtime }}.")
    sha256: str = Field(description="SHA-256 of the served model file.")
    feature_names: list[str] = Field(description="The input columns, in order.")
    columns: list[Column] = Field(
        description="The input columns with their types: what a row sent as an object of them must hold."
    )
{%- if classification %}
    labels: list[str] = Field(description="The classes, in the order of the probabilities.")
{%- endif %}
    inputs: list[Tensor]
    outputs: list[Tensor]
    max_batch_size: int


class StatusResponse(BaseModel):
    status: str
    reason: str | None = None


def _parse(request: type[OneOfTwoForms], body: bytes, messages: dict[str, str] = OUT_OF_RANGE) -> OneOfTwoForms:
    try:
        return request.model_validate_json(body)
    except ValidationError as error:
        details = problems(error, messages)
        if details[0]["type"] == "json_invalid":
            raise ApiError(400, "malformed_json", f"request body is not valid JSON: {details[0]['msg']}") from None
        raise ApiError(400, "invalid_request", one_line(error, messages=messages), details) from None


def _rows_are_objects(error: ValidationError) -> bool:
    """Whether the rows failed as lists because they are objects (named columns)."""
    return any(
        problem["type"] == "list_type"
        and isinstance(problem["input"], dict)
        and problem["loc"][0] in ("instances", "instance")
        for problem in error.errors(include_url=False)
    )


def parse_predict_request(body: bytes, metadata: ModelMetadata) -> tuple[list, str]:
    """Validate a /predict body: its rows (lists of numbers, or objects of named columns), and their field."""
    if metadata.tabular:  # columns of several types: rows as objects only (or strings, for text)
        names = ", ".join(column.name for column in metadata.columns)
        request = _parse(
            TextRequest if metadata.text else RowsRequest,
            body,
            {"dict_type": f"Input should be an object of the model's columns ({names})"},
        )
    else:
        try:
            request = PredictRequest.model_validate_json(body)
        except ValidationError as error:
            # Rows of named numbers are welcome too; any other error is the positional form's.
            request = _parse(RowsRequest if _rows_are_objects(error) else PredictRequest, body)
    if request.instances is not None:
        return request.instances, "instances"
    return [request.instance], "instance"


def _text_rows(rows: list, field: str, name: str) -> list[dict]:
    """Rows of a text model as objects of its one column: a string alone is that column's value."""
    named = []
    for index, row in enumerate(rows):
        if isinstance(row, str):
            row = {name: row}
        elif not isinstance(row, dict):
            where = f"{field}[{index}]" if field == "instances" else field
            shown = json.dumps(row)[:40]
            raise ApiError(400, "invalid_row", f"{where}: {shown} is not a string (the {name!r} text) nor an object")
        named.append(row)
    return named


def as_batch(rows: list, field: str, metadata: ModelMetadata) -> np.ndarray:
    """The model's input: float32 rows of ``n_features`` numbers, or rows as objects decoded by its columns."""
    if metadata.text:
        rows = _text_rows(rows, field, metadata.columns[0].name)
    if isinstance(rows[0], dict):
        try:
            return decode_rows(rows, metadata.columns, field)
        except RowError as error:
            raise ApiError(400, "invalid_row", str(error)) from None
    n_features = metadata.n_features
    for index, row in enumerate(rows):
        if len(row) != n_features:
            where = f"{field}[{index}]" if field == "instances" else field
            raise ApiError(400, "wrong_feature_count", f"{where}: expected {n_features} features, got {len(row)}")
    # Every value is finite and within float32's range (Feature): no overflow.
    return np.asarray(rows, dtype=np.float32)
