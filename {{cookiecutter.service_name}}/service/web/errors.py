"""Every error the service returns is JSON: ``{"error": {"code", "message", ...}}``.

Under ``/v2`` (the Open Inference Protocol, api_v2.py) it is the protocol's
``{"error": "<message>"}`` instead, routing errors (404, 405) included: V2
clients read that shape and no other.

4xx answers say what was wrong with the request.  A 500 logs the traceback
with the request ID and returns only that ID, never the traceback.
"""

import logging

from flask import Flask, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("service.errors")
# Where the Open Inference Protocol's routes live (api_v2.py's blueprint prefix).
V2_PREFIX = "/v2"


class ApiError(Exception):
    """An error with a status, a stable code and a message for the caller."""

    def __init__(self, status: int, code: str, message: str, details: list[dict] | None = None, headers=None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details, self.headers = status, code, message, details, headers


def error_response(status: int, code: str, message: str, details=None, headers=None):
    if request.path == V2_PREFIX or request.path.startswith(V2_PREFIX + "/"):
        response = jsonify(error=message)  # the request ID is in the X-Request-ID header
    else:
        body = {"code": code, "message": message, "request_id": g.get("request_id")}
        if details:
            body["details"] = details
        response = jsonify(error=body)
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
