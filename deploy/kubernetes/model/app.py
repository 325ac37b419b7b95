"""Placeholder triage model server speaking KServe's V1 protocol: a hand-written rule stands in for the model.

Beside the driftwatch sidecar (DRIFTWATCH_URL set) it logs every input with its prediction through
driftwatch.client.Client, which batches in a background thread and never blocks or fails a request. Under KServe
(DRIFTWATCH_URL empty) the InferenceService's inference logger sends the same data as CloudEvents instead.
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException

from driftwatch.client import Client

DRIFTWATCH_URL = os.environ.get("DRIFTWATCH_URL", "")
MONITOR = os.environ.get("DRIFTWATCH_MONITOR", "triage")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def urgency(patient: dict[str, Any]) -> str:
    """Score the vitals like driftwatch.demo's rule-like model (missing values count as normal) and label it."""
    age = _number(patient.get("patient_age"))
    heart_rate = _number(patient.get("heart_rate"))
    temperature = _number(patient.get("temperature_c"))
    systolic = _number(patient.get("systolic_bp"))
    pain = _number(patient.get("pain_score"))
    score = 0
    if age is not None:
        score += (age >= 65) + (age >= 80) + (age < 2)
    if heart_rate is not None:
        score += (heart_rate > 100) + (heart_rate > 125) + 2 * (heart_rate < 45)
    if temperature is not None:
        score += (temperature >= 38.3) + (temperature >= 39.5) + (temperature < 35.5)
    if systolic is not None:
        score += 3 * (systolic < 90) + (systolic >= 160) + (systolic >= 185)
    if pain is not None:
        score += (pain >= 5) + (pain >= 8)
    score += patient.get("arrival_mode") == "ambulance"
    return "low" if score == 0 else "medium" if score <= 2 else "high" if score == 3 else "critical"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.drift = Client(DRIFTWATCH_URL, monitor=MONITOR) if DRIFTWATCH_URL else None
    try:
        yield
    finally:
        if app.state.drift is not None:
            app.state.drift.close()


app = FastAPI(title="triage model (placeholder)", lifespan=lifespan)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "alive"}


@app.get("/v1/models/{name}")
def model_ready(name: str) -> dict[str, Any]:
    return {"name": name, "ready": True}


@app.post("/v1/models/{name}:predict")
def predict(name: str, body: dict[str, Any]) -> dict[str, list[str]]:
    instances = body.get("instances")
    if not isinstance(instances, list) or not all(isinstance(item, dict) for item in instances):
        raise HTTPException(400, "expected {'instances': [objects with the triage features]}")
    predictions = [urgency(item) for item in instances]
    if app.state.drift is not None:
        app.state.drift.log([{**item, "predicted_urgency": p} for item, p in zip(instances, predictions, strict=True)])
    return {"predictions": predictions}
