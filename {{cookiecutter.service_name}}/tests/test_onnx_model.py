"""The usual export mistakes and converter shapes, each on a small hand-built ONNX graph.

A mistake the service cannot serve is refused at load with one line that
says the fix, on /readyz (503); one it can serve (float64 inputs, ZipMap)
loads with a warning.  No IndexError or AttributeError ever reaches a caller.
"""

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from service.inference.contract import ModelLoadError
from service.inference.loader import load_model
from support.app import make_client

WIDTH, CLASSES = 4, 3


def save(directory, nodes, inputs, outputs, weights=(), metadata=None):
    """A model.onnx (no checksum) from ``nodes``, and metadata.json when given."""
    graph = helper.make_graph(nodes, "test", inputs, outputs, initializer=list(weights))
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)], ir_version=8
    )
    onnx.checker.check_model(model)
    path = directory / "model.onnx"
    path.write_bytes(model.SerializeToString())
    if metadata is not None:
        (directory / "metadata.json").write_text(json.dumps(metadata))
    return path


def dense(directory, width=WIDTH, out=CLASSES, dtype=np.float32, input_width=WIDTH, softmax=False, **kwargs):
    """input (batch, input_width) @ W (width, out) -> scores, optionally through a Softmax node."""
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    weights = numpy_helper.from_array(np.arange(width * out, dtype=dtype).reshape(width, out) / 10, "W")
    nodes = [helper.make_node("MatMul", ["input", "W"], ["logits" if softmax else "scores"])]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["logits"], ["scores"], axis=1))
    return save(
        directory,
        nodes,
        [helper.make_tensor_value_info("input", elem, [None, input_width])],
        [helper.make_tensor_value_info("scores", elem, [None, out])],
        [weights],
        **kwargs,
    )


def zipmap(directory):
    """skl2onnx's default classifier outputs: a label and a list of {label: probability} maps."""
    labels = ["a", "b", "c"]
    weights = numpy_helper.from_array(np.eye(WIDTH, CLASSES, dtype=np.float32), "W")
    nodes = [
        helper.make_node("MatMul", ["input", "W"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
        helper.make_node(
            "ZipMap", ["probabilities"], ["output_probability"], domain="ai.onnx.ml", classlabels_strings=labels
        ),
    ]
    maps = helper.make_sequence_type_proto(
        helper.make_map_type_proto(TensorProto.STRING, helper.make_tensor_type_proto(TensorProto.FLOAT, []))
    )
    return save(
        directory,
        nodes,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, WIDTH])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_value_info("output_probability", maps),
        ],
        [weights],
    )


def refused(path) -> str:
    with pytest.raises(ModelLoadError) as error:
        load_model(path)
    client = make_client(model_path=path)
    readyz = client.get("/readyz")
    assert readyz.status_code == 503 and readyz.get_json()["reason"] == error.value.reason
    assert str(path.parent) not in error.value.reason
    return error.value.reason


def test_dynamic_input_width_is_refused(tmp_path):
    reason = refused(dense(tmp_path, input_width="features"))
    assert "dynamic width" in reason and "fixed number of features" in reason


def test_two_inputs_are_refused(tmp_path):
    nodes = [helper.make_node("Add", ["a", "b"], ["scores"])]
    spec = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, WIDTH]) for name in ("a", "b")]
    path = save(tmp_path, nodes, spec, [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, WIDTH])])
    assert "has 2 inputs (a, b)" in refused(path)


def test_outputs_that_fit_no_task_are_refused(tmp_path):
    nodes = [helper.make_node("ArgMax", ["input"], ["label"], axis=1, keepdims=0)]
    path = save(
        tmp_path,
        nodes,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, WIDTH])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, [None])],
    )
    assert "label: tensor(int64)" in refused(path)


def test_float64_input_is_cast_with_a_warning(tmp_path, caplog):
    model, _ = load_model(dense(tmp_path, dtype=np.float64, out={% if cookiecutter.task == "classification" %}CLASSES{% else %}1{% endif %}))
    assert "float64" in caplog.text and "export float32" in caplog.text
    outputs = model.predict(np.ones((2, WIDTH), dtype=np.float32))
    assert outputs.shape[0] == 2 and np.isfinite(outputs).all()

{%- if cookiecutter.task == "classification" %}


def test_label_count_differing_from_the_probability_width_is_refused(tmp_path):
    path = dense(tmp_path, softmax=True, metadata={"labels": ["only", "two"]})
    assert refused(path) == "metadata.json lists 2 labels but the model gives 3 class scores"


def test_a_regressor_is_refused_by_a_classification_service(tmp_path):
    assert "task=regression" in refused(dense(tmp_path, out=1))


def test_zipmap_output_is_served_with_a_warning(tmp_path, caplog):
    model, _ = load_model(zipmap(tmp_path))
    assert "zipmap" in caplog.text
    assert model.metadata.labels == ("a", "b", "c")  # read from the graph
    outputs = model.predict(np.eye(2, WIDTH, dtype=np.float32))
    assert outputs.shape == (2, CLASSES) and outputs.sum(axis=1) == pytest.approx([1, 1], abs=1e-6)


def test_logits_get_a_softmax_and_a_softmax_output_is_kept(tmp_path):
    (tmp_path / "logits").mkdir()
    (tmp_path / "softmax").mkdir()
    batch = np.ones((1, WIDTH), dtype=np.float32)
    from_logits = load_model(dense(tmp_path / "logits"))[0].predict(batch)
    from_softmax = load_model(dense(tmp_path / "softmax", softmax=True))[0].predict(batch)
    assert from_logits.sum() == pytest.approx(1, abs=1e-6)
    np.testing.assert_allclose(from_logits, from_softmax, rtol=1e-6)
{%- else %}


def test_a_classifier_is_refused_by_a_regression_service(tmp_path):
    assert "task=classification" in refused(zipmap(tmp_path))


def test_several_targets_answer_a_list(tmp_path):
    path = dense(tmp_path, out=2)
    client = make_client(model_path=path)
    response = client.post("/predict", json={"instance": [1.0] * WIDTH})
    assert response.status_code == 200
    assert len(response.get_json()["predictions"][0]["value"]) == 2
{%- endif %}
