"""What happens around every request: its ID, the API key, metrics and one access-log line."""

import hmac
import logging
import os
import re
import time

from flask import Flask, Response, g, request

from service.server import metrics
from service.web.errors import ApiError

# A caller's X-Request-ID is echoed only if it is short and plain, so it
# cannot inject anything into logs or headers.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

access_log = logging.getLogger("service.access")


def register_request_hooks(app: Flask, secret: str) -> None:
    """Request ID and API key (``secret``, if set) before every request; metrics and the access line after it."""
    api_key = secret.encode() if secret else None

    @app.before_request
    def start_request() -> None:
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()
        # Routes anyone may call when API_KEY is set: those whose view says
        # @operation(public=True) (probes, the scraper), whenever and wherever it was registered.
        if api_key is not None and not getattr(app.view_functions.get(request.endpoint), "public", False):
            supplied = request.headers.get("X-API-Key") or request.headers.get("Authorization", "").removeprefix(
                "Bearer "
            )
            if not hmac.compare_digest(supplied.encode(), api_key):
                raise ApiError(
                    401,
                    "unauthorized",
                    "missing or wrong API key (X-API-Key or Authorization: Bearer)",
                    headers=[("WWW-Authenticate", "Bearer")],
                )

    @app.after_request
    def finish_request(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        # Runs on every request: each context-local lookup (request.x, g.x) is looked up once.
        req = request._get_current_object()
        method, path, status = req.method, req.path, response.status_code
        route = req.url_rule.rule if req.url_rule is not None else "unmatched"
        metrics.observe_request(method, route, status, elapsed)
        request_id = g.get("request_id")
        response.headers["X-Request-ID"] = request_id or ""
        access_log.info(
            "%s %s %s",
            method,
            path,
            status,
            extra={
                "request_id": request_id,
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round(elapsed * 1000, 3),
                "remote_addr": req.remote_addr,
            },
        )
        return response
