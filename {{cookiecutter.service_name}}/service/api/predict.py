"""The native prediction API: ``POST /predict``."""

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from service.api import schemas
from service.inference.predictions import first_not_finite, to_predictions
from service.inference.state import ready_model
from service.server import metrics, timeouts
from service.web.errors import ApiError
from service.web.openapi import operation

blueprint = Blueprint("predict", __name__)


def read_body(limit: int) -> bytes:
    """The request body; 413 if it is over ``limit`` bytes."""
    if request.content_length is not None:
        return request.get_data(cache=False)  # a Content-Length over the limit got 413 unread
    # Chunked: no length up front, and werkzeug would silently cut the body at
    # the limit (then "invalid JSON"); read one byte more to tell.
    body = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    return body


# Content-Type values that are UTF-8 JSON as they stand.
PLAIN_JSON = frozenset(("application/json", "application/json; charset=utf-8", "application/json; charset=UTF-8"))


def check_json_content_type() -> None:
    """415 unless the request's Content-Type is JSON in UTF-8."""
    if request.mimetype != "application/json":
        raise ApiError(
            415, "unsupported_media_type", f"Content-Type must be application/json, got {request.mimetype or 'none'!r}"
        )
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ApiError(415, "unsupported_media_type", f"JSON must be UTF-8, got charset={charset!r}")


@blueprint.post("/predict")
@operation(
    {%- if cookiecutter.task == "classification" %}
    "Predict the class of one instance or a batch",
    {%- else %}
    "Predict the value of one instance or a batch",
    {%- endif %}
    {200: ("One prediction per instance, in request order.", schemas.PredictResponse)},
    errors=(400, 413, 415, 422, 500, 503),
    request=schemas.PredictRequest,
)
def predict():
    model = ready_model()
    # What nearly every client sends is accepted without parsing the header.
    if request.content_type not in PLAIN_JSON:
        check_json_content_type()
    metadata = model.metadata
    config = current_app.config
    batch = schemas.parse_predict_request(
        read_body(config["MAX_CONTENT_LENGTH"]), metadata.n_features, config["MAX_BATCH_SIZE"]
    )
    with timeouts.prediction():
        outputs = current_app.extensions["predict"](batch)
    bad_row = first_not_finite(outputs)
    if bad_row is not None:
        # Finite inputs far outside the training data can overflow the model
        # (NaN out); NaN is not JSON, so say so instead.
        raise ApiError(
            422,
            "prediction_not_finite",
            f"instance {bad_row}: the model gives no finite prediction for these values (out of its range)",
        )
    predictions = to_predictions(outputs, metadata.labels)
    metrics.count_predictions(predictions)
    return jsonify(predictions=predictions, model={"name": metadata.name, "version": metadata.version})
