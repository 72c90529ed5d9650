"""Every error the service returns is JSON, in the shape of the API that answers.

The native API's shape is ``{"error": {"code", "message", "request_id", "details"?}}``
(``ErrorResponse``).  An API with a shape of its own registers it for its URL
prefix with ``register_error_shape`` (the Open Inference Protocol answers
``{"error": "<message>"}`` under /v2, routing errors such as 404 and 405
included, since V2 clients read that shape and no other).

4xx answers say what was wrong with the request.  A 500 logs the traceback
with the request ID and returns only that ID, never the traceback.
"""

import logging
from collections.abc import Callable

from flask import Flask, current_app, g, jsonify, request
from pydantic import BaseModel, Field
from werkzeug.exceptions import HTTPException

log = logging.getLogger("service.errors")

# (status, code, message, details) -> the JSON body of an error response.
ErrorShape = Callable[[int, str, str, list[dict] | None], dict]


class ApiError(Exception):
    """An error with a status, a stable code and a message for the caller."""

    def __init__(self, status: int, code: str, message: str, details: list[dict] | None = None, headers=None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.headers = status, code, message, details, headers


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


def native_shape(status: int, code: str, message: str, details: list[dict] | None) -> dict:
    body = {"code": code, "message": message, "request_id": g.get("request_id")}
    if details:
        body["details"] = details
    return {"error": body}


def register_error_shape(app: Flask, prefix: str, shape: ErrorShape) -> None:
    """Answer errors of the paths under ``prefix`` (and ``prefix`` itself) in ``shape``."""
    app.extensions.setdefault("error_shapes", []).append((prefix, shape))


def shape_for(path: str) -> ErrorShape:
    for prefix, shape in current_app.extensions.get("error_shapes", ()):
        if path == prefix or path.startswith(prefix + "/"):
            return shape
    return native_shape


def error_response(status: int, code: str, message: str, details=None, headers=None):
    response = jsonify(shape_for(request.path)(status, code, message, details))
    response.status_code = status
    for name, value in headers or ():
        response.headers[name] = value
    return response


def http_error_code(error: HTTPException) -> str:
    # "Method Not Allowed" -> "method_not_allowed"
    return (error.name or "error").lower().replace(" ", "_").replace("-", "_")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        return error_response(error.status, error.code, error.message, error.details, error.headers)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Keep werkzeug's headers that matter (Allow on 405); drop its HTML.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        message = {
            404: "no such route; see GET /openapi.json",
            405: "method not allowed on this route",
            413: f"request body exceeds the limit of {current_app.config['MAX_CONTENT_LENGTH']} bytes",
        }.get(error.code, error.description or error.name)
        return error_response(error.code or 500, http_error_code(error), message, headers=headers)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("unhandled error", extra={"request_id": g.get("request_id")})
        return error_response(500, "internal_error", "internal server error; quote the request_id when reporting it")
