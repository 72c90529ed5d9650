{%- set classification = cookiecutter.task == "classification" -%}
"""Train the example {{ cookiecutter.task }} model and export it to ONNX, reproducibly.

    make train        # or: python train.py --output model/model.onnx [--force]

Writes the model and, beside it, its SHA-256 (``model.onnx.sha256``, checked
by the service at start-up), ``metadata.json`` (name, version, task, feature
names{% if classification %}, class labels{% endif %}) and ``example.json``: a few input rows and the
outputs scikit-learn gives for them, which the tests, ``make smoke``,
``make bench`` and the OpenAPI examples use.  Running it twice with the
pinned requirements-train.txt produces byte-identical files.  It refuses to
replace a model file it did not make (your own) unless given ``--force``.
"""

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
{%- if classification %}
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
{%- else %}
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
{%- endif %}
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

{%- if classification %}

NAME = "iris-logistic-regression"
# Rows of the data set sent as the example: one flower of each species.
EXAMPLE_ROWS = (0, 51, 145)
{%- else %}

NAME = "diabetes-ridge-regression"
# Rows of the data set sent as the example.
EXAMPLE_ROWS = (0, 1, 2)
{%- endif %}
VERSION = "1.0.0"
# Pinned so the exported graph does not change when skl2onnx's default moves.
TARGET_OPSET = 17
# How far the served outputs may be from scikit-learn's (float32 arithmetic in ONNX Runtime).
TOLERANCE = 1e-4


def train():
    """The fitted pipeline, the data set's rows (float64, as published), and the metadata the service reports."""
{%- if classification %}
    data = load_iris()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    feature_names = [name.removesuffix(" (cm)").replace(" ", "_") for name in data.feature_names]
    extra = {"labels": [str(name) for name in data.target_names]}
{%- else %}
    data = load_diabetes(scaled=False)  # the measurements as recorded (age in years, ...)
    model = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
    feature_names = list(data.feature_names)
    extra = {}
{%- endif %}
    model.fit(data.data.astype(np.float32), data.target)
    metadata = {"name": NAME, "version": VERSION, "task": "{{ cookiecutter.task }}", "feature_names": feature_names, **extra}
    return model, data.data, metadata


def outputs(model, rows: np.ndarray) -> np.ndarray:
    """What the service's predict() must give for ``rows``: {% if classification %}class probabilities{% else %}one value per row{% endif %}."""
{%- if classification %}
    return model.predict_proba(rows)
{%- else %}
    return model.predict(rows).reshape(len(rows), -1)
{%- endif %}


def export(model, features: np.ndarray) -> bytes:
{%- if classification %}
    # zipmap=False: probabilities come back as one float tensor, not a list of
    # maps, which the service reads without a Python loop per row.
    options = {id(model.steps[-1][1]): {"zipmap": False}}
    onnx_model = to_onnx(model, features[:1], target_opset=TARGET_OPSET, options=options)
{%- else %}
    onnx_model = to_onnx(model, features[:1], target_opset=TARGET_OPSET)
{%- endif %}
    return onnx_model.SerializeToString(deterministic=True)


def check_export(serialized: bytes, model, features: np.ndarray) -> float:
    """The largest difference between ONNX Runtime's and scikit-learn's outputs over the data set."""
    session = ort.InferenceSession(serialized, providers=["CPUExecutionProvider"])
    served = session.run(None, {session.get_inputs()[0].name: features})[-1]
    return float(np.max(np.abs(served.reshape(len(features), -1) - outputs(model, features))))


def one_row_per_line(example: dict) -> str:
    """example.json, readable: one instance or output per line."""
    fields = []
    for key, value in example.items():
        if isinstance(value, list):
            value = "[\n" + ",\n".join(f"    {json.dumps(row)}" for row in value) + "\n  ]"
        else:
            value = json.dumps(value)
        fields.append(f"  {json.dumps(key)}: {value}")
    return "{\n" + ",\n".join(fields) + "\n}\n"


def write_refusing_foreign(path: Path, data: bytes, force: bool) -> None:
    """Write ``data`` to ``path``, unless ``path`` holds something else and ``force`` is off."""
    if path.exists() and path.read_bytes() != data and not force:
        raise SystemExit(
            f"train.py: {path} exists and is not the model this script makes (your own?); nothing written.\n"
            "  Keep it and train elsewhere: make train MODEL_FILE=model/example-model.onnx\n"
            "  or replace it:               make train FORCE=1"
        )
    path.write_bytes(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("model/model.onnx"))
    parser.add_argument("--force", action="store_true", help="replace a model file train.py did not make")
    args = parser.parse_args()

    model, raw_rows, metadata = train()
    features = raw_rows.astype(np.float32)
    serialized = export(model, features)
    difference = check_export(serialized, model, features)
    if difference > TOLERANCE:
        raise SystemExit(f"ONNX export differs from scikit-learn by {difference:.2g} (over {TOLERANCE})")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_refusing_foreign(args.output, serialized, args.force)
    digest = hashlib.sha256(serialized).hexdigest()
    args.output.with_name(args.output.name + ".sha256").write_text(f"{digest}  {args.output.name}\n")
    args.output.with_name("metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    rows = raw_rows[list(EXAMPLE_ROWS)]
    example = {
        "instances": rows.tolist(),
        "outputs": outputs(model, rows.astype(np.float32)).tolist(),
        "tolerance": TOLERANCE,
    }
    args.output.with_name("example.json").write_text(one_row_per_line(example))
    print(f"wrote {args.output} ({len(serialized)} bytes, sha256 {digest}), metadata.json and example.json")


if __name__ == "__main__":
    main()
