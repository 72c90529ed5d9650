"""The peer a user might write in FastAPI: the same model behind FastAPI, served by uvicorn.

What a FastAPI tutorial's service looks like: a pydantic request model, an
``async def`` route calling ``model.predict`` (a prediction this small is
faster on the event loop than sent to a thread pool), no metrics, no access
log.  Served by ``uvicorn --workers N`` (uvloop and httptools, as
``uvicorn[standard]`` installs them) from the baked project's directory, so
the generated project's own loader and response shape are used.
"""

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel
from service.inference.loader import load_model
from service.inference.predictions import to_predictions
from service.settings import load_settings

settings = load_settings()
model, _ = load_model(settings.model_path, settings)
MODEL_INFO = {"name": model.metadata.name, "version": model.metadata.version}
app = FastAPI()


class PredictRequest(BaseModel):
    instances: list[list[float]]


@app.post("/predict")
async def predict(request: PredictRequest) -> dict:
    outputs = model.predict(np.asarray(request.instances, dtype=np.float32))
    return {"predictions": to_predictions(outputs, model.metadata.labels), "model": MODEL_INFO}


@app.get("/readyz")
async def readyz() -> dict:
    return {"status": "ready"}
