"""The OpenAPI document: valid, complete, and true of the responses the service really gives."""

import re

import pytest
from openapi_spec_validator import validate

from support.app import make_client
from support.model import EXAMPLE, METADATA, TABLE
from support.openapi import assert_documented

ROW = EXAMPLE.instances[0]
# The row with its last value or column left out.
SHORT = dict(list(ROW.items())[:-1]) if isinstance(ROW, dict) else ROW[:-1]


def test_document_is_valid_and_covers_every_api_route(client):
    document = client.get("/openapi.json").get_json()
    validate(document)
    rules = client.application.url_map.iter_rules()
    # Flask writes a path variable <name>, OpenAPI {name}.
    routes = {
        re.sub(r"<(\w+)>", r"{\1}", rule.rule) for rule in rules if not rule.rule.startswith(("/docs", "/static"))
    }
    assert set(document["paths"]) == routes


def test_examples_come_from_the_example_file(client):
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    assert schemas["PredictRequest"]["examples"][0] == {"instances": EXAMPLE.instances[:2]}
    assert len(schemas["PredictResponse"]["examples"][0]["predictions"]) == 2
    instance = schemas["PredictRequest"]["properties"]["instance"]
    if TABLE:  # an object of the named columns, each one required (a text model: or the string alone)
        row = instance["anyOf"][1] if METADATA.text else instance
        assert row["required"] == list(METADATA.feature_names)
    else:
        assert instance["minItems"] == instance["maxItems"] == METADATA.n_features


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/predict", EXAMPLE.request()),
        ("POST", "/predict", {"instance": ROW}),
        ("POST", "/predict", {"instance": SHORT}),
        ("POST", "/predict", {"instances": [ROW], "extra": 1}),
        ("POST", "/predict", b"{not json"),
        ("POST", "/predict", {"instances": [ROW] * 300}),
        ("GET", "/metadata", None),
        ("GET", "/healthz", None),
        ("GET", "/readyz", None),
        ("GET", "/metrics", None),
        ("GET", "/openapi.json", None),
        ("DELETE", "/metadata", None),
    ],
)
def test_real_responses_match_the_document(client, method, path, body):
    document = client.get("/openapi.json").get_json()
    if isinstance(body, bytes):
        response = client.open(path, method=method, data=body, content_type="application/json")
    else:
        response = client.open(path, method=method, json=body)
    documented = document["paths"][path].get(method.lower())
    if documented is None:  # a method the route does not have: documented as 405 on its others
        assert response.status_code == 405
        method = next(iter(document["paths"][path])).upper()
    assert_documented(document, method, path, response)


def test_not_ready_and_unauthorized_responses_match_the_document(tmp_path):
    client = make_client(model_path=tmp_path / "absent.model")
    document = client.get("/openapi.json").get_json()
    assert_documented(document, "GET", "/readyz", client.get("/readyz"))
    assert_documented(document, "POST", "/predict", client.post("/predict", json={"instance": ROW}))
    guarded = make_client(api_key="s3cret")
    document = guarded.get("/openapi.json", headers={"X-API-Key": "s3cret"}).get_json()
    assert_documented(document, "POST", "/predict", guarded.post("/predict", json={"instance": ROW}))
