"""The HTTP service: ``create_app()`` builds it; serve_http.py's ``app`` is what gunicorn serves.

Routes live in blueprints by concern, registered here: api_predict.py (POST
/predict), api_ops.py (/healthz, /readyz, /metadata, /metrics), api_v2.py
(the Open Inference Protocol under /v2) and api_docs.py (/openapi.json, /docs).  The model is loaded once, here, and kept
on the app (``app.extensions["model"]``, see app_state.py).  This module also
gives every request its ID, API-key check, metrics and access-log line.
"""

import hmac
import logging
import os
import re
import time

import numpy as np
from flask import Flask, Response, g, request

from service.api import docs as api_docs
from service.api import ops as api_ops
from service.api import predict as api_predict
from service.inference import batching
from service.inference.example import ExampleError, read_example
from service.inference.predictions import to_predictions
from service.inference.state import ModelState, load_state
from service.server import metrics
from service.server.logs import configure_logging
from service.settings import Settings, load_settings
from service.v2 import routes as api_v2
from service.web.errors import ApiError, register_error_handlers
from service.web.json_provider import OrjsonProvider
from service.web.openapi import build_openapi

SERVICE_VERSION = "0.1.0"
# The answers given when this project was generated, shown in /openapi.json and /docs.
TITLE = {{ cookiecutter.project_name | jsonify }}  # fmt: skip
DESCRIPTION = {{ cookiecutter.description | jsonify }}  # fmt: skip
# A caller's X-Request-ID is echoed only if it is short and plain, so it
# cannot inject anything into logs or headers.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger("service")
access_log = logging.getLogger("service.access")


def create_app(settings: Settings | None = None, state: ModelState | None = None) -> Flask:
    """Build the app; pass ``state`` to serve an already-loaded model (tests do)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = Flask(__name__)
    # Never debug mode, whatever FLASK_DEBUG says (Flask reads it here): gunicorn serves.
    app.debug = False
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["MAX_BATCH_SIZE"] = settings.max_batch_size
    # OPTIONS gets 405 like any undocumented method, not an empty text/html 200 (no CORS here).
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.json = OrjsonProvider(app)
    # What GET /v2 (server metadata) names.
    app.config["SERVICE_NAME"] = {{ cookiecutter.service_name | jsonify }}  # fmt: skip
    app.config["SERVICE_VERSION"] = SERVICE_VERSION
    state = app.extensions["model"] = state or load_state(settings.model_path, settings.model_threads)
    # What /predict calls: the model itself, or a micro-batcher around it (MICROBATCH_MAX_SIZE).
    app.extensions["predict"] = (
        batching.predictor(state.model.predict, settings.microbatch_max_size, settings.microbatch_max_delay_ms)
        if state.ready
        else None
    )
    register_error_handlers(app)
    app.register_blueprint(api_predict.blueprint)
    app.register_blueprint(api_ops.blueprint)
    app.register_blueprint(api_v2.blueprint)
    api_docs.register_docs(app, TITLE)
    register_request_hooks(app, settings.api_key)
    app.extensions["openapi"] = openapi_document(app, settings)
    return app


def openapi_document(app: Flask, settings: Settings) -> dict:
    """The OpenAPI document of ``app``, with the served model's width and example."""
    state: ModelState = app.extensions["model"]
    metadata = state.model.metadata if state.ready else None
    examples = {}
    try:
        example = read_example(settings.model_path)
    except ExampleError as error:
        log.warning("no examples in the API document: %s", error)
    else:
        examples["PredictRequest"] = [example.request(2), {"instance": example.instances[0]}]
        if metadata is not None:
            predictions = to_predictions(np.asarray(example.outputs[:2]), metadata.labels)
            examples["PredictResponse"] = [
                {"predictions": predictions, "model": {"name": metadata.name, "version": metadata.version}}
            ]
    info = {"title": TITLE, "description": DESCRIPTION, "version": SERVICE_VERSION}
    limits = {"n_features": metadata.n_features if metadata else None, "max_batch_size": settings.max_batch_size}
    # The V2 paths name the model: only the served one's name and version exist.
    path_values = {"name": [metadata.name], "version": [metadata.version]} if metadata else {}
    return build_openapi(app, info, bool(settings.api_key), limits, examples, path_values)


def register_request_hooks(app: Flask, secret: str) -> None:
    """Request ID and API key (``secret``, if set) before every request; metrics and the access line after it."""
    api_key = secret.encode() if secret else None
    # Routes anyone may call when API_KEY is set: those their views mark public (probes, the scraper).
    open_routes = frozenset(
        rule.rule for rule in app.url_map.iter_rules() if getattr(app.view_functions[rule.endpoint], "public", False)
    )

    @app.before_request
    def start_request() -> None:
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()
        if api_key is not None and request.path not in open_routes:
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
