"""A model heavy enough for micro-batching to matter: an MLP classifier in ONNX.

``python mlp_model.py DIR [--hidden 4096]`` writes DIR/model.onnx (4 iris
features -> two ReLU layers of HIDDEN units -> softmax over 3 classes, random
float32 weights, built with onnx's helper API), its .sha256, metadata.json and
example.json, the files a generated service reads beside its model.  Run it
with the service's Python (it needs numpy, onnx and onnxruntime).
"""

import argparse
import hashlib
import itertools
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
LABELS = ["setosa", "versicolor", "virginica"]
INSTANCES = [[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.7, 3.0, 5.2, 2.3]]


def build(hidden: int, seed: int = 0) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    widths = [len(FEATURES), hidden, hidden, len(LABELS)]
    nodes, weights, current = [], [], "input"
    for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        w = (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)).astype(np.float32)
        b = np.zeros(fan_out, dtype=np.float32)
        weights += [numpy_helper.from_array(w, f"w{layer}"), numpy_helper.from_array(b, f"b{layer}")]
        nodes.append(helper.make_node("Gemm", [current, f"w{layer}", f"b{layer}"], [f"z{layer}"]))
        current = f"z{layer}"
        if layer < len(widths) - 2:
            nodes.append(helper.make_node("Relu", [current], [f"a{layer}"]))
            current = f"a{layer}"
    nodes.append(helper.make_node("Softmax", [current], ["probabilities"], axis=1))
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, len(FEATURES)])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, len(LABELS)])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="benchmarks")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write(directory: Path, hidden: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "model.onnx"
    path.write_bytes(build(hidden).SerializeToString())
    path.with_name("model.onnx.sha256").write_text(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  model.onnx\n")
    outputs = ort.InferenceSession(str(path)).run(None, {"input": np.array(INSTANCES, dtype=np.float32)})[0]
    (directory / "metadata.json").write_text(
        json.dumps({"name": f"mlp-{hidden}", "version": "1", "feature_names": FEATURES, "labels": LABELS})
    )
    example = {"instances": INSTANCES, "outputs": outputs.tolist(), "tolerance": 1e-4}
    (directory / "example.json").write_text(json.dumps(example))
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--hidden", type=int, default=4096, help="units per hidden layer (4096)")
    args = parser.parse_args()
    print(write(args.directory, args.hidden))
