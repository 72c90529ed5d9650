"""A bake's example (model/example.json) and the check that a server answers it."""

import json
from pathlib import Path

import pytest

from support.http import http
from support.template import DEFAULTS, TASKS, TEMPLATE


def example_of(project: Path | None = None) -> dict:
    """A bake's example (by default, the default task's): instances, the outputs they must give, the tolerance."""
    default = TEMPLATE / "{{cookiecutter.service_name}}" / ".models" / DEFAULTS["model_framework"][0] / TASKS[0]
    model_dir = project / "model" if project else default
    return json.loads((model_dir / "example.json").read_text())


def assert_serves_example(base_url: str, project: Path | None = None) -> None:
    """POST /predict with the bake's example answers its outputs, within its tolerance."""
    example = example_of(project)
    status, body = http("POST", f"{base_url}/predict", {"instances": example["instances"]})
    assert status == 200, body
    status, metadata = http("GET", f"{base_url}/metadata")
    assert status == 200, metadata
    tolerance = example["tolerance"]
    for prediction, expected in zip(body["predictions"], example["outputs"], strict=True):
        if "labels" in metadata:
            served = [prediction["probabilities"][label] for label in metadata["labels"]]
            assert prediction["label"] == metadata["labels"][expected.index(max(expected))], (prediction, expected)
        else:
            served = prediction["value"] if isinstance(prediction["value"], list) else [prediction["value"]]
        assert served == pytest.approx(expected, rel=tolerance, abs=tolerance), (prediction, expected)
