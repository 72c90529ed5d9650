{%- set classification = cookiecutter.task == "classification" -%}
"""Operations: liveness, readiness, model metadata and Prometheus metrics."""

from dataclasses import asdict

from flask import Blueprint, Response, current_app, jsonify

from service.api import schemas
from service.inference.state import model_state, ready_model
from service.server import draining, metrics
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
    if draining.started():
        return jsonify(status="not_ready", reason="shutting down"), 503
    state = model_state()
    if state.ready:
        return jsonify(status="ready")
    return jsonify(status="not_ready", reason=state.reason), 503


@blueprint.get("/metadata")
@operation(
    "The served model: name, version, task, features,{% if classification %} labels,{% endif %} tensors, SHA-256",
    {200: ("Model metadata.", schemas.MetadataResponse)},
    errors=(500, 503),
)
def metadata():
    info = ready_model().metadata
    return jsonify(
        name=info.name,
        version=info.version,
        task=info.task,
        platform=info.platform,
        sha256=model_state().sha256,
        feature_names=list(info.feature_names),
{%- if classification %}
        labels=list(info.labels),
{%- endif %}
        inputs=[asdict(tensor) for tensor in info.inputs],
        outputs=[asdict(tensor) for tensor in info.outputs],
        max_batch_size=current_app.config["MAX_BATCH_SIZE"],
    )


@blueprint.get("/metrics")
@operation(
    "Prometheus metrics of all workers",
    {200: ("Prometheus text format.", {"text/plain": {"schema": {"type": "string"}}})},
    public=True,
)
def prometheus_metrics():
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)
