"""API documentation: ``GET /openapi.json`` and the interactive page ``GET /docs``.

The page is Swagger UI from the flask-swagger-ui package, whose wheel carries
Swagger UI's JavaScript and CSS: the image serves them itself, no CDN.
"""

from flask import Blueprint, Flask, current_app, jsonify
from flask_swagger_ui import get_swaggerui_blueprint

from service.web.openapi import operation

blueprint = Blueprint("docs", __name__)


@blueprint.get("/openapi.json")
@operation("This document", {200: ("OpenAPI 3.1 document.", {"application/json": {"schema": {"type": "object"}}})})
def openapi_document():
    return jsonify(current_app.extensions["openapi"])


def register_docs(app: Flask, title: str) -> None:
    """Both routes: the document, and Swagger UI rendering it at /docs/."""
    app.register_blueprint(blueprint)
    config = {"app_name": title, "layout": "BaseLayout", "deepLinking": False}
    app.register_blueprint(get_swaggerui_blueprint("/docs", "/openapi.json", config=config))
