"""API documentation: ``GET /openapi.json`` and the interactive page ``GET /docs``.

The document is built once, when the app is created (``build_document``),
from every registered route's ``@operation`` (service/web/openapi.py) and
what only the served model knows: the width of an instance, the largest
batch, and the examples from ``model/example.json``.

The page is Swagger UI from the flask-swagger-ui package, whose wheel carries
Swagger UI's JavaScript and CSS: the image serves them itself, no CDN.
"""

import logging

import numpy as np
from flask import Blueprint, Flask, current_app, jsonify
from flask_swagger_ui import get_swaggerui_blueprint

from service.inference.contract import Column
from service.inference.example import ExampleError, read_example
from service.inference.predictions import to_predictions
from service.inference.state import ModelState
from service.project import DESCRIPTION, SERVICE_VERSION, TITLE
from service.settings import Settings
from service.web.openapi import build_openapi, operation

log = logging.getLogger("service")

blueprint = Blueprint("docs", __name__)
# Swagger UI at /docs/, rendering the document below.
swagger_ui = get_swaggerui_blueprint(
    "/docs", "/openapi.json", config={"app_name": TITLE, "layout": "BaseLayout", "deepLinking": False}
)


@blueprint.get("/openapi.json")
@operation("This document", {200: ("OpenAPI 3.1 document.", {"application/json": {"schema": {"type": "object"}}})})
def openapi_document():
    return jsonify(current_app.extensions["openapi"])


def build_document(app: Flask, settings: Settings, state: ModelState) -> dict:
    """The OpenAPI document of ``app``, with the served model's width, limits and examples."""
    metadata = state.model.metadata if state.ready else None
    info = {"title": TITLE, "description": DESCRIPTION, "version": SERVICE_VERSION}
    # The V2 paths name the model: only the served one's name and version exist.
    path_values = {"name": [metadata.name], "version": [metadata.version]} if metadata else {}
    document = build_openapi(app, info, bool(settings.api_key), path_values)
    components = document["components"]["schemas"]
    if metadata is not None and metadata.tabular:
        # Rows of several types come as objects of the named columns: document those, not lists of numbers.
        components["PredictRequest"]["properties"] = rows_schema(metadata.columns)
    limit_request(
        components["PredictRequest"],
        metadata.n_features if metadata and not metadata.tabular else None,
        settings.max_batch_size,
    )
    try:
        example = read_example(settings.model_path)
    except ExampleError as error:
        log.warning("no examples in the API document: %s", error)
        return document
    components["PredictRequest"]["examples"] = [example.request(2), {"instance": example.instances[0]}]
    if metadata is not None:
        predictions = to_predictions(np.asarray(example.outputs[:2]), metadata.labels)
        components["PredictResponse"]["examples"] = [
            {"predictions": predictions, "model": {"name": metadata.name, "version": metadata.version}}
        ]
    return document


def limit_request(request: dict, n_features: int | None, max_batch_size: int) -> None:
    # The served model fixes the width of an instance and the settings the
    # largest batch: state them, so clients (and fuzzers) know what is valid.
    properties = request["properties"]
    properties["instances"]["maxItems"] = max_batch_size
    if n_features is not None:
        for instance in (properties["instance"], properties["instances"]["items"]):
            instance["minItems"] = instance["maxItems"] = n_features


def rows_schema(columns: tuple[Column, ...]) -> dict:
    """The ``instances`` and ``instance`` properties for rows as objects of these columns."""
    properties = {}
    for column in columns:
        # The column types are JSON Schema's own type names.
        schema: dict = {"type": [column.type, "null"] if column.nullable else column.type}
        if column.enum is not None:
            schema["enum"] = [*column.enum, *([None] if column.nullable else [])]
        if column.minimum is not None:
            schema["minimum"] = column.minimum
        if column.maximum is not None:
            schema["maximum"] = column.maximum
        properties[column.name] = schema
    row = {
        "type": "object",
        "properties": properties,
        "required": [column.name for column in columns],
        "additionalProperties": False,
    }
    if len(columns) == 1 and columns[0].type == "string":  # a text model takes the string alone too
        row = {"anyOf": [{"type": "string"}, row]}
    return {
        "instances": {"type": "array", "items": row, "minItems": 1, "description": "A batch: one object per instance."},
        "instance": {**row, "description": "A single instance: its columns by name."},
    }
