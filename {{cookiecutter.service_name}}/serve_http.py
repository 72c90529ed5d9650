"""The HTTP API of the service.

``create_app()`` builds the Flask app; the module-level ``app`` is what
gunicorn serves (see gunicorn.conf.py, ``make dev`` and the Dockerfiles).

Routes: POST /predict, GET /metadata, /healthz, /readyz, /metrics, /openapi.json.
"""

import hmac
import logging
import math
import re
import time
import uuid
from dataclasses import dataclass

import numpy as np
from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

import draining
import metrics
import timeouts
from errors import ApiError, register_error_handlers
from logs import configure_logging
from model import ModelLoadError, load_model
from openapi import build_openapi
from schemas import RequestError, parse_predict_request
from settings import Settings, load_settings

SERVICE_VERSION = "0.1.0"
# The answers given when this project was generated, shown in /openapi.json.
TITLE = {{ cookiecutter.project_name | jsonify }}  # fmt: skip
DESCRIPTION = {{ cookiecutter.description | jsonify }}  # fmt: skip
# A caller's X-Request-ID is echoed only if it is short and plain, so it
# cannot inject anything into logs or headers.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Routes anyone may call when API_KEY is set: probes and the scraper.
OPEN_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})

log = logging.getLogger("service")
access_log = logging.getLogger("service.access")


@dataclass
class ModelState:
    """What /readyz reports: the model, or why there is none."""

    model: object | None = None
    reason: str = "model not loaded yet"

    @property
    def ready(self) -> bool:
        return self.model is not None


def load_and_warm_up(settings: Settings) -> ModelState:
    """Load the model and answer one prediction; on failure say why, once."""
    started = time.perf_counter()
    try:
        model = load_model(settings.model_path, settings.model_threads)
        model.predict(np.zeros((1, model.metadata.n_features), dtype=np.float32))
    except ModelLoadError as error:
        log.error("model not loaded, service will not become ready: %s", error)
        return ModelState(reason=error.reason)
    except Exception as error:  # a warm-up that raises: the model is unusable
        log.exception("model warm-up failed, service will not become ready")
        return ModelState(reason=f"model warm-up failed ({type(error).__name__})")
    elapsed = time.perf_counter() - started
    metrics.MODEL_LOAD_SECONDS.set(elapsed)
    log.info(
        "model loaded",
        extra={
            "model": model.metadata.name,
            "version": model.metadata.version,
            "sha256": model.metadata.sha256,
            "load_seconds": round(elapsed, 4),
        },
    )
    return ModelState(model=model, reason="")


def read_body(limit: int) -> bytes:
    """The request body; 413 if it is over ``limit`` bytes."""
    if request.content_length is not None:
        return request.get_data(cache=False)  # a Content-Length over the limit got 413 unread
    # Chunked: no length up front, and werkzeug would silently cut the body at
    # the limit (then "invalid JSON"); read one byte more to tell.
    body = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return body


def create_app(settings: Settings | None = None, model=None) -> Flask:
    """Build the app; pass ``model`` to serve an already-loaded one (tests do)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    state = ModelState(model=model, reason="") if model is not None else load_and_warm_up(settings)

    app = Flask(__name__)
    # Never debug mode, whatever FLASK_DEBUG says (Flask reads it here): gunicorn serves.
    app.debug = False
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    # OPTIONS gets 405 like any undocumented method, not an empty text/html 200 (no CORS here).
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.json.sort_keys = False
    register_error_handlers(app)
    openapi_document = build_openapi(
        TITLE,
        DESCRIPTION,
        SERVICE_VERSION,
        bool(settings.api_key),
        n_features=state.model.metadata.n_features if state.ready else None,
        max_batch_size=settings.max_batch_size,
    )
    api_key = settings.api_key.encode() if settings.api_key else None

    @app.before_request
    def start_request() -> None:
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        if api_key is not None and request.path not in OPEN_ROUTES:
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

    def require_model():
        if not state.ready:
            raise ApiError(503, "model_not_ready", f"model not ready: {state.reason}")
        return state.model

    @app.post("/predict")
    def predict():
        model = require_model()
        if request.mimetype != "application/json":
            raise ApiError(
                415,
                "unsupported_media_type",
                f"Content-Type must be application/json, got {request.mimetype or 'none'!r}",
            )
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise ApiError(415, "unsupported_media_type", f"JSON must be UTF-8, got charset={charset!r}")
        metadata = model.metadata
        try:
            batch = parse_predict_request(
                read_body(settings.max_body_bytes), metadata.n_features, settings.max_batch_size
            )
        except RequestError as error:
            raise ApiError(error.status, error.code, error.message, error.details) from None
        with timeouts.prediction():
            predictions = model.predict(batch)
        for index, prediction in enumerate(predictions):
            if not all(map(math.isfinite, prediction.probabilities.values())):
                # Finite inputs far outside the training data can overflow the
                # model (NaN out); NaN is not JSON, so say so instead.
                raise ApiError(
                    422,
                    "prediction_not_finite",
                    f"instance {index}: the model gives no finite prediction for these values (out of its range)",
                )
        metrics.count_predictions([prediction.label for prediction in predictions])
        return jsonify(
            predictions=[{"label": p.label, "probabilities": p.probabilities} for p in predictions],
            model={"name": metadata.name, "version": metadata.version},
        )

    @app.get("/metadata")
    def metadata():
        info = require_model().metadata
        return jsonify(
            name=info.name,
            version=info.version,
            sha256=info.sha256,
            input={"shape": [None, info.n_features], "dtype": "float32", "feature_names": list(info.feature_names)},
            labels=list(info.labels),
            max_batch_size=settings.max_batch_size,
        )

    @app.get("/healthz")
    def healthz():
        return jsonify(status="alive")

    @app.get("/readyz")
    def readyz():
        if draining.started():
            return jsonify(status="not_ready", reason="shutting down"), 503
        if state.ready:
            return jsonify(status="ready")
        return jsonify(status="not_ready", reason=state.reason), 503

    @app.get("/metrics")
    def prometheus_metrics():
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    @app.get("/openapi.json")
    def openapi():
        return jsonify(openapi_document)

    return app


app = create_app()

if __name__ == "__main__":
    raise SystemExit("serve with gunicorn: `make dev` locally, or build the image (`make build run`)")
