"""The app under test: the project's root (where start.py and gunicorn run) and a Flask test client."""

from pathlib import Path

import serve_http
from service.inference.loader import load_model
from service.inference.state import ModelState
from service.settings import load_settings

PROJECT = Path(__file__).resolve().parent.parent.parent


def make_client(**overrides):
    """A test client of the app built with these settings (``load_settings(**overrides)``)."""
    app = serve_http.create_app(load_settings(**overrides))
    app.config["TESTING"] = True
    return app.test_client()


def client_serving(wrapper):
    """A test client of the app serving the loaded model wrapped in ``wrapper`` (a stand-in of support/model.py)."""
    settings = load_settings()
    model, digest = load_model(settings.model_path)
    app = serve_http.create_app(settings, ModelState(wrapper(model), digest, ""))
    return app.test_client()
