"""Preprocessing (service/inference/processing.py): both APIs send every batch through it."""

import numpy as np

from service.inference import processing
from support.app import make_client
from support.model import EXAMPLE, v2_inputs


def test_both_apis_preprocess_and_postprocess(monkeypatch):
    seen = []

    def preprocess(batch: np.ndarray) -> np.ndarray:
        seen.append(("pre", batch.shape))
        return batch

    def postprocess(outputs: np.ndarray) -> np.ndarray:
        seen.append(("post", outputs.shape))
        return outputs

    monkeypatch.setattr(processing, "preprocess", preprocess)
    monkeypatch.setattr(processing, "postprocess", postprocess)
    client = make_client()
    rows = EXAMPLE.instances
    assert client.post("/predict", json={"instances": rows}).status_code == 200
    name = client.get("/metadata").get_json()["name"]
    assert client.post(f"/v2/models/{name}/infer", json={"inputs": v2_inputs(rows)}).status_code == 200
    width = len(EXAMPLE.outputs[0])
    assert [step for step, _ in seen] == ["pre", "post", "pre", "post"]
    assert {shape for step, shape in seen if step == "post"} == {(len(rows), width)}


def test_postprocess_changes_what_both_apis_answer(monkeypatch):
    monkeypatch.setattr(processing, "postprocess", lambda outputs: np.full_like(outputs, 0.5))
    client = make_client()
    rows = EXAMPLE.instances[:1]
    predictions = client.post("/predict", json={"instances": rows}).get_json()["predictions"]
    values = predictions[0].get("probabilities", {"value": predictions[0].get("value")})
    assert set(np.ravel(list(values.values()))) == {0.5}
    name = client.get("/metadata").get_json()["name"]
    outputs = client.post(f"/v2/models/{name}/infer", json={"inputs": v2_inputs(rows)}).get_json()["outputs"]
    assert set(outputs[0]["data"]) == {0.5}


def test_a_non_finite_postprocessed_row_is_a_422_naming_it(monkeypatch):
    def nan_in_second_row(outputs: np.ndarray) -> np.ndarray:
        outputs = outputs.copy()
        outputs[1] = np.nan
        return outputs

    monkeypatch.setattr(processing, "postprocess", nan_in_second_row)
    response = make_client().post("/predict", json={"instances": EXAMPLE.instances[:2]})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["message"].startswith("instance 1: ")
