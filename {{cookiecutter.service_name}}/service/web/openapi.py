"""The OpenAPI 3.1 document, generated from the routes and the pydantic models they use.

Each documented view carries ``@operation(...)``: a summary, its request
model, its responses by status.  ``build_openapi`` walks the app's URL map,
so a new route is in the document as soon as it is registered, and every
schema is the pydantic model that validates or shapes it.  The APIs add what
only the served model knows (service/api/docs.py: the width of an instance,
the examples from ``model/example.json``).

``public=True`` is also what the API-key check reads (service/web/requests.py):
a public route answers without the key wherever it is registered.
"""

import re
from collections.abc import Callable

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from service.web.errors import ErrorResponse

JSON = "application/json"
# A Flask path variable, <name> or <converter:name>: OpenAPI writes it {name}.
PATH_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# What each error status means here; a view lists the ones it can answer.
ERRORS = {
    400: "Malformed JSON or an invalid request; the message names the position.",
    401: "Missing or wrong API key (only when API_KEY is set).",
    404: "No such model or version.",
    405: "Method not allowed on this route.",
    413: "Body over MAX_BODY_BYTES or batch over MAX_BATCH_SIZE.",
    415: "Content-Type is not application/json (UTF-8).",
    422: "Valid input on which the model gives no finite prediction (far outside its range).",
    500: "Unexpected error; the body holds only the request ID.",
    503: "The model is not loaded (yet).",
}


# A body: a pydantic model (JSON), raw OpenAPI content, or a list of those for several media types.
Body = type[BaseModel] | dict | list


def operation(
    summary: str,
    responses: dict[int, tuple[str, Body]],
    errors: tuple[int, ...] = (),
    request: Body | None = None,
    public: bool = False,
    error_model: type[BaseModel] = ErrorResponse,
    headers: dict[str, tuple[str, dict]] | None = None,
) -> Callable:
    """Document a view: ``responses`` maps a status to (description, body).

    ``public`` views answer without the API key.  Every view can answer 405.
    ``error_model`` is the shape of its ``errors`` (the V2 routes have their own).
    ``headers``: optional request headers it reads, name -> (description, JSON schema).
    """

    def document(view: Callable) -> Callable:
        view.openapi = {
            "summary": summary,
            "responses": responses,
            "errors": errors,
            "request": request,
            "error_model": error_model,
            "headers": headers or {},
        }
        view.public = public
        return view

    return document


def _content(body: Body) -> dict:
    if isinstance(body, list):
        return {media_type: value for part in body for media_type, value in _content(part).items()}
    if isinstance(body, dict):
        return body
    return {JSON: {"schema": {"$ref": f"#/components/schemas/{body.__name__}"}}}


def _operation(endpoint: str, spec: dict, api_key: bool, public: bool, path_values: dict) -> dict:
    responses = {
        str(status): {"description": text, "content": _content(body)}
        for status, (text, body) in spec["responses"].items()
    }
    guarded = api_key and not public
    for status in (*spec["errors"], 405, *((401,) if guarded else ())):
        responses.setdefault(str(status), {"description": ERRORS[status], "content": _content(spec["error_model"])})
    document = {"operationId": endpoint.rsplit(".", 1)[-1], "summary": spec["summary"], "responses": responses}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(values)}
        for name, values in path_values.items()
    ]
    parameters += [
        {"name": name, "in": "header", "required": False, "description": text, "schema": schema}
        for name, (text, schema) in spec["headers"].items()
    ]
    if parameters:
        document["parameters"] = parameters
    document["security"] = [{"ApiKey": []}, {"Bearer": []}] if guarded else []
    if spec["request"] is not None:
        document["requestBody"] = {"required": True, "content": _content(spec["request"])}
    return document


def _models(app: Flask) -> list[tuple[type[BaseModel], str]]:
    """Every pydantic model the documented views use, with the JSON-schema mode it is used in."""
    found = {ErrorResponse: "serialization"}
    for view in app.view_functions.values():
        spec = getattr(view, "openapi", None)
        if spec is None:
            continue
        found[spec["error_model"]] = "serialization"
        for model in _body_models(spec["request"]):
            found[model] = "validation"
        for _, body in spec["responses"].values():
            for model in _body_models(body):
                found[model] = "serialization"
    return list(found.items())


def _body_models(body: Body | None) -> list[type[BaseModel]]:
    parts = body if isinstance(body, list) else [body]
    return [part for part in parts if part is not None and not isinstance(part, dict)]


def build_openapi(app: Flask, info: dict, api_key: bool, path_values: dict[str, list[str]]) -> dict:
    """The document for ``app``'s routes.

    ``path_values``: the only values a path variable can take (the served
    model's name and version), by variable name; any string where absent.
    """
    _, defs = models_json_schema(_models(app), ref_template="#/components/schemas/{model}")
    components = defs["$defs"]
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        view = app.view_functions[rule.endpoint]
        spec = getattr(view, "openapi", None)
        if spec is None:
            continue
        variables = {name: path_values.get(name) for name in sorted(rule.arguments)}
        path = PATH_VARIABLE.sub(r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = _operation(rule.endpoint, spec, api_key, view.public, variables)
            paths.setdefault(path, {})[method.lower()] = operation
    document = {"openapi": "3.1.0", "info": info, "paths": paths, "components": {"schemas": components}}
    if api_key:
        document["components"]["securitySchemes"] = {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "Bearer": {"type": "http", "scheme": "bearer"},
        }
    return document


def _path_schema(values: list[str] | None) -> dict:
    return {"type": "string", "enum": values} if values else {"type": "string", "minLength": 1}
