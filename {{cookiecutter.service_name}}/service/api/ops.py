{%- set classification = cookiecutter.task == "classification" -%}
"""Operations: liveness, readiness, model metadata and Prometheus metrics."""

from flask import Blueprint, Response, jsonify

from service.api import schemas
from service.server import metrics
from service.web import serving
from service.web.openapi import operation

blueprint = Blueprint("ops", __name__)


@blueprint.get("/healthz")
@operation("Liveness: 200 while the process serves", {200: ("Alive.", schemas.StatusResponse)}, public=True)
def healthz():
    return jsonify(status="alive")


@blueprint.get("/readyz")
@operation(
    "Readiness: 200 once the model is loaded and answers",
    {200: ("Ready.", schemas.StatusResponse), 503: ("Not ready; the reason says why.", schemas.StatusResponse)},
    public=True,
)
def readyz():
    reason = serving.readiness()
    if reason is None:
        return jsonify(status="ready")
    return jsonify(status="not_ready", reason=reason), 503


@blueprint.get("/metadata")
@operation(
    "The served model: name, version, task, features,{% if classification %} labels,{% endif %} tensors, SHA-256",
    {200: ("Model metadata.", schemas.MetadataResponse)},
    errors=(500, 503),
)
def metadata():
    return jsonify(serving.metadata_document())


@blueprint.get("/metrics")
@operation(
    "Prometheus metrics of all workers",
    {200: ("Prometheus text format.", {"text/plain": {"schema": {"type": "string"}}})},
    public=True,
)
def prometheus_metrics():
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)
