"""The Open Inference Protocol (KServe V2) request and response shapes, as pydantic models.

They validate the JSON of ``POST /v2/models/{name}/infer`` and are the
schemas of the V2 routes in ``/openapi.json`` (service/web/openapi.py), like
service/api/schemas.py for the native API.  Field meanings follow the protocol's REST specification
(kserve/open-inference-protocol, ``specification/protocol/inference_rest.md``);
the ``binary_data*`` parameters are Triton's binary tensor data extension.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from service.web.serving import Tensor

Datatype = Literal[
    "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"
]
Parameters = dict[str, StrictBool | StrictInt | StrictFloat | StrictStr]
Dimension = Annotated[int, Field(strict=True, ge=0)]


class V2InferInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="One of the model's inputs (GET /v2/models/{name}).")
    shape: list[Dimension] = Field(description="The whole batch's shape, e.g. [2, 4] for two rows of four features.")
    datatype: Datatype = Field(description="Element type of `data`; numbers are cast to the model's input type.")
    parameters: Parameters | None = Field(
        None, description="`binary_data_size`: the tensor's byte count in the binary part of the body."
    )
    data: list[Any] | None = Field(
        None,
        description="The elements in row-major order, nested like the shape or flat; "
        "left out when they travel in binary (binary_data_size).",
    )


class V2RequestedOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="One of the model's outputs.")
    parameters: Parameters | None = Field(None, description="`binary_data`: true to get this output in binary.")


class V2InferRequest(BaseModel):
    """An inference request; binary tensor data, when used, follows this JSON in the body."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, description="Echoed in the response.")
    parameters: Parameters | None = Field(None, description="`binary_data_output`: true to get every output in binary.")
    inputs: list[V2InferInput] = Field(min_length=1, description="Every input of the model, once.")
    outputs: list[V2RequestedOutput] | None = Field(None, description="The outputs to return (all by default).")


class V2OutputTensor(BaseModel):
    name: str
    datatype: str
    shape: list[int]
    parameters: Parameters | None = Field(None, description="`binary_data_size` when the data is in binary.")
    data: list[float] | None = Field(None, description="Row-major, flat; absent when sent in binary.")


class V2InferResponse(BaseModel):
    model_name: str
    model_version: str
    id: str = Field(description="The request's `id`, or else its X-Request-ID.")
    outputs: list[V2OutputTensor]


class V2ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class V2ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str = Field(description="<project>_<format>, e.g. onnx_onnxv1.")
    inputs: list[Tensor]
    outputs: list[Tensor]


class V2Live(BaseModel):
    live: bool


class V2Ready(BaseModel):
    ready: bool


class V2ModelReady(BaseModel):
    name: str
    ready: bool


class V2ErrorResponse(BaseModel):
    """The protocol's error object: one message."""

    error: str = Field(description="What was wrong; an input or output is named by its name.")
