"""The triage simulator: one seeded draw of patients, with every drift effect scaled by the drift knob."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from driftwatch.demo.vocabulary import (
    ARRIVAL_P,
    COMPLAINT_P,
    COMPLAINTS,
    DURATIONS_EN,
    DURATIONS_X,
    EXTRAS_EN,
    FEVER_P,
    HR_OFFSET,
    LANGS,
    MODIFIERS_EN,
    OPENERS_EN,
    OPENERS_X,
    PAIN_MEAN,
    SBP_OFFSET,
    SEVERITY,
    SYMPTOM_EN,
    SYMPTOM_X,
)

SCHEMA = pa.schema(
    [
        ("patient_age", pa.float64()),
        ("heart_rate", pa.float64()),
        ("temperature_c", pa.float64()),
        ("systolic_bp", pa.float64()),
        ("pain_score", pa.int64()),
        ("arrival_mode", pa.string()),
        ("channel", pa.string()),
        ("insurance", pa.string()),
        ("symptoms", pa.string()),
        ("predicted_urgency", pa.string()),
    ]
)

ARRIVAL_MODES = ("walk_in", "ambulance", "referral")
CHANNELS = ("web", "phone", "kiosk")
INSURANCE = ("public", "private", "none")
URGENCY = ("low", "medium", "high", "critical")

# Share of affected rows per unit of drift.
_RATE_OLDER = 0.50
_RATE_TACHY = 0.50
_RATE_FAHRENHEIT = 0.15
_RATE_TELEHEALTH = 0.30
_RATE_NEW_CHANNEL = 0.30
_RATE_NEW_INSURANCE = 0.06
_RATE_FOREIGN = 0.30
_RATE_CODE_SWITCH = 0.20
_NULL_RATES = {
    "patient_age": 0.08,
    "heart_rate": 0.10,
    "temperature_c": 0.25,
    "systolic_bp": 0.25,
    "pain_score": 0.20,
    "insurance": 0.20,
    "symptoms": 0.05,
}


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Draw one category index per row from row-wise probability vectors."""
    cumulative = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0])[:, None]
    return np.minimum((u > cumulative).sum(axis=1), probs.shape[1] - 1)


def simulate(rng: np.random.Generator, n: int, drift: float) -> pa.Table:
    """Generate ``n`` triage rows with every drift effect scaled by ``drift``."""

    def affected(rate: float) -> np.ndarray:
        return rng.random(n) < drift * rate

    complaint = rng.choice(len(COMPLAINTS), size=n, p=COMPLAINT_P)
    severity = SEVERITY[complaint]

    is_child = rng.random(n) < 0.12
    age = np.where(
        is_child,
        rng.uniform(0.5, 17.9, n),
        np.clip(rng.normal(45.0, 17.0, n), 18.0, 97.0),
    )
    older = affected(_RATE_OLDER)
    age = np.where(older, np.clip(rng.normal(72.0, 9.0, n), 50.0, 99.0), age)
    age = np.round(age, 1)

    fever = rng.random(n) < FEVER_P[complaint]
    temperature = rng.normal(36.85, 0.3, n) + fever * rng.gamma(4.0, 0.45, n)
    temperature = np.round(np.clip(temperature, 35.2, 41.6), 1)

    heart_rate = (
        76.0
        + HR_OFFSET[complaint]
        + 9.0 * np.maximum(temperature - 37.2, 0.0)
        + np.where(age < 12.0, 22.0, 0.0)
        + rng.normal(0.0, 10.0, n)
    )
    heart_rate = heart_rate + affected(_RATE_TACHY) * rng.normal(14.0, 6.0, n)
    heart_rate = np.round(np.clip(heart_rate, 38.0, 195.0))

    systolic = np.where(
        age < 12.0,
        rng.normal(102.0, 8.0, n),
        112.0 + 0.5 * np.maximum(age - 30.0, 0.0) + SBP_OFFSET[complaint] + rng.normal(0.0, 13.0, n),
    )
    systolic = np.round(np.clip(systolic, 70.0, 230.0))

    pain = np.clip(np.rint(rng.normal(PAIN_MEAN[complaint], 1.7)), 0, 10).astype(np.int64)

    arrival = np.array(ARRIVAL_MODES, dtype=object)[_pick(rng, ARRIVAL_P[severity])]
    channel = np.array(CHANNELS, dtype=object)[rng.choice(3, size=n, p=[0.45, 0.33, 0.22])]
    insurance_p = np.where(age[:, None] >= 65.0, [[0.82, 0.14, 0.04]], [[0.40, 0.46, 0.14]])
    insurance = np.array(INSURANCE, dtype=object)[_pick(rng, insurance_p)]

    symptoms = _english_symptoms(rng, complaint)

    # Production-only effects; with drift == 0 every mask below is empty.
    fahrenheit = affected(_RATE_FAHRENHEIT)
    temperature = np.where(fahrenheit, np.round(temperature * 9.0 / 5.0 + 32.0, 1), temperature)

    telehealth = affected(_RATE_TELEHEALTH)
    arrival[telehealth] = "telehealth"
    new_channel = affected(_RATE_NEW_CHANNEL)
    channel[new_channel] = np.where(rng.random(int(new_channel.sum())) < 0.75, "whatsapp", "mobile_app")
    remote_kiosk = telehealth & (channel == "kiosk")
    channel[remote_kiosk] = "whatsapp"
    insurance[affected(_RATE_NEW_INSURANCE)] = "international"

    language = rng.integers(0, len(LANGS), n)
    roll = rng.random(n)
    foreign = roll < drift * _RATE_FOREIGN
    switched = (roll >= drift * _RATE_FOREIGN) & (roll < drift * (_RATE_FOREIGN + _RATE_CODE_SWITCH))
    if foreign.any() or switched.any():
        symptoms = _mix_languages(rng, symptoms, complaint, language, foreign, switched)

    nulls = {name: affected(rate) for name, rate in _NULL_RATES.items()}
    # Remote visits rarely have measured vitals.
    for name, keep in (("heart_rate", 0.1), ("systolic_bp", 0.05), ("temperature_c", 0.6)):
        nulls[name] |= telehealth & (rng.random(n) >= keep)

    urgency = _urgency(
        rng,
        np.where(nulls["patient_age"], 40.0, age),
        np.where(nulls["heart_rate"], 80.0, heart_rate),
        np.where(nulls["temperature_c"], 37.0, temperature),
        np.where(nulls["systolic_bp"], 120.0, systolic),
        np.where(nulls["pain_score"], 3, pain),
        severity,
        arrival == "ambulance",
    )

    no_nulls = np.zeros(n, dtype=bool)
    columns = {
        "patient_age": age,
        "heart_rate": heart_rate,
        "temperature_c": temperature,
        "systolic_bp": systolic,
        "pain_score": pain,
        "arrival_mode": arrival,
        "channel": channel,
        "insurance": insurance,
        "symptoms": symptoms,
        "predicted_urgency": urgency,
    }
    arrays = [pa.array(columns[field.name], type=field.type, mask=nulls.get(field.name, no_nulls)) for field in SCHEMA]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def _english_symptoms(rng: np.random.Generator, complaint: np.ndarray) -> np.ndarray:
    """Build English symptom sentences from the template fragments."""
    n = complaint.shape[0]
    text = (
        OPENERS_EN[rng.integers(0, len(OPENERS_EN), n)]
        + " "
        + SYMPTOM_EN[complaint]
        + " "
        + DURATIONS_EN[rng.integers(0, len(DURATIONS_EN), n)]
        + MODIFIERS_EN[rng.integers(0, len(MODIFIERS_EN), n)]
        + "."
        + EXTRAS_EN[rng.integers(0, len(EXTRAS_EN), n)]
    )
    return np.asarray(text, dtype=object)


def _mix_languages(
    rng: np.random.Generator,
    symptoms: np.ndarray,
    complaint: np.ndarray,
    language: np.ndarray,
    foreign: np.ndarray,
    switched: np.ndarray,
) -> np.ndarray:
    """Rewrite the selected rows as foreign-language or code-switched sentences."""
    out = symptoms.copy()
    # Half of the code-switched rows keep an English frame around a foreign complaint, the other half the
    # reverse.
    english_frame = rng.random(complaint.shape[0]) < 0.5
    for rows, frame, complaint_text in (
        (foreign, "x", "x"),
        (switched & english_frame, "en", "x"),
        (switched & ~english_frame, "x", "en"),
    ):
        idx = np.flatnonzero(rows)
        if idx.size == 0:
            continue
        lang, comp = language[idx], complaint[idx]
        if frame == "x":
            opener = OPENERS_X[lang, rng.integers(0, OPENERS_X.shape[1], idx.size)]
            duration = DURATIONS_X[lang, rng.integers(0, DURATIONS_X.shape[1], idx.size)]
        else:
            opener = OPENERS_EN[rng.integers(0, len(OPENERS_EN), idx.size)]
            duration = DURATIONS_EN[rng.integers(0, len(DURATIONS_EN), idx.size)]
        middle = SYMPTOM_X[lang, comp] if complaint_text == "x" else SYMPTOM_EN[comp]
        out[idx] = opener + " " + middle + " " + duration + "."
    return out


def _urgency(
    rng: np.random.Generator,
    age: np.ndarray,
    heart_rate: np.ndarray,
    temperature: np.ndarray,
    systolic: np.ndarray,
    pain: np.ndarray,
    severity: np.ndarray,
    ambulance: np.ndarray,
) -> np.ndarray:
    """Score the observed vitals like a simple triage model and map the score to a label."""
    score = (
        severity.astype(np.float64)
        + (age >= 65.0)
        + (age >= 80.0)
        + (age < 2.0)
        + (heart_rate > 100.0)
        + (heart_rate > 125.0)
        + (heart_rate < 45.0) * 2.0
        + (temperature >= 38.3)
        + (temperature >= 39.5)
        + (temperature < 35.5)
        + (systolic < 90.0) * 3.0
        + (systolic >= 160.0)
        + (systolic >= 185.0)
        + (pain >= 5)
        + (pain >= 8)
        + ambulance
        + rng.normal(0.0, 0.5, age.shape[0])
    )
    label = np.digitize(score, [1.5, 3.5, 5.5])
    return np.array(URGENCY, dtype=object)[label]
