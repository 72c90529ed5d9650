"""The OpenAPI 3.1 document served at ``GET /openapi.json``.

Request and response schemas come from the pydantic models in schemas.py, so
the document cannot drift from the validation the service actually does.
"""

from pydantic.json_schema import models_json_schema

import schemas

JSON = "application/json"


def _json_content(ref: str) -> dict:
    return {"content": {JSON: {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _errors(*statuses: int) -> dict:
    descriptions = {
        400: "Malformed JSON or an invalid request; the message names the position.",
        401: "Missing or wrong API key (only when API_KEY is set).",
        404: "No such route.",
        405: "Method not allowed on this route.",
        413: "Body over MAX_BODY_BYTES or batch over MAX_BATCH_SIZE.",
        415: "Content-Type is not application/json (UTF-8).",
        422: "Valid input on which the model gives no finite prediction (far outside its range).",
        500: "Unexpected error; the body holds only the request ID.",
        503: "The model is not loaded (yet).",
    }
    return {str(s): {"description": descriptions[s], **_json_content("ErrorResponse")} for s in statuses}


def _limit_request(request: dict, n_features: int | None, max_batch_size: int) -> None:
    # The served model fixes the width of an instance and the settings the
    # largest batch: state them, so clients (and fuzzers) know what is valid.
    properties = request["properties"]
    properties["instances"]["maxItems"] = max_batch_size
    if n_features is not None:
        for instance in (properties["instance"], properties["instances"]["items"]):
            instance["minItems"] = instance["maxItems"] = n_features


def build_openapi(
    title: str, description: str, version: str, api_key: bool, n_features: int | None = None, max_batch_size: int = 256
) -> dict:
    """The document; ``n_features`` is the served model's input width (None: no model)."""
    _, defs = models_json_schema(
        [
            (m, "validation" if m is schemas.PredictRequest else "serialization")
            for m in (
                schemas.PredictRequest,
                schemas.PredictResponse,
                schemas.MetadataResponse,
                schemas.StatusResponse,
                schemas.ErrorResponse,
            )
        ],
        ref_template="#/components/schemas/{model}",
    )
    _limit_request(defs["$defs"]["PredictRequest"], n_features, max_batch_size)
    secured = [{"ApiKey": []}, {"Bearer": []}] if api_key else []
    guarded = _errors(401) if api_key else {}
    document = {
        "openapi": "3.1.0",
        "info": {"title": title, "description": description, "version": version},
        "paths": {
            "/predict": {
                "post": {
                    "operationId": "predict",
                    "summary": "Predict the class of one instance or a batch",
                    "security": secured,
                    "requestBody": {"required": True, **_json_content("PredictRequest")},
                    "responses": {
                        "200": {"description": "One prediction per instance.", **_json_content("PredictResponse")},
                        **_errors(400, 405, 413, 415, 422, 500, 503),
                        **guarded,
                    },
                }
            },
            "/metadata": {
                "get": {
                    "operationId": "metadata",
                    "summary": "Model name, version, input shape and types, labels, SHA-256",
                    "security": secured,
                    "responses": {
                        "200": {"description": "Model metadata.", **_json_content("MetadataResponse")},
                        **_errors(405, 500, 503),
                        **guarded,
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "healthz",
                    "summary": "Liveness: 200 while the process serves",
                    "security": [],
                    "responses": {"200": {"description": "Alive.", **_json_content("StatusResponse")}, **_errors(405)},
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "summary": "Readiness: 200 once the model is loaded and warmed up",
                    "security": [],
                    "responses": {
                        "200": {"description": "Ready.", **_json_content("StatusResponse")},
                        "503": {"description": "Not ready; reason given.", **_json_content("StatusResponse")},
                        **_errors(405),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "summary": "Prometheus metrics of all workers",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "Prometheus text format.",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        **_errors(405),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1 document.",
                            "content": {JSON: {"schema": {"type": "object"}}},
                        },
                        **_errors(405),
                    },
                }
            },
        },
        "components": {"schemas": defs["$defs"]},
    }
    if api_key:
        document["components"]["securitySchemes"] = {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "Bearer": {"type": "http", "scheme": "bearer"},
        }
    return document
