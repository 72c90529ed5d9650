"""The scikit-learn adapter of the model contract (contract.py).

Serves any fitted estimator or pipeline: a classifier answers with
``predict_proba`` (labels from ``classes_``), a regressor with ``predict``;
feature names come from ``feature_names_in_`` where the model has them, and
a model fitted on named columns is given a data frame with those names (a
``ColumnTransformer`` may select its columns by name).

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
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import skops.io
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from service.inference.contract import DeclaredMetadata, ModelLoadError, describe
from service.settings import Settings

log = logging.getLogger("service.model")

SKOPS_SUFFIXES = (".skops",)
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
    refused = [name for name in untrusted if name not in trusted and not defined_by_sklearn(name)]
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

    def __init__(self, estimator: Any, classification: bool, columns: tuple[str, ...] | None) -> None:
        self._estimator = estimator
        self._predict = estimator.predict_proba if classification else estimator.predict
        # Fitted on named columns: a data frame with those names (pandas is
        # imported only then); else the float32 array as it is, the fast road.
        self._columns = columns
        if columns is not None:
            import pandas

            self._frame = pandas.DataFrame

    def predict(self, batch: np.ndarray) -> np.ndarray:
        inputs = batch if self._columns is None else self._frame(batch, columns=self._columns, copy=False)
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
        if n_features is None:  # fitted, but on something other than a table (a TfidfVectorizer takes strings)
            raise ModelLoadError(
                path,
                f"{type(estimator).__name__} takes no fixed number of columns (no n_features_in_; e.g. a text "
                "pipeline): this service sends it rows of numbers",
            )
        # Once per process: BLAS and OpenMP pools sized like the other runtimes' model threads.
        if settings.model_threads:
            threadpool_limits(limits=settings.model_threads)
        names = getattr(estimator, "feature_names_in_", None)
        columns = tuple(str(name) for name in names) if names is not None else None
        model = cls(estimator, classification, columns)
        try:
            warm_up = model.predict(np.zeros((1, n_features), dtype=np.float32))
        except Exception as error:  # the estimator's own error: say which, on one line
            raise ModelLoadError(
                path, f"the model fails on a row of zeros ({type(error).__name__}: {error})"
            ) from error
        classes = getattr(estimator, "classes_", None) if classification else None
        model.metadata = describe(
            path,
            declared,
            cls.platform,
            int(n_features),
            warm_up,
            labels=tuple(str(c) for c in classes) if classes is not None else None,
            feature_names=columns,
        )
        return model
