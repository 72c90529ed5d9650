"""Health, readiness, metadata, metrics, API docs, request IDs and JSON errors."""

import hashlib

import pytest

from support.app import make_client
from support.model import EXAMPLE, MODEL, TABLE, named

ROW = EXAMPLE.instances[0]


def test_healthz_and_readyz_when_the_model_is_loaded(client):
    assert client.get("/healthz").get_json() == {"status": "alive"}
    assert client.get("/readyz").status_code == 200


def test_not_ready_when_the_model_is_missing(tmp_path):
    client = make_client(model_path=tmp_path / "absent.model")
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not_ready", "reason": "model file not found"}
    assert str(tmp_path) not in response.get_data(as_text=True)
    predict = client.post("/predict", json={"instance": ROW})
    assert predict.status_code == 503
    assert predict.get_json()["error"]["code"] == "model_not_ready"


def test_metadata_describes_the_served_file(client):
    body = client.get("/metadata").get_json()
    assert body["sha256"] == hashlib.sha256(MODEL.read_bytes()).hexdigest()
    assert body["task"] == "{{ cookiecutter.task }}"
    width = len(named(ROW))
    assert len(body["feature_names"]) == width
    if TABLE:  # a table of several types: V2 takes it one column at a time
        assert [tensor["name"] for tensor in body["inputs"]] == body["feature_names"]
    else:
        assert body["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, width]}]
    assert body["outputs"][0]["shape"] == [-1, len(EXAMPLE.outputs[0])]
{%- if cookiecutter.task == "classification" %}
    assert len(body["labels"]) == len(EXAMPLE.outputs[0])
{%- else %}
    assert "labels" not in body
{%- endif %}


def test_metrics_count_requests_and_predictions(client):
    client.post("/predict", json={"instances": [ROW, ROW]})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{method="POST",route="/predict",status="200"}' in text
    assert "predictions_total" in text
    assert "http_request_duration_seconds_bucket" in text
    assert "model_load_seconds" in text


def test_docs_page_and_its_assets_are_served_locally(client):
    page = client.get("/docs/")
    assert page.status_code == 200 and "text/html" in page.content_type
    html = page.get_data(as_text=True)
    assert "/openapi.json" in html and "swagger-ui-bundle.js" in html
    assert "https://" not in html  # no CDN: the assets come from this service
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert client.get(f"/docs/{asset}").status_code == 200, asset


def test_request_id_is_echoed_or_created(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    created = client.get("/healthz", headers={"X-Request-ID": "bad id\twith junk"}).headers["X-Request-ID"]
    assert len(created) == 32 and created != "bad id\twith junk"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nope", 404), ("DELETE", "/predict", 405), ("POST", "/healthz", 405), ("OPTIONS", "/predict", 405)],
)
def test_unknown_routes_and_methods_are_json(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.is_json and response.get_json()["error"]["code"] in {"not_found", "method_not_allowed"}


def test_unexpected_error_is_500_without_details(client, monkeypatch):
    app = client.application

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail /etc/passwd")

    app.config["TESTING"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret" not in body and "Traceback" not in body
    assert response.get_json()["error"]["request_id"] == response.headers["X-Request-ID"]


def test_api_key_guards_every_route_but_probes_and_metrics():
    client = make_client(api_key="s3cret")
    assert client.post("/predict", json={"instance": ROW}).status_code == 401
    assert client.get("/metadata", headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.post("/predict", json={"instance": ROW}, headers={"X-API-Key": "s3cret"}).status_code == 200
    assert client.get("/metadata", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    for open_route in ("/healthz", "/readyz", "/metrics"):
        assert client.get(open_route).status_code == 200


def test_debug_mode_stays_off_whatever_flask_debug_says(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert make_client().application.debug is False
