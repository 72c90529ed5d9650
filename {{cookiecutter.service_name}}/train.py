"""Train the example iris classifier and export it to ONNX, reproducibly.

    make train        # or: python train.py --output model/iris.onnx

Writes the model, its SHA-256 beside it (``iris.onnx.sha256``, checked by the
service at start-up) and the metadata the service reports (name, version,
labels, feature names), stored inside the ONNX file itself.  Running it twice
with the pinned requirements-train.txt produces byte-identical files.
"""

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

MODEL_NAME = "iris-logistic-regression"
MODEL_VERSION = "1.0.0"
# Pinned so the exported graph does not change when skl2onnx's default moves.
TARGET_OPSET = 17


def train() -> tuple[object, np.ndarray, list[str], list[str]]:
    iris = load_iris()
    features = iris.data.astype(np.float32)
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    classifier.fit(features, iris.target)
    feature_names = [name.removesuffix(" (cm)").replace(" ", "_") for name in iris.feature_names]
    return classifier, features, list(iris.target_names), feature_names


def export(classifier, features: np.ndarray, labels: list[str], feature_names: list[str]) -> bytes:
    # zipmap=False: probabilities come back as one float tensor, not a list of
    # dicts, which is what the service's batch predict expects.
    onnx_model = to_onnx(
        classifier,
        features[:1],
        target_opset=TARGET_OPSET,
        options={id(classifier.steps[-1][1]): {"zipmap": False}},
    )
    onnx_model.doc_string = "Iris species from sepal and petal length and width in cm."
    metadata = {
        "name": MODEL_NAME,
        "version": MODEL_VERSION,
        "labels": json.dumps(labels),
        "feature_names": json.dumps(feature_names),
    }
    for key, value in metadata.items():
        entry = onnx_model.metadata_props.add()
        entry.key, entry.value = key, value
    return onnx_model.SerializeToString(deterministic=True)


def check_export(serialized: bytes, classifier, features: np.ndarray) -> float:
    """Return the share of rows where ONNX Runtime agrees with scikit-learn."""
    session = ort.InferenceSession(serialized, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    onnx_labels = session.run(None, {input_name: features})[0]
    return float(np.mean(onnx_labels == classifier.predict(features)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("model/iris.onnx"))
    args = parser.parse_args()

    classifier, features, labels, feature_names = train()
    serialized = export(classifier, features, labels, feature_names)
    agreement = check_export(serialized, classifier, features)
    if agreement < 1.0:
        raise SystemExit(f"ONNX export disagrees with scikit-learn on {1 - agreement:.1%} of rows")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(serialized)
    digest = hashlib.sha256(serialized).hexdigest()
    args.output.with_name(args.output.name + ".sha256").write_text(f"{digest}  {args.output.name}\n")
    accuracy = classifier.score(features, load_iris().target)
    print(f"wrote {args.output} ({len(serialized)} bytes, sha256 {digest}); training accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
