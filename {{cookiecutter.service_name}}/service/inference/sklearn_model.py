"""The scikit-learn adapter of the model contract (contract.py).

Serves any fitted estimator or pipeline: a classifier answers with
``predict_proba`` (labels from ``classes_``), a regressor with ``predict``;
feature names come from ``feature_names_in_`` where the model has them, and
a model fitted on named columns is given a data frame with those names (a
``ColumnTransformer`` may select its columns by name).  A text pipeline (a
``CountVectorizer``, ``TfidfVectorizer`` or ``HashingVectorizer`` first)
takes one string column, ``text`` unless metadata.json names it, and is
given the strings as they came.

The file is read with skops (``skops.io.dump`` writes it), which rebuilds
only the types it is told to trust, never running code from the file.
Beyond skops' default trust list, the classes scikit-learn itself defines
are trusted (a random forest holds ``sklearn.tree._tree.Tree``, an MLP its
optimizer): they are the installed scikit-learn's own code.  Any other type
is refused at load with its name; list it in ``metadata.json``'s
``trusted_types`` (or ``MODEL_TRUSTED_TYPES``) once you have checked it is yours.
A joblib/pickle file runs whatever code it contains when loaded, so it is
refused unless ``MODEL_ALLOW_PICKLE=true`` says you trust it.
"""

import importlib
import logging
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import skops.io
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
from sklearn.impute import KNNImputer, SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from service.inference.columns import sample_row
from service.inference.contract import Column, DeclaredMetadata, ModelLoadError, describe, numeric
from service.settings import Settings

log = logging.getLogger("service.model")

SKOPS_SUFFIXES = (".skops",)
# Beyond scikit-learn's own classes, what its stock estimators hold that skops does not trust by
# default: a fitted SimpleImputer keeps the numpy.dtype it was fitted on (a description, no code).
ALSO_TRUSTED = ("numpy.dtype",)
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")


def defined_by_sklearn(name: str) -> bool:
    """Whether ``name`` (e.g. ``sklearn.tree._tree.Tree``) is a class of the installed scikit-learn.

    Only classes: a function (which a FunctionTransformer could call) stays
    untrusted whatever its module.  Only ``sklearn`` modules are imported.
    """
    module, _, attribute = name.rpartition(".")
    if module != "sklearn" and not module.startswith("sklearn."):
        return False
    try:
        found = getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return False
    return isinstance(found, type) and found.__module__.partition(".")[0] == "sklearn"


def _read_skops(path: Path, trusted: tuple[str, ...]) -> Any:
    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception as error:  # zipfile's, json's and skops' own errors: one line
        raise ModelLoadError(path, f"not a loadable skops file ({type(error).__name__}: {error})") from error
    refused = [name for name in untrusted if name not in trusted + ALSO_TRUSTED and not defined_by_sklearn(name)]
    if refused:
        more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
        raise ModelLoadError(
            path,
            f"untrusted type {refused[0]}{more} in the skops file: if it is yours, list it in metadata.json's "
            '"trusted_types" (or MODEL_TRUSTED_TYPES, comma-separated)',
        )
    try:
        return skops.io.load(path, trusted=untrusted)
    except Exception as error:
        raise ModelLoadError(path, f"not a loadable skops file ({type(error).__name__}: {error})") from error


def _read_pickle(path: Path, allowed: bool) -> Any:
    if not allowed:
        raise ModelLoadError(
            path,
            "pickle/joblib files run any code they contain when loaded: save the model with skops.io.dump, "
            "or set MODEL_ALLOW_PICKLE=true if you trust this file",
        )
    log.warning(
        "MODEL_ALLOW_PICKLE=true: loading %s with joblib, which runs any code the file contains; "
        "serve only files you made (skops.io.dump avoids this)",
        path.name,
    )
    import joblib  # scikit-learn's own dependency; only needed on this road

    try:
        return joblib.load(path)
    except Exception as error:
        raise ModelLoadError(path, f"not a loadable pickle ({type(error).__name__}: {error})") from error


class SklearnModel:
    """A fitted scikit-learn estimator behind the contract."""

    platform: ClassVar[str] = "scikit-learn"
    # Its thread pools belong to the thread that starts them: a forked worker starts its own.
    threads_survive_fork: ClassVar[bool] = True

    def __init__(
        self, estimator: Any, classification: bool, columns: tuple[Column, ...] | None, text: bool = False
    ) -> None:
        self._estimator = estimator
        self._predict = estimator.predict_proba if classification else estimator.predict
        # A text pipeline takes the strings themselves, a 1-D array of them.
        self._text = text
        # Fitted on named columns: a data frame with those names (pandas is
        # imported only then); else the float32 array as it is, the fast road.
        self._names = tuple(column.name for column in columns) if columns and not text else None
        # A table of several types comes as an object array: its numbers become float64 columns.
        self._dtypes = {column.name: _dtype(column) for column in columns} if columns and not numeric(columns) else None
        if self._names is not None:
            import pandas

            self._frame = pandas.DataFrame

    def predict(self, batch: np.ndarray) -> np.ndarray:
        if self._text:
            inputs = batch[:, 0]
        elif self._names is None:
            inputs = batch
        elif self._dtypes is None:
            inputs = self._frame(batch, columns=self._names, copy=False)
        else:
            inputs = self._frame(batch, columns=self._names).astype(self._dtypes)
        return np.asarray(self._predict(inputs), dtype=np.float32).reshape(len(batch), -1)

    @classmethod
    def load(cls, path: Path, declared: DeclaredMetadata, settings: Settings) -> "SklearnModel":
        if path.suffix in SKOPS_SUFFIXES:
            estimator = _read_skops(path, settings.trusted_types + declared.trusted_types)
        elif path.suffix in PICKLE_SUFFIXES:
            estimator = _read_pickle(path, settings.model_allow_pickle)
        else:
            raise ModelLoadError(
                path, f"unknown file type {path.suffix!r}: save the model with skops.io.dump to .skops"
            )
        classification = declared.task == "classification"
        if classification and not hasattr(estimator, "predict_proba"):
            raise ModelLoadError(
                path,
                f"{type(estimator).__name__} has no predict_proba (a classifier answers with class probabilities; "
                "a regressor needs a service generated with task=regression)",
            )
        try:
            check_is_fitted(estimator)
        except NotFittedError:
            reason = f"{type(estimator).__name__} is not fitted: fit it before skops.io.dump"
            raise ModelLoadError(path, reason) from None
        n_features = getattr(estimator, "n_features_in_", None)
        text = n_features is None and takes_text(estimator)
        if n_features is None and not text:  # fitted, but on something other than a table or text
            raise ModelLoadError(
                path,
                f"{type(estimator).__name__} takes no fixed number of columns (no n_features_in_) and is no text "
                "pipeline (a CountVectorizer, TfidfVectorizer or HashingVectorizer first)",
            )
        # Once per process: BLAS and OpenMP pools sized like the other runtimes' model threads.
        if settings.model_threads:
            threadpool_limits(limits=settings.model_threads)
        columns = _text_column(path, declared) if text else _columns(path, estimator, declared)
        n_features = 1 if text else n_features
        model = cls(estimator, classification, columns, text)
        try:
            warm_up = model.predict(sample_row(columns) if columns else np.zeros((1, n_features), dtype=np.float32))
        except Exception as error:  # the estimator's own error: say which, on one line
            raise ModelLoadError(path, f"the model fails on a valid row ({type(error).__name__}: {error})") from error
        classes = getattr(estimator, "classes_", None) if classification else None
        model.metadata = describe(
            path,
            declared,
            cls.platform,
            int(n_features),
            warm_up,
            labels=tuple(str(c) for c in classes) if classes is not None else None,
            columns=columns,
            takes_tables=True,
        )
        return model


def takes_text(estimator: Any) -> bool:
    """Whether the model (or its pipeline's first step) turns strings into features itself."""
    first = estimator.steps[0][1] if isinstance(estimator, Pipeline) else estimator
    return isinstance(first, (CountVectorizer, HashingVectorizer, TfidfVectorizer))


def _text_column(path: Path, declared: DeclaredMetadata) -> tuple[Column, ...]:
    """A text pipeline's one string column: metadata.json's, else ``text``."""
    if declared.inputs is None:
        column = Column(name="text", type="string")
        log.info('a text pipeline: one string column, %r (metadata.json\'s "inputs" may name it)', column.name)
        return (column,)
    if len(declared.inputs) != 1 or declared.inputs[0].type != "string" or declared.inputs[0].nullable:
        raise ModelLoadError(path, "metadata.json's inputs: a text pipeline takes one string column, not nullable")
    return declared.inputs


def _dtype(column: Column) -> str:
    if column.type in ("number", "integer"):
        return "float64"  # NaN for null, as pandas reads a missing number
    return "bool" if column.type == "boolean" and not column.nullable else "object"


def _columns(path: Path, estimator: Any, declared: DeclaredMetadata) -> tuple[Column, ...] | None:
    """The model's named columns: metadata.json's, else inferred; None for a model fitted on bare arrays."""
    names = getattr(estimator, "feature_names_in_", None)
    names = [str(name) for name in names] if names is not None else None
    if declared.inputs:
        listed = [column.name for column in declared.inputs]
        if names is not None and listed != names:
            raise ModelLoadError(
                path,
                f"metadata.json's inputs ({', '.join(listed)}) are not the columns the model was fitted on, "
                f"in its order ({', '.join(names)})",
            )
        return declared.inputs if names is not None or not numeric(declared.inputs) else None
    if names is None:
        return None
    columns = inferred_columns(estimator, names)
    if not numeric(columns):
        log.info(
            'input columns inferred from the model (metadata.json\'s "inputs" overrides them)',
            extra={"inputs": [column.model_dump(exclude_defaults=True) for column in columns]},
        )
    return columns


# What fills a missing value before the model sees it: a column it reads takes null.
IMPUTERS = (SimpleImputer, KNNImputer)
# Estimators that take NaN themselves.
TAKES_NAN = (HistGradientBoostingClassifier, HistGradientBoostingRegressor)


def inferred_columns(estimator: Any, names: list[str]) -> tuple[Column, ...]:
    """The columns a model fitted on a data frame takes, from what its first steps need.

    A ``ColumnTransformer`` (the pipeline's first step) says which columns
    each transformer reads; an encoder's ``categories_`` make a column a
    string (or number) column, with those values only if unknown ones are an
    error for it (``handle_unknown="error"``); an imputer before it, or a
    NaN among the categories, lets the column be null.  Every other column
    is a number, which may be null when an imputer or the estimator takes NaN.
    """
    first = estimator.steps[0][1] if isinstance(estimator, Pipeline) else estimator
    found = {name: Column(name=name, nullable=isinstance(first, TAKES_NAN + IMPUTERS)) for name in names}
    if isinstance(first, ColumnTransformer):
        for _, transformer, selected in first.transformers_:
            picked = _picked(selected, names)
            for column in _read_by(transformer, picked):
                found[column.name] = column
    return tuple(found[name] for name in names)


def _picked(selected: Any, names: list[str]) -> list[str]:
    """The names a ColumnTransformer's column selection stands for (names, positions, a slice or a mask)."""
    if isinstance(selected, str):
        return [selected]
    if isinstance(selected, (list, tuple)) and all(isinstance(name, str) for name in selected):
        return list(selected)
    try:
        return [str(name) for name in np.asarray(names, dtype=object)[selected]]
    except (IndexError, TypeError, ValueError):
        return []  # a selection this cannot read: those columns stay numbers


def _read_by(transformer: Any, picked: list[str]) -> list[Column]:
    """The columns ``picked`` as ``transformer`` (a step, a pipeline, "passthrough" or "drop") reads them."""
    steps = [step for _, step in transformer.steps] if isinstance(transformer, Pipeline) else [transformer]
    nullable = False
    for step in steps:
        if isinstance(step, IMPUTERS):
            nullable = True
            continue
        categories = getattr(step, "categories_", None)
        if categories is not None and len(categories) == len(picked):
            closed = getattr(step, "handle_unknown", "error") == "error"
            return [
                _categorical(name, values, nullable, closed) for name, values in zip(picked, categories, strict=True)
            ]
        break  # any other step takes numbers
    return [Column(name=name, nullable=nullable) for name in picked]


def _categorical(name: str, categories: np.ndarray, nullable: bool, closed: bool) -> Column:
    values = [value for value in categories.tolist() if not (isinstance(value, float) and math.isnan(value))]
    if all(isinstance(value, bool) for value in values):
        kind = "boolean"
    elif all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        kind = "integer"
    elif all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
        kind = "number"
    else:  # strings, or a mix: strings is what the encoder compares, and no enum can list a mix
        kind, closed = "string", closed and all(isinstance(value, str) for value in values)
    return Column(
        name=name,
        type=kind,
        nullable=nullable or len(values) < len(categories),  # NaN was a category of its own
        enum=tuple(values) if closed and values else None,
    )
