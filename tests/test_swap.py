"""Bring your own model, as the generated docs/model.md says, literally.

Each case trains a model in a data scientist's environment (its own venv from
tests/requirements-swap.txt: scikit-learn, skl2onnx, CPU torch; for a
scikit-learn bake, the bake's own venv, which has scikit-learn, skops and
pandas), runs the recipe blocks of docs/model.md verbatim in the baked
project, and then the project's own, unchanged `make test`, `make smoke`
(against a real gunicorn) and a short `make bench` must pass on the
swapped-in model.
"""

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as triton

from support.examples import assert_serves_example, example_of
from support.http import http
from support.processes import run, system_tool
from support.service import Gunicorn
from support.template import TEMPLATE

SWAP_REQUIREMENTS = TEMPLATE / "tests" / "requirements-swap.txt"

# The training code a data scientist brings: it leaves a fitted `model` (or `net`) and its rows `X`.
WINE_CLASSIFIER = """
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

X, y = load_wine(return_X_y=True)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)
"""
DIABETES_REGRESSOR = """
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor

X, y = load_diabetes(return_X_y=True)
model = RandomForestRegressor(n_estimators=20, max_depth=6, random_state=0).fit(X, y)
"""
TORCH_MLP = """
import torch
from sklearn.datasets import load_wine

torch.manual_seed(0)
data, target = load_wine(return_X_y=True)
X = (data - data.mean(axis=0)) / data.std(axis=0)
net = torch.nn.Sequential(torch.nn.Linear(13, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))  # logits out
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
inputs, labels = torch.tensor(X, dtype=torch.float32), torch.tensor(target)
for _ in range(200):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(net(inputs), labels).backward()
    optimizer.step()
"""
# (id, the task of the bake it goes into, training code, docs/model.md recipe block, what the model must look like)
CASES = [
    pytest.param("classification", WINE_CLASSIFIER, "scikit-learn (skl2onnx)", (13, 3), id="sklearn-wine-classifier"),
    pytest.param("regression", DIABETES_REGRESSOR, "scikit-learn (skl2onnx)", (10, 1), id="sklearn-diabetes-regressor"),
    pytest.param("classification", TORCH_MLP, "PyTorch (torch.onnx.export)", (13, 3), id="torch-mlp-classifier"),
]


# scikit-learn models as users fit them: on data frames (named columns, picked by name), with
# scikit-learn's own classes inside (an MLP's optimizer, a forest's trees) that skops lists as untrusted.
WINE_FRAME_MLP = """
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_wine
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

X, y = load_wine(return_X_y=True, as_frame=True)
scale = ColumnTransformer([("scaled", StandardScaler(), list(X.columns))])
model = make_pipeline(scale, MLPClassifier(hidden_layer_sizes=(16,), max_iter=2000, random_state=0)).fit(X, y)
"""
DIABETES_FRAME_FOREST = """
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import make_pipeline

X, y = load_diabetes(return_X_y=True, as_frame=True)
picked = ColumnTransformer([("kept", "passthrough", ["age", "bmi", "bp", "s5"])])
model = make_pipeline(picked, RandomForestRegressor(n_estimators=20, max_depth=6, random_state=0)).fit(X, y)
"""
SKLEARN_CASES = [
    pytest.param("classification", WINE_FRAME_MLP, (13, 3), id="sklearn-wine-frame-mlp"),
    pytest.param("regression", DIABETES_FRAME_FOREST, (10, 1), id="sklearn-diabetes-frame-forest"),
]


# A real mixed-type pipeline with missing values: palmerpenguins' table (strings, numbers, NaN), imputed,
# one-hot encoded and scaled by name; the row with no measurements and no sex first, so the example has nulls.
PENGUINS = """
import pandas as pd
from palmerpenguins import load_penguins
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

penguins = load_penguins()
penguins = pd.concat([penguins.iloc[[3]], penguins.drop(index=3)])
X, y = penguins.drop(columns=["species", "year"]), penguins["species"]
assert X[:3].isna().any(axis=None)
numbers = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
prepare = ColumnTransformer([
    ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), numbers),
    ("island", OneHotEncoder(), ["island"]),
    ("sex", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder()), ["sex"]),
])
model = make_pipeline(prepare, LogisticRegression(max_iter=1000)).fit(X, y)
"""
# A TF-IDF text classifier fitted on a list of strings (product reviews: good, bad, so-so).
REVIEWS = """
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

good = ["great product, works well", "love it, excellent value", "works perfectly, very happy", "excellent, great buy"]
bad = ["broke in a day, terrible", "awful quality, do not buy", "terrible, stopped working", "waste of money, awful"]
so_so = ["it is okay, nothing special", "average, does the job", "fine for the price, okay", "not bad, not great"]
X = [good[0], bad[0], so_so[0], *good[1:], *bad[1:], *so_so[1:]]
y = ["good", "bad", "so-so"] + ["good"] * 3 + ["bad"] * 3 + ["so-so"] * 3
model = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(X, y)
"""


@pytest.fixture(scope="session")
def data_scientist_python(tmp_path_factory) -> Path:
    """A venv with the training side's packages (CPU torch), apart from the service's."""
    venv = tmp_path_factory.mktemp("swap-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "-q", "-r", SWAP_REQUIREMENTS], timeout=1800)
    return python


def recipe(readme: str, title: str) -> str:
    """The python block of docs/model.md whose first line is ``# recipe: <title>``."""
    blocks = re.findall(r"^```python\n(# recipe: [^\n]*\n.*?)^```$", readme, re.M | re.S)
    found = [block for block in blocks if block.startswith(f"# recipe: {title}\n")]
    assert len(found) == 1, f"docs/model.md has {len(found)} recipe blocks titled {title!r}"
    return found[0]


@pytest.mark.parametrize(("task", "training", "export", "shape"), CASES)
def test_swap_by_the_readme(task, training, export, shape, bake_with_venv, data_scientist_python, tmp_path):
    project, python = bake_with_venv(task)
    readme = (project / "docs" / "model.md").read_text()
    script = training + recipe(readme, export) + recipe(readme, "example, metadata and checksum")
    swap_and_check(project, python, data_scientist_python, script, shape, tmp_path)


@pytest.mark.parametrize(("task", "training", "shape"), SKLEARN_CASES)
def test_sklearn_swap_by_the_readme(task, training, shape, bake_with_venv, tmp_path):
    project, python = bake_with_venv(task, model_framework="sklearn", include_gpu="no")
    script = training + recipe((project / "docs" / "model.md").read_text(), "scikit-learn")
    swap_and_check(project, python, python, script, shape, tmp_path)


def swap_and_check(
    project: Path,
    python: Path,
    training_python: Path,
    script: str,
    shape: tuple,
    tmp_path: Path,
    served: Callable[[str], None] = lambda base: None,
):
    """Run ``script`` (training and recipes) in ``project``; its own make test, smoke and bench pass on the model.

    ``served(base)`` checks more of the service while gunicorn serves the swapped model at ``base``.
    """
    system_tool("wrk")  # make bench's load generator
    shipped = tmp_path / "shipped-model"
    shutil.copytree(project / "model", shipped)
    try:
        (tmp_path / "bring_my_model.py").write_text(script)
        run([training_python, tmp_path / "bring_my_model.py"], cwd=project, timeout=600)
        example = example_of(project)
        first = example["instances"][0]
        assert (1 if isinstance(first, str) else len(first), len(example["outputs"][0])) == shape

        tests = run(["make", "--no-print-directory", "test"], cwd=project, check=False, timeout=900)
        assert tests.returncode == 0 and " passed" in tests.stdout, tests.stdout[-5000:] + tests.stderr
        assert " skipped" not in tests.stdout, tests.stdout[-3000:]  # every test of the bake ran on the model
        with Gunicorn(project, python, tmp_path) as server:
            server.wait_ready()
            assert_serves_example(server.base, project)
            smoke = run(["make", "--no-print-directory", "smoke", f"PORT={server.port}"], cwd=project, check=False)
            assert smoke.returncode == 0, smoke.stdout + smoke.stderr
            served(server.base)
        bench_flags = "BENCH_FLAGS=--workers 1 --rounds 2 --duration 1 --warmup 0 --batch 8"
        bench = run(["make", "--no-print-directory", "bench", bench_flags], cwd=project, check=False, timeout=300)
        assert bench.returncode == 0, bench.stdout[-3000:] + bench.stderr
        print(
            f"\n{project.name}: make test, make smoke and make bench pass on the swapped model\n{bench.stdout[-600:]}"
        )
    finally:  # the bake is shared by the session: put its own model back
        shutil.rmtree(project / "model")
        shutil.copytree(shipped, project / "model")


def test_sklearn_mixed_pipeline_with_missing_values_swaps_in(bake_with_venv, tmp_path):
    """palmerpenguins' pipeline in the bake: its own make test, smoke and bench pass; both APIs take named rows.

    Under gunicorn: rows as objects with nulls get the pipeline's answers, V2's one input per column the
    same, bad rows a JSON 400 naming the field and the rule.
    """
    project, python = bake_with_venv("classification", model_framework="sklearn", include_gpu="no")
    pin = next(line for line in SWAP_REQUIREMENTS.read_text().splitlines() if line.startswith("palmerpenguins=="))
    run([python, "-m", "pip", "install", "-q", pin], timeout=600)

    def named_rows(base: str) -> None:
        example = example_of(project)
        good = example["instances"][0]
        status, metadata = http("GET", f"{base}/metadata")
        assert status == 200, metadata
        assert metadata["columns"][0] == {
            "name": "island",
            "type": "string",
            "nullable": False,
            "enum": ["Biscoe", "Dream", "Torgersen"],
        }
        assert {column["name"]: column["nullable"] for column in metadata["columns"]}["sex"] is True
        shuffled = [dict(reversed(list(row.items()))) for row in example["instances"]]  # key order does not matter
        status, body = http("POST", f"{base}/predict", {"instances": shuffled})
        assert status == 200, body
        native = [
            [prediction["probabilities"][label] for label in metadata["labels"]] for prediction in body["predictions"]
        ]
        for served, expected in zip(native, example["outputs"], strict=True):
            assert served == pytest.approx(expected, rel=1e-4, abs=1e-4)
        bad = {
            "instances[2].island: 'Atlantis' is not one of Biscoe, Dream, Torgersen": [
                good,
                good,
                good | {"island": "Atlantis"},
            ],
            "instances[0]: missing column 'sex'": [{k: v for k, v in good.items() if k != "sex"}],
            "instances[0]: unknown column 'colour'": [good | {"colour": "red"}],
            "instances[1].island: null is not allowed": [good, good | {"island": None}],
        }
        for message, rows in bad.items():
            status, body = http("POST", f"{base}/predict", {"instances": rows})
            assert (status, body["error"]["code"], body["error"]["message"]) == (400, "invalid_row", message), body
        # V2: one input per column, as MLServer's and KServe's "pd" content type sends a table.
        status, v2_model = http("GET", f"{base}/v2/models/{metadata['name']}")
        assert [(t["name"], t["datatype"]) for t in v2_model["inputs"]][:2] == [
            ("island", "BYTES"),
            ("bill_length_mm", "FP64"),
        ]
        inputs = [
            {
                "name": t["name"],
                "datatype": t["datatype"],
                "shape": [3],
                "data": [row[t["name"]] for row in example["instances"]],
            }
            for t in v2_model["inputs"]
        ]
        status, body = http(
            "POST",
            f"{base}/v2/models/{metadata['name']}/infer",
            {"parameters": {"content_type": "pd"}, "inputs": inputs},
        )
        assert status == 200, body
        assert body["outputs"][0]["data"] == pytest.approx([p for row in native for p in row], rel=1e-6)
        # tritonclient, the usual V2 client, in JSON and in binary (its BYTES elements length-prefixed);
        # the rows without a null string, which the binary form cannot carry (a null number is a NaN).
        client = triton.InferenceServerClient(base.removeprefix("http://"))
        complete = example["instances"][1:]
        for binary in (False, True):
            tensors = []
            for spec in v2_model["inputs"]:
                values = [row[spec["name"]] for row in complete]
                if spec["datatype"] == "BYTES":
                    array = np.array([value.encode() for value in values], dtype=np.object_)
                else:
                    array = np.array([np.nan if value is None else value for value in values], dtype=np.float64)
                tensor = triton.InferInput(spec["name"], [len(complete)], spec["datatype"])
                tensor.set_data_from_numpy(array, binary_data=binary)
                tensors.append(tensor)
            result = client.infer(metadata["name"], tensors)
            np.testing.assert_allclose(result.as_numpy("probabilities"), native[1:], rtol=1e-5, atol=1e-7)
        status, document = http("GET", f"{base}/openapi.json")
        row = document["components"]["schemas"]["PredictRequest"]["properties"]["instances"]["items"]
        assert row["properties"]["bill_length_mm"] == {"type": ["number", "null"]}
        assert (
            document["components"]["schemas"]["PredictRequest"]["examples"][0]["instances"] == example["instances"][:2]
        )

    script = PENGUINS + recipe((project / "docs" / "model.md").read_text(), "scikit-learn")
    swap_and_check(project, python, python, script, (6, 3), tmp_path, served=named_rows)


def test_sklearn_text_classifier_swaps_in(bake_with_venv, tmp_path):
    """A TF-IDF pipeline by the recipe: the bake's own make test, smoke and bench pass; texts alone are rows."""
    project, python = bake_with_venv("classification", model_framework="sklearn", include_gpu="no")

    def texts(base: str) -> None:
        status, metadata = http("GET", f"{base}/metadata")
        assert metadata["columns"] == [{"name": "text", "type": "string", "nullable": False}], metadata
        status, body = http("POST", f"{base}/predict", {"instances": ["excellent, works great", "awful, broke"]})
        assert status == 200, body
        assert [prediction["label"] for prediction in body["predictions"]] == ["good", "bad"]
        tensor = {"name": "text", "datatype": "BYTES", "shape": [2], "data": ["excellent, works great", "awful, broke"]}
        status, v2 = http("POST", f"{base}/v2/models/{metadata['name']}/infer", {"inputs": [tensor]})
        assert status == 200, v2
        probabilities = [[p["probabilities"][label] for label in metadata["labels"]] for p in body["predictions"]]
        assert v2["outputs"][0]["data"] == pytest.approx([p for row in probabilities for p in row], rel=1e-6)

    script = REVIEWS + recipe((project / "docs" / "model.md").read_text(), "scikit-learn")
    swap_and_check(project, python, python, script, (1, 3), tmp_path, served=texts)
