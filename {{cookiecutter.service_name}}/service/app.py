"""The HTTP service: ``create_app()`` builds it; serve_http.py's ``app`` is what gunicorn serves.

In order: the settings and logging, the model (loaded once, kept on the app
as ``app.extensions["model_state"]``) and what a batch goes through
(``app.extensions["predictor"]``: the model, or a micro-batcher around it),
the JSON error handlers, the routes (the native API's ``BLUEPRINTS`` in
service/api/__init__.py and the Open Inference Protocol under /v2), the
per-request hooks, and the OpenAPI document of every route registered here.
Views reach all of it through service/web/serving.py.
"""

from flask import Flask

from service import api, v2
from service.api.docs import build_document
from service.inference import batching
from service.inference.state import ModelState, load_state
from service.server.logs import configure_logging
from service.settings import Settings, load_settings
from service.web.errors import register_error_handlers, register_error_shape
from service.web.json_provider import OrjsonProvider
from service.web.requests import register_request_hooks


def create_app(settings: Settings | None = None, state: ModelState | None = None) -> Flask:
    """Build the app; pass ``state`` to serve an already-loaded model (tests do)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = Flask(__name__)
    # Never debug mode, whatever FLASK_DEBUG says (Flask reads it here): gunicorn serves.
    app.debug = False
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    # OPTIONS gets 405 like any undocumented method, not an empty text/html 200 (no CORS here).
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.json = OrjsonProvider(app)
    state = app.extensions["model_state"] = state or load_state(settings)
    # MICROBATCH_MAX_SIZE > 0: concurrent requests share predict calls.
    app.extensions["predictor"] = (
        batching.predictor(state.model.predict, settings.microbatch_max_size, settings.microbatch_max_delay_ms)
        if state.ready
        else None
    )
    register_error_handlers(app)
    register_error_shape(app, v2.PREFIX, v2.error_shape)
    for blueprint in api.BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.register_blueprint(v2.blueprint)
    register_request_hooks(app, settings.api_key)
    # Built once, from the routes registered above: a route registered later is not in it.
    app.extensions["openapi"] = build_document(app, settings, state)
    return app
