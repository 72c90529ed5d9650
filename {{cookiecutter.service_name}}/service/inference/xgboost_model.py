"""The XGBoost adapter of the model contract (contract.py).

Reads XGBoost's own format, JSON (``.json``) or UBJSON (``.ubj``), as
``save_model`` writes it from a raw ``Booster`` or from the scikit-learn
wrappers (``XGBClassifier``, ``XGBRegressor``): both load as a Booster.
Never pickle, which would run code from the file.

The objective says what the model outputs: ``multi:softprob`` class
probabilities, ``binary:logistic`` the probability of class 1 (the service
adds class 0's), any regression objective its values.  Objectives that give
no probabilities (``multi:softmax``, ``binary:logitraw``, ranking) are
refused with the one to train with instead.
"""

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import xgboost

from service.inference.contract import DeclaredMetadata, ModelLoadError, describe
from service.settings import Settings

SUFFIXES = (".json", ".ubj")
CLASSIFIER_OBJECTIVES = ("multi:softprob", "binary:logistic")
NOT_SERVED = ("multi:softmax", "binary:logitraw", "binary:hinge", "rank:")


def _objective(booster: xgboost.Booster) -> str:
    return json.loads(booster.save_config())["learner"]["objective"]["name"]


class XGBoostModel:
    """An XGBoost Booster behind the contract."""

    platform: ClassVar[str] = "xgboost"
    # Its thread pools belong to the thread that starts them: a forked worker starts its own.
    threads_survive_fork: ClassVar[bool] = True

    def __init__(self, booster: xgboost.Booster, binary: bool) -> None:
        self._booster = booster
        self._binary = binary

    def predict(self, batch: np.ndarray) -> np.ndarray:
        # inplace_predict skips building a DMatrix and is safe to call from several threads.
        output = np.asarray(self._booster.inplace_predict(batch), dtype=np.float32).reshape(len(batch), -1)
        if self._binary:
            return np.hstack([1.0 - output, output])
        return output

    @classmethod
    def load(cls, path: Path, declared: DeclaredMetadata, settings: Settings) -> "XGBoostModel":
        if path.suffix not in SUFFIXES:
            raise ModelLoadError(
                path, f"unknown file type {path.suffix!r}: save the model with save_model('model.ubj') (or .json)"
            )
        try:
            booster = xgboost.Booster(model_file=str(path))
            objective = _objective(booster)
        except Exception as error:  # XGBoostError, and json's for a damaged config: one line
            message = " ".join(str(error).split()).replace(str(path), path.name)[:200]
            raise ModelLoadError(path, f"not a loadable XGBoost model ({type(error).__name__}: {message})") from error
        # 0 lets XGBoost use every core, as for the other runtimes' model threads.
        booster.set_param({"nthread": settings.model_threads})
        if objective.startswith(NOT_SERVED):
            raise ModelLoadError(
                path,
                f"objective {objective} gives no probabilities or values: train with "
                "multi:softprob or binary:logistic (classification) or a reg: objective",
            )
        classifier = objective in CLASSIFIER_OBJECTIVES
        if classifier != (declared.task == "classification"):
            kind = "a classifier" if classifier else "a regressor"
            raise ModelLoadError(
                path,
                f"objective {objective} makes {kind}, but this service was generated for task={declared.task}",
            )
        model = cls(booster, binary=objective == "binary:logistic")
        n_features = booster.num_features()
        try:
            warm_up = model.predict(np.zeros((1, n_features), dtype=np.float32))
        except Exception as error:
            raise ModelLoadError(path, f"the model fails on a row of zeros ({type(error).__name__})") from error
        names = booster.feature_names
        model.metadata = describe(
            path, declared, cls.platform, n_features, warm_up, feature_names=tuple(names) if names else None
        )
        return model
