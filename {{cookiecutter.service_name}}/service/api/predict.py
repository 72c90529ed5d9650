"""The native prediction API: ``POST /predict``."""

from flask import Blueprint, jsonify

from service.api import schemas
from service.inference.predictions import to_predictions
from service.server import metrics
from service.web import serving
from service.web.bodies import check_content_type, read_body
from service.web.openapi import operation

blueprint = Blueprint("predict", __name__)


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
    model = serving.ready_model()
    check_content_type()
    metadata = model.metadata
    rows, field = schemas.parse_predict_request(read_body(serving.settings().max_body_bytes), metadata)
    serving.check_batch_size(len(rows), field)
    outputs = serving.predict(schemas.as_batch(rows, field, metadata))
    predictions = to_predictions(outputs, metadata.labels)
    metrics.count_predictions(predictions)
    return jsonify(predictions=predictions, model={"name": metadata.name, "version": metadata.version})
