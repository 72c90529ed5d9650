{%- set classification = cookiecutter.task == "classification" -%}
"""From the model's output rows to the API's predictions (schemas.Prediction)."""

import numpy as np

{%- if classification %}


def to_predictions(outputs: np.ndarray, labels: tuple[str, ...]) -> list[dict]:
    """Class probabilities, (n, n_classes), to one {label, probabilities} per row."""
    best = outputs.argmax(axis=1).tolist()
    return [
        {"label": labels[index], "probabilities": dict(zip(labels, row, strict=True))}
        for index, row in zip(best, outputs.tolist(), strict=True)
    ]
{%- else %}


def to_predictions(outputs: np.ndarray, labels: tuple[str, ...] = ()) -> list[dict]:
    """Values, (n, n_targets), to one {value} per row: a number, or a list for several targets."""
    if outputs.shape[1] == 1:
        return [{"value": value} for value in outputs[:, 0].tolist()]
    return [{"value": row} for row in outputs.tolist()]
{%- endif %}


def first_not_finite(outputs: np.ndarray) -> int | None:
    """The index of the first row with NaN or infinity (None if all are finite)."""
    finite = np.isfinite(outputs)
    if finite.all():  # the usual case: one pass, no per-row reduction
        return None
    return int(finite.all(axis=1).argmin())
