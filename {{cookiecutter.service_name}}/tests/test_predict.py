"""POST /predict: the example's answers, and a JSON 4xx naming the problem for bad requests."""

import json

import pytest

from support.app import client_serving, make_client
from support.model import EXAMPLE, METADATA, TABLE, NotFinite, assert_matches_example, named

ROW = EXAMPLE.instances[0]
NAMED = named(ROW)  # an object of the model's columns: every model takes this form
POSITIONAL = list(NAMED.values())  # a list of values: models of numbers only
WIDTH = len(NAMED)


def post(client, body, content_type="application/json", **headers):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/predict", data=data, content_type=content_type, headers=headers)


def labels(client) -> list[str]:
    return client.get("/metadata").get_json().get("labels", [])


def test_batch_gets_the_example_outputs_in_order(client):
    response = post(client, EXAMPLE.request())
    assert response.status_code == 200
    assert_matches_example(response.get_json()["predictions"], labels(client))


def test_single_instance_form(client):
    response = post(client, {"instance": ROW})
    assert response.status_code == 200
    body = response.get_json()
    assert_matches_example(body["predictions"], labels(client), rows=1)
    metadata = client.get("/metadata").get_json()
    assert body["model"] == {"name": metadata["name"], "version": metadata["version"]}


def test_rows_of_named_features_in_any_key_order_are_the_positional_rows(client):
    shuffled = [dict(reversed(list(named(row).items()))) for row in EXAMPLE.instances]
    response = post(client, {"instances": shuffled})
    assert response.status_code == 200, response.get_json()
    assert_matches_example(response.get_json()["predictions"], labels(client))
    response = post(client, {"instance": {**shuffled[0], "colour": 1}})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "instance: unknown column 'colour'"


def test_integers_are_numbers(client):
    whole = {name: round(value) if type(value) is float else value for name, value in NAMED.items()}
    assert post(client, {"instance": whole if TABLE else list(whole.values())}).status_code == 200


# Bad requests of any form.
ANY_FORM = [
    (b'{"instances": [[5.1, 3.5', 400, "malformed_json", "not valid JSON"),
    (b"", 400, "malformed_json", "not valid JSON"),
    (b"[1, 2, 3]", 400, "invalid_request", "object"),
    ({}, 400, "invalid_request", "exactly one of"),
    ({"instances": [ROW], "instance": ROW}, 400, "invalid_request", "exactly one of"),
    ({"instances": [ROW], "extra": 1}, 400, "invalid_request", "extra: Extra inputs"),
    ({"instances": []}, 400, "invalid_request", "instances: List should have at least 1 item"),
    ({"instances": None}, 400, "invalid_request", "instances"),
    (b"[" * 10000, 400, "malformed_json", "recursion limit"),
]
# Rows as objects of the model's columns (service/inference/columns.py), which every model takes.
FIRST = METADATA.columns[0]
REQUIRED = next((column for column in METADATA.columns if not column.nullable), None)
WRONG = "seven" if FIRST.type != "string" else 7
NAMED_ROWS = [
    ({"instances": [NAMED, {**NAMED, "colour": 1}]}, 400, "invalid_row", "instances[1]: unknown column 'colour'"),
    ({"instance": dict(list(NAMED.items())[1:])}, 400, "invalid_row", f"instance: missing column {FIRST.name!r}"),
    (
        {"instances": [{**NAMED, FIRST.name: WRONG}]},
        400,
        "invalid_row",
        f"instances[0].{FIRST.name}: {WRONG!r} is not a",
    ),
]
if REQUIRED is not None:
    NAMED_ROWS.append(
        (
            {"instance": {**NAMED, REQUIRED.name: None}},
            400,
            "invalid_row",
            f"instance.{REQUIRED.name}: null is not allowed",
        )
    )
# Rows as lists of numbers, for a model of numbers only; a table refuses them by name.
P = POSITIONAL
POSITIONAL_ROWS = [
    ({"instances": [P, [1, 2, "3", *P[3:]]]}, 400, "invalid_request", "instances[1][2]"),
    ({"instances": [[True, *P[1:]]]}, 400, "invalid_request", "instances[0][0]"),
    (
        {"instances": [P, P[:-1]]},
        400,
        "wrong_feature_count",
        f"instances[1]: expected {WIDTH} features, got {WIDTH - 1}",
    ),
    ({"instance": [*P, 1]}, 400, "wrong_feature_count", f"instance: expected {WIDTH} features, got {WIDTH + 1}"),
    ({"instances": [[1, 2, [3], *P[3:]]]}, 400, "invalid_request", "instances[0][2]"),
    (b'{"instances": [[1, 2], [1, NaN, 4]]}', 400, "invalid_request", "instances[1][1]: Input should be a finite"),
    (b'{"instance": [1, Infinity, 3, 4]}', 400, "invalid_request", "instance[1]: Input should be a finite"),
    (b'{"instance": [1, 2, -Infinity, 4]}', 400, "invalid_request", "instance[2]"),
    (b'{"instance": [1, 2, 3, 1e400]}', 400, "invalid_request", "instance[3]"),
    (
        b'{"instances": [[1, 2, 3, 4], [1, 1e39, 3, 4]]}',
        400,
        "invalid_request",
        "instances[1][1]: Input should be within float32's range",
    ),
]
if METADATA.text:  # a text alone is a row, a list is not
    POSITIONAL_ROWS = [({"instances": [P]}, 400, "invalid_row", "instances[0]: [")]
elif TABLE:
    POSITIONAL_ROWS = [({"instances": [P]}, 400, "invalid_request", "Input should be an object of the model's columns")]


@pytest.mark.parametrize(
    ("body", "status", "code", "message_part"),
    ANY_FORM + NAMED_ROWS + POSITIONAL_ROWS,
    ids=lambda value: None if not isinstance(value, str) else value[:30],
)
def test_bad_request_is_json_4xx_naming_the_problem(client, body, status, code, message_part):
    response = post(client, body)
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code
    assert message_part in error["message"]
    assert error["request_id"] == response.headers["X-Request-ID"]


def test_batch_over_the_maximum_is_413():
    client = make_client(max_batch_size=2)
    response = post(client, {"instances": [ROW] * 3})
    assert response.status_code == 413
    assert response.get_json()["error"]["message"] == "instances: batch of 3 exceeds the maximum of 2"


def test_body_over_the_limit_is_413_before_parsing():
    client = make_client(max_body_bytes=1024)
    response = post(client, {"instances": [ROW] * 100})
    assert response.status_code == 413
    assert "1024 bytes" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_non_json_content_type_is_415(client, content_type):
    response = post(client, {"instance": ROW}, content_type=content_type)
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_charset_must_be_utf8(client):
    assert post(client, {"instance": ROW}, content_type="application/json; charset=UTF-8").status_code == 200
    response = post(client, {"instance": ROW}, content_type="application/json; charset=latin-1")
    assert response.status_code == 415
    assert "latin-1" in response.get_json()["error"]["message"]


def test_no_finite_prediction_is_422_not_nan():
    client = client_serving(NotFinite)
    response = post(client, {"instances": [ROW, ROW]})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "prediction_not_finite"
    assert error["message"].startswith("instance 1: ")
