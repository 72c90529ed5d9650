"""A response held to the app's OpenAPI document: a status it lists, a body its schema accepts."""

import jsonschema


def assert_documented(document: dict, method: str, path: str, response) -> None:
    """``response`` has a status the document lists for this operation, and a body its schema accepts."""
    operation = document["paths"][path][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method} {path} answered an undocumented {response.status_code}"
    media_type = response.mimetype
    content = documented["content"][media_type]
    # Text and binary bodies alike are strings to the schema (latin-1 decodes any bytes).
    body = response.get_json() if media_type == "application/json" else response.get_data().decode("latin-1")
    schema = {**content["schema"], "components": document["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)
