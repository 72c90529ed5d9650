"""Your preprocessing goes here: what a request's inputs become before the model, and its outputs after.

Both APIs (``POST /predict`` and V2's ``infer``) send every batch through
``preprocess``, the model (or the micro-batcher around it), then
``postprocess``, one request at a time (service/web/serving.py).  Both are
the identity until you change them, e.g. to take inputs in other units, clip
them to the training range, or calibrate the model's scores.

``preprocess(batch)``
    ``batch`` is a float32 array of shape ``(n, n_features)``, already
    validated (finite, within float32's range, the model's width); for a
    model of named columns of several types, an object array
    ``(n, n_columns)`` in the columns' order (columns.py).  Return what the
    model's ``predict`` takes: the same shape and type.
``postprocess(outputs)``
    ``outputs`` is what the model returned for the batch: ``(n, n_classes)``
    class probabilities or ``(n, n_targets)`` values.  Return the same
    shape: the APIs label and serialize it.  A NaN or infinity left in a row
    answers 422 for that request.

When the inputs clients send change, change ``model/example.json``'s
``instances`` too: the tests, ``make smoke`` and the API documentation send them.
"""

import numpy as np


def preprocess(batch: np.ndarray) -> np.ndarray:
    """A validated request batch -> the model's input."""
    return batch


def postprocess(outputs: np.ndarray) -> np.ndarray:
    """The model's output rows -> the rows the APIs answer with."""
    return outputs
