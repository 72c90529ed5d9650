{%- set classification = cookiecutter.task == "classification" -%}
"""Prometheus metrics, correct under several gunicorn workers.

gunicorn.conf.py points PROMETHEUS_MULTIPROC_DIR at a fresh temp directory
before this module is imported; each process then writes its samples to
memory-mapped files there and ``/metrics`` adds them up across workers.
Without that variable (tests, a single process) the default registry is used.
"""

{% if classification -%}
import collections
{% endif -%}
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from request start to response, by route and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
{%- if classification %}
PREDICTIONS = Counter("predictions_total", "Instances predicted, by predicted label.", ["label"])
{%- else %}
PREDICTIONS = Counter("predictions_total", "Instances predicted.")
{%- endif %}
MODEL_LOAD_SECONDS = Gauge("model_load_seconds", "Seconds the last model load took.", multiprocess_mode="max")

# The labelled children, looked up once per label set instead of on every
# request (``labels()`` takes a lock and builds a key each time).
_request_children: dict[tuple[str, str, int], tuple] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its latency."""
    children = _request_children.get((method, route, status))
    if children is None:
        labels = (method, route, str(status))
        children = _request_children[(method, route, status)] = (
            REQUESTS.labels(*labels),
            LATENCY.labels(*labels),
        )
    children[0].inc()
    children[1].observe(seconds)

{% if classification %}
_prediction_children: dict[str, object] = {}


def count_predictions(predictions: list[dict]) -> None:
    """Count predicted labels: one increment per distinct label, not per instance."""
    labels = [prediction["label"] for prediction in predictions]
    counts = collections.Counter(labels) if len(labels) > 1 else dict.fromkeys(labels, 1)
    for label, count in counts.items():
        child = _prediction_children.get(label)
        if child is None:
            child = _prediction_children[label] = PREDICTIONS.labels(label)
        child.inc(count)
{%- else %}
def count_predictions(predictions: list[dict]) -> None:
    """Count predicted instances."""
    PREDICTIONS.inc(len(predictions))
{%- endif %}


def exposition() -> tuple[bytes, str]:
    """The current metrics of every worker, in Prometheus text format."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
