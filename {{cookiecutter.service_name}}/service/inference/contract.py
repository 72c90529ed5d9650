"""The model contract: what the service needs from a model, whatever its framework.

To serve your own model you replace one of two things:

{%- set framework = cookiecutter._frameworks[cookiecutter.model_framework] %}
* **the model file** (the usual case): drop yours in ``model/{{ framework.artifact }}``
  with its example (``model/example.json``) and, optionally, ``model/metadata.json``;
  ``{{ framework.module }}.py`` reads everything else from the model (see the README's
  "Bring your own model").
* **the adapter** (another runtime): write a class with the members below
  in its own module in this package and import it in ``loader.py`` (the
  template ships one for ONNX Runtime, scikit-learn, XGBoost and PyTorch).

Inputs are changed before ``predict`` and outputs after it in
``processing.py``, not here: an adapter only runs the model.

A ``Model`` has:

``load(path, declared, settings) -> Model`` (a classmethod)
    Called once per process before any request: in the gunicorn master when
    PRELOAD is on (the workers then share its memory), otherwise in each
    worker.  ``declared`` is what ``metadata.json`` beside the model says
    (it overrides what the adapter infers) and the task the service was
    generated for; ``settings`` the service's settings (``model_threads``
    and the adapter's own, e.g. ``model_trusted_types``).  Raises
    ``ModelLoadError`` with a one-line reason that tells the fix (it is
    logged and shown on ``/readyz``); never anything else.
``predict(batch) -> np.ndarray``
    ``batch`` is a float32 array of shape ``(n, n_features)``, already
    validated (finite, float32 range, the right width); for a model whose
    ``metadata.columns`` are of several types (``metadata.tabular``, only
    adapters that take tables), an object array ``(n, n_columns)`` decoded by
    columns.py.  Returns a 2-D float
    array with one row per instance, in order:

    * classification: class probabilities, ``(n, len(metadata.labels))``,
      columns in the order of ``metadata.labels``;
    * regression: predicted values, ``(n, n_targets)``.

    It may return NaN or infinity for inputs far outside the training data
    (the API answers 422 for such rows).  It must be safe to call from
    several threads at once.
``metadata``
    A ``ModelMetadata``: name, version, task, feature names, class labels
    (classification) and the input and output tensors as the KServe V2 /
    Open Inference Protocol model-metadata endpoint describes them;
    ``describe`` below builds it from one warm-up prediction.
``threads_survive_fork`` (a class attribute)
    False if the runtime's threads stay in the process that loaded the model
    (ONNX Runtime starts a session's pool with the session): then a model
    with MODEL_THREADS other than 1 is loaded in each worker, not preloaded.
"""

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.project import Task
from service.settings import Settings

TASKS: tuple[Task, ...] = ("classification", "regression")
# The largest finite float32, the type of predict()'s input: both APIs refuse values beyond it.
FLOAT32_MAX = float(np.finfo(np.float32).max)


class ModelLoadError(RuntimeError):
    """The model cannot be served.

    ``str(error)`` names the file and the reason, for the log; ``reason``
    alone is what HTTP responses may show (no file paths leave the service).
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason


ColumnType = Literal["number", "integer", "string", "boolean"]
Value = str | int | float | bool
# The V2 datatypes a column of each type may be declared as; the first is the default. Clients may
# send a number column in any numeric datatype (service/v2/tables.py): this is what metadata lists.
V2_DATATYPES: dict[str, tuple[str, ...]] = {
    "number": ("FP64", "FP32", "FP16"),
    "integer": ("INT64", "INT32", "INT16", "INT8", "UINT64", "UINT32", "UINT16", "UINT8"),
    "string": ("BYTES",),
    "boolean": ("BOOL",),
}


class Column(BaseModel):
    """One named input column: its type, whether it may be null, its allowed values or range."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    type: ColumnType = "number"
    nullable: bool = False
    enum: tuple[Value, ...] | None = Field(None, min_length=1, description="The only values allowed.")
    minimum: float | None = None
    maximum: float | None = None
    datatype: str | None = Field(
        None, description="Its V2 input's datatype in V2 model metadata, for a table of several types."
    )

    @model_validator(mode="after")
    def fits_its_type(self) -> "Column":
        if self.datatype is not None and self.datatype not in V2_DATATYPES[self.type]:
            raise ValueError(
                f"column {self.name!r}: datatype {self.datatype} is not one for a {self.type} column "
                f"({', '.join(V2_DATATYPES[self.type])})"
            )
        if (self.minimum is not None or self.maximum is not None) and self.type not in ("number", "integer"):
            raise ValueError(f"column {self.name!r}: minimum and maximum are for number and integer columns")
        for value in self.enum or ():
            if not is_type(value, self.type):
                article = "an" if self.type == "integer" else "a"
                raise ValueError(f"column {self.name!r}: enum value {value!r} is not {article} {self.type}")
        return self

    @property
    def v2_datatype(self) -> str:
        """The V2 datatype of its tensor: the declared one, else FP64, INT64, BYTES or BOOL."""
        return self.datatype or V2_DATATYPES[self.type][0]

    @property
    def plain_number(self) -> bool:
        """A number that any finite float32 fills: what positional rows carry."""
        return (
            self.type == "number"
            and not self.nullable
            and self.enum is None
            and self.minimum is None
            and self.maximum is None
        )

    def sample(self) -> Value:
        """A valid value, for the warm-up row: the first allowed one, else zero (or the minimum)."""
        if self.enum:
            return self.enum[0]
        if self.type == "string":
            return ""
        if self.type == "boolean":
            return False
        value = 0 if self.type == "integer" else 0.0
        if self.minimum is not None:
            value = max(value, self.minimum)
        if self.maximum is not None:
            value = min(value, self.maximum)
        return value


def numeric(columns: tuple[Column, ...]) -> bool:
    """Whether every column is a plain number: the model takes a float32 array, and positional rows."""
    return all(column.plain_number for column in columns)


def is_type(value: object, kind: str) -> bool:
    """Whether a JSON value is of a column type (``true`` is no number, ``3.0`` is an integer)."""
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):  # JSON true is not the number 1
        return False
    if kind == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    return isinstance(value, (int, float))


@dataclass(frozen=True)
class TensorSpec:
    """One named tensor, as V2's model metadata lists it."""

    name: str
    datatype: str  # V2 datatype: "FP32", "FP64", "INT64", "BYTES", ...
    shape: tuple[int, ...]  # -1 for a dimension of any size (the batch)


@dataclass(frozen=True)
class ModelMetadata:
    name: str
    version: str
    task: Task
    feature_names: tuple[str, ...]
    # Classification: one label per probability column.  Regression: empty.
    labels: tuple[str, ...]
    # The V2 tensors of predict()'s input and output: ("input", FP32, (-1, n_features)),
    # or one (name, datatype, (-1,)) per column of a table of several types;
    # and ("probabilities" | "values", FP32, (-1, width)).
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    platform: str  # what runs it, e.g. "onnxruntime", "scikit-learn", "xgboost", "pytorch"
    # The named input columns, in order, as rows sent as objects fill them
    # (service/inference/columns.py); plain numbers named feature_names unless the model says more.
    columns: tuple[Column, ...] = ()

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    @functools.cached_property
    def tabular(self) -> bool:
        """Whether the model takes a table of several types (rows as objects only), not plain numbers."""
        return not numeric(self.columns)

    @property
    def text(self) -> bool:
        """Whether the model takes one string column: then a row may be the string alone."""
        return len(self.columns) == 1 and self.columns[0].type == "string"

    @property
    def n_outputs(self) -> int:
        """Columns of predict()'s result: classes, or regression targets."""
        return self.outputs[0].shape[1]


@dataclass(frozen=True)
class DeclaredMetadata:
    """What ``metadata.json`` beside the model declares; None where it is silent.

    ``task`` is always set: the file's, or the task the service was generated for.
    ``scores`` says whether a classifier's float output holds probabilities
    or logits (softmax is applied to logits); None lets the adapter decide.
    """

    task: Task
    name: str | None = None
    version: str | None = None
    feature_names: tuple[str, ...] | None = None
    labels: tuple[str, ...] | None = None
    scores: Literal["probabilities", "logits"] | None = None
    inputs: tuple[Column, ...] | None = None
{%- if cookiecutter.model_framework == "sklearn" %}
    # Types the model file may hold beyond those trusted by default (checked by whoever wrote them here).
    trusted_types: tuple[str, ...] = ()
{%- endif %}


def io_tensors(
    task: Task, n_features: int, n_outputs: int, output_datatype: str = "FP32"
) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    """The input and output tensors of the contract's predict() for a model of this size."""
    output = "probabilities" if task == "classification" else "values"
    return (TensorSpec("input", "FP32", (-1, n_features)),), (TensorSpec(output, output_datatype, (-1, n_outputs)),)


class Model(Protocol):
    """What the service relies on (see the module docstring)."""

    metadata: ModelMetadata
    platform: ClassVar[str]
    threads_survive_fork: ClassVar[bool]

    @classmethod
    def load(cls, path: Path, declared: DeclaredMetadata, settings: Settings) -> "Model": ...

    def predict(self, batch: np.ndarray) -> np.ndarray: ...


def describe(
    path: Path,
    declared: DeclaredMetadata,
    platform: str,
    n_features: int,
    warm_up: np.ndarray,
    *,
    labels: tuple[str, ...] | None = None,
    feature_names: tuple[str, ...] | None = None,
    label_source: str = "the model names",
    output_datatype: str = "FP32",
    columns: tuple[Column, ...] | None = None,
    takes_tables: bool = False,
) -> ModelMetadata:
    """The metadata of a model whose predict() gave ``warm_up`` for one row of zeros.

    ``labels``, ``feature_names`` and ``columns`` are what the adapter read
    from the model (None if it says nothing; ``label_source`` says where, for
    the error); ``metadata.json`` overrides them.  ``output_datatype`` is the
    V2 type of predict()'s output.  ``takes_tables``: whether predict() takes
    a table of several types (an object array, columns.py), not only
    float32.  Raises ``ModelLoadError`` when the output fits neither the task
    nor the labels, or the columns are more than the adapter takes.
    """
    if warm_up.ndim != 2 or warm_up.shape[0] != 1:
        raise ModelLoadError(path, f"one row in gave an output of shape {list(warm_up.shape)}, not one row out")
    width = warm_up.shape[1]
    columns = declared.inputs or columns
    if columns:
        names = tuple(column.name for column in columns)
    else:
        names = declared.feature_names or feature_names or tuple(f"f{i}" for i in range(n_features))
        columns = tuple(Column(name=name) for name in names)
    if len(names) != n_features:
        raise ModelLoadError(path, f"{len(names)} feature names for a model of {n_features} features")
    if not takes_tables and not numeric(columns):
        raise ModelLoadError(
            path,
            f"metadata.json's inputs are not all plain numbers: a {platform} model takes rows of numbers only "
            "(no types, nulls, enums or ranges)",
        )
    chosen: tuple[str, ...] = ()
    if declared.task == "classification":
        if width < 2:
            raise ModelLoadError(
                path,
                f"the model gives {width} score per row, a classifier one per class (a regressor needs a service "
                "generated with task=regression)",
            )
        chosen = declared.labels or labels or tuple(str(i) for i in range(width))
        if len(chosen) != width:
            source = "metadata.json lists" if declared.labels else label_source
            raise ModelLoadError(path, f"{source} {len(chosen)} labels but the model gives {width} class scores")
    inputs, outputs = io_tensors(declared.task, n_features, width, output_datatype)
    if not numeric(columns):  # V2 then takes one input per column (pandas' table, MLServer's "pd")
        inputs = tuple(TensorSpec(column.name, column.v2_datatype, (-1,)) for column in columns)
    return ModelMetadata(
        name=declared.name or path.stem,
        version=declared.version or "unknown",
        task=declared.task,
        feature_names=names,
        labels=chosen,
        inputs=inputs,
        outputs=outputs,
        platform=platform,
        columns=columns,
    )
