{%- set classification = cookiecutter.task == "classification" -%}
"""PyTorch specifics: TorchScript only (no pickled code runs), threads, and the logits/probabilities choice."""
{% if classification %}
import json

import numpy as np
{%- endif %}
import pytest
import torch
from conftest import EXAMPLE, MODEL, make_client

from model import load_model
from model_contract import ModelLoadError

WIDTH = len(EXAMPLE.instances[0])
OUTPUTS = {% if classification %}3{% else %}1{% endif %}


class Payload:
    """Pickling this runs code on load: it would create the file named ``marker``."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_is_refused_without_running_it(tmp_path):
    path, marker = tmp_path / "model.pt", tmp_path / "ran"
    torch.save({"weights": torch.zeros(2), "payload": Payload(str(marker))}, path)
    with pytest.raises(ModelLoadError, match="not a loadable TorchScript module"):
        load_model(path)
    assert not marker.exists()
    response = make_client(model_path=path).get("/readyz")
    assert response.status_code == 503 and "TorchScript" in response.get_json()["reason"]


def test_model_threads_sets_torch_threads():
    load_model(MODEL, threads=2)
    assert torch.get_num_threads() == 2
    load_model(MODEL, threads=1)
    assert torch.get_num_threads() == 1
{%- if classification %}


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")  # see torch_model.py
def test_a_module_that_outputs_probabilities_says_so(tmp_path):
    """metadata.json's "scores": "probabilities" stops a second softmax."""
    module = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(WIDTH, OUTPUTS), torch.nn.Softmax(dim=1)))
    path = tmp_path / "model.pt"
    torch.jit.save(module, str(path))
    batch = np.array(EXAMPLE.instances, dtype=np.float32)
    with torch.inference_mode():
        expected = module(torch.from_numpy(batch)).numpy()
    (tmp_path / "metadata.json").write_text(json.dumps({"scores": "probabilities"}))
    np.testing.assert_allclose(load_model(path)[0].predict(batch), expected, rtol=1e-6)
{%- endif %}
