"""The example beside the model (``model/example.json``): the one source of sample inputs.

    {"instances": [[...], ...], "outputs": [[...], ...], "tolerance": 0.0001}

``instances`` are a few input rows; ``outputs`` what the model must give for
them (the rows of ``predict()``: class probabilities, or regression values),
computed by the framework the model was trained in; ``tolerance`` how far the
served outputs may be from them (absolute and relative).  tools/train.py writes
it; when you swap the model, write yours (see docs/model.md).  The tests,
``make smoke``, ``make bench`` and the OpenAPI examples all read it:

    python3 service/inference/example.py model/{{ cookiecutter._frameworks[cookiecutter.model_framework].artifact }}    # {"instances": [...]}: make smoke's body (standard library only)
"""

import json
import sys
from dataclasses import dataclass
from pathlib import Path

EXAMPLE_FILE = "example.json"


@dataclass(frozen=True)
class Example:
    instances: list[list[float]]
    outputs: list[list[float]]
    tolerance: float

    def request(self, rows: int | None = None) -> dict:
        """A /predict body with the first ``rows`` instances (all by default)."""
        return {"instances": self.instances[:rows]}


class ExampleError(ValueError):
    """example.json is missing or malformed: the message names the file and the problem."""


def read_example(model_path: Path) -> Example:
    """The example beside ``model_path``."""
    path = Path(model_path).with_name(EXAMPLE_FILE)
    try:
        data = json.loads(path.read_text())
        instances, outputs, tolerance = data["instances"], data["outputs"], float(data["tolerance"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ExampleError(f"{path}: {type(error).__name__}: {error}") from None
    # A regressor's single values may be written flat: [1.5, 2.5] for [[1.5], [2.5]].
    outputs = [row if isinstance(row, list) else [row] for row in outputs]
    if not instances or len(instances) != len(outputs):
        raise ExampleError(f"{path}: needs instances and as many outputs ({len(instances)} and {len(outputs)})")
    return Example(instances, outputs, tolerance)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(
            "usage: python3 service/inference/example.py MODEL_PATH  (prints a /predict body with its example's instances)"
        )
    try:
        print(json.dumps(read_example(Path(sys.argv[1])).request()))
    except ExampleError as error:
        raise SystemExit(f"example: {error}") from None
