"""Seeded example data for a fictional clinic triage assistant.

``reference_table`` produces the clean, English-only demo data a triage model would be validated on.
``production_batch`` produces data as it arrives in production; its ``drift`` knob (0 to 1) controls how
far the batch moves away from the reference. Every drift effect touches about ``drift * rate`` of the rows:

======================================  =====  ==========================================================
effect                                  rate   what happens to an affected row
======================================  =====  ==========================================================
older patient cohort                    0.50   age drawn from N(72, 9) instead of the adult mix
elevated heart rate                     0.50   heart rate raised by N(14, 6) bpm
temperature entered in Fahrenheit       0.15   ``temperature_c`` holds the Fahrenheit reading
new arrival mode ``telehealth``         0.30   vitals mostly missing, channel never ``kiosk``
new channel ``whatsapp``/``mobile_app`` 0.30   replaces the intake channel
new insurance ``international``         0.06   replaces the insurance value
symptoms in another language            0.30   full sentence in es/fr/de/pt/it/Hindi (Latin script)
code-switched symptoms                  0.20   English and another language mixed mid-sentence
missing values                          0.05+  per column, see ``_NULL_RATES``
======================================  =====  ==========================================================

With ``drift=0.0`` nothing is applied, so a batch comes from exactly the reference distribution.
``predicted_urgency`` is the label a rule-like model assigns from the values it receives (missing vitals
count as normal), so input drift also shows up as prediction drift.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

__all__ = ["SCHEMA", "production_batch", "reference_table", "write_examples"]

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

# Per complaint: English phrase, severity (0-3), chance of fever, heart-rate offset, typical pain,
# systolic offset, sampling weight.
_COMPLAINTS: tuple[tuple[str, int, float, float, float, float, float], ...] = (
    ("chest pain radiating to the left arm", 3, 0.02, 14.0, 7.0, 10.0, 0.04),
    ("shortness of breath", 2, 0.15, 12.0, 3.0, 4.0, 0.06),
    ("high fever and chills", 1, 0.95, 8.0, 3.0, -4.0, 0.07),
    ("a persistent dry cough", 0, 0.30, 2.0, 2.0, 0.0, 0.08),
    ("a sore throat", 0, 0.35, 2.0, 3.0, 0.0, 0.08),
    ("a severe headache", 1, 0.05, 4.0, 7.0, 8.0, 0.07),
    ("abdominal pain", 1, 0.15, 6.0, 6.0, 0.0, 0.08),
    ("nausea and vomiting", 1, 0.20, 8.0, 3.0, -6.0, 0.06),
    ("dizziness", 1, 0.03, 2.0, 1.0, -8.0, 0.05),
    ("lower back pain", 0, 0.02, 2.0, 6.0, 4.0, 0.07),
    ("an itchy rash on the arms", 0, 0.10, 0.0, 1.0, 0.0, 0.05),
    ("a swollen ankle after a fall", 0, 0.00, 4.0, 5.0, 2.0, 0.06),
    ("a deep cut on the hand", 1, 0.00, 6.0, 5.0, 2.0, 0.04),
    ("burning during urination", 0, 0.30, 2.0, 3.0, 0.0, 0.05),
    ("sudden weakness on one side of the body", 3, 0.02, 4.0, 1.0, 22.0, 0.02),
    ("ear pain", 0, 0.25, 2.0, 4.0, 0.0, 0.05),
    ("palpitations", 2, 0.02, 28.0, 1.0, 6.0, 0.03),
    ("diarrhea", 0, 0.20, 6.0, 3.0, -4.0, 0.04),
)
_SYMPTOM_EN = np.array([c[0] for c in _COMPLAINTS], dtype=object)
_SEVERITY = np.array([c[1] for c in _COMPLAINTS], dtype=np.int64)
_FEVER_P = np.array([c[2] for c in _COMPLAINTS])
_HR_OFFSET = np.array([c[3] for c in _COMPLAINTS])
_PAIN_MEAN = np.array([c[4] for c in _COMPLAINTS])
_SBP_OFFSET = np.array([c[5] for c in _COMPLAINTS])
_COMPLAINT_P = np.array([c[6] for c in _COMPLAINTS])
_COMPLAINT_P = _COMPLAINT_P / _COMPLAINT_P.sum()
# Arrival mode shares (walk_in, ambulance, referral) by complaint severity.
_ARRIVAL_P = np.array([[0.72, 0.05, 0.23], [0.64, 0.13, 0.23], [0.50, 0.30, 0.20], [0.30, 0.62, 0.08]])

_OPENERS_EN = np.array(
    [
        "Patient reports",
        "Complains of",
        "Presenting with",
        "Came in with",
        "Has had",
        "Patient describes",
        "Parent says child has",
        "Caller describes",
        "Currently experiencing",
        "Seeking help for",
    ],
    dtype=object,
)
_DURATIONS_EN = np.array(
    [
        "for two days",
        "since this morning",
        "for about a week",
        "since last night",
        "for several hours",
        "for a few weeks",
        "since yesterday",
        "for three days",
        "after lunch today",
    ],
    dtype=object,
)
_MODIFIERS_EN = np.array(
    [
        "",
        "",
        "",
        ", getting worse",
        ", worse at night",
        ", mild but constant",
        ", worse when moving",
        ", not better with rest",
        ", comes and goes",
    ],
    dtype=object,
)
_EXTRAS_EN = np.array(
    [
        "",
        "",
        "",
        "",
        " No known allergies.",
        " Also feeling very tired.",
        " Took ibuprofen with little relief.",
        " History of high blood pressure.",
        " Diabetic, takes metformin.",
        " Has not eaten much today.",
        " Similar episode last year.",
        " Slept poorly.",
        " Is on blood thinners.",
    ],
    dtype=object,
)

# Translations follow the order of _COMPLAINTS so a row keeps its meaning in every language.
_FOREIGN: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "es": (
        ("Paciente refiere", "Se queja de", "Llega con", "Acude por"),
        (
            "dolor de pecho que se extiende al brazo izquierdo",
            "dificultad para respirar",
            "fiebre alta y escalofríos",
            "tos seca persistente",
            "dolor de garganta",
            "dolor de cabeza muy fuerte",
            "dolor abdominal",
            "náuseas y vómitos",
            "mareos",
            "dolor en la parte baja de la espalda",
            "sarpullido con picazón en los brazos",
            "el tobillo hinchado después de una caída",
            "un corte profundo en la mano",
            "ardor al orinar",
            "debilidad repentina en un lado del cuerpo",
            "dolor de oído",
            "palpitaciones",
            "diarrea",
        ),
        ("desde ayer", "desde hace dos días", "desde esta mañana", "desde hace una semana"),
    ),
    "fr": (
        ("Le patient présente", "La patiente décrit", "Consulte pour", "Se présente avec"),
        (
            "une douleur thoracique qui irradie dans le bras gauche",
            "un essoufflement",
            "une forte fièvre avec des frissons",
            "une toux sèche persistante",
            "un mal de gorge",
            "un mal de tête intense",
            "des douleurs abdominales",
            "des nausées et des vomissements",
            "des vertiges",
            "des douleurs dans le bas du dos",
            "une éruption qui démange sur les bras",
            "une cheville enflée après une chute",
            "une coupure profonde à la main",
            "des brûlures en urinant",
            "une faiblesse soudaine d'un côté du corps",
            "une douleur à l'oreille",
            "des palpitations",
            "de la diarrhée",
        ),
        ("depuis hier", "depuis deux jours", "depuis ce matin", "depuis une semaine"),
    ),
    "de": (
        ("Patient hat", "Patientin klagt über", "Berichtet über", "Der Patient beschreibt"),
        (
            "Brustschmerzen, die in den linken Arm ausstrahlen",
            "Atemnot",
            "hohes Fieber und Schüttelfrost",
            "anhaltenden trockenen Husten",
            "Halsschmerzen",
            "starke Kopfschmerzen",
            "Bauchschmerzen",
            "Übelkeit und Erbrechen",
            "Schwindel",
            "Schmerzen im unteren Rücken",
            "einen juckenden Ausschlag an den Armen",
            "einen geschwollenen Knöchel nach einem Sturz",
            "eine tiefe Schnittwunde an der Hand",
            "Brennen beim Wasserlassen",
            "plötzliche Schwäche auf einer Körperseite",
            "Ohrenschmerzen",
            "Herzrasen",
            "Durchfall",
        ),
        ("seit gestern", "seit zwei Tagen", "seit heute Morgen", "seit einer Woche"),
    ),
    "pt": (
        ("Paciente relata", "Queixa-se de", "Chegou com", "Paciente apresenta"),
        (
            "dor no peito que irradia para o braço esquerdo",
            "falta de ar",
            "febre alta e calafrios",
            "tosse seca persistente",
            "dor de garganta",
            "dor de cabeça forte",
            "dor abdominal",
            "náuseas e vômitos",
            "tontura",
            "dor na parte de baixo das costas",
            "uma erupção com coceira nos braços",
            "o tornozelo inchado depois de uma queda",
            "um corte profundo na mão",
            "ardência ao urinar",
            "fraqueza súbita de um lado do corpo",
            "dor de ouvido",
            "palpitações",
            "diarreia",
        ),
        ("desde ontem", "há dois dias", "desde hoje de manhã", "há uma semana"),
    ),
    "it": (
        ("Il paziente riferisce", "La paziente lamenta", "Arriva con", "Riferisce di avere"),
        (
            "dolore al petto che si irradia al braccio sinistro",
            "fiato corto",
            "febbre alta e brividi",
            "tosse secca persistente",
            "mal di gola",
            "un forte mal di testa",
            "dolore addominale",
            "nausea e vomito",
            "vertigini",
            "dolore lombare",
            "un'eruzione cutanea pruriginosa sulle braccia",
            "una caviglia gonfia dopo una caduta",
            "un taglio profondo alla mano",
            "bruciore durante la minzione",
            "debolezza improvvisa su un lato del corpo",
            "mal d'orecchio",
            "palpitazioni",
            "diarrea",
        ),
        ("da ieri", "da due giorni", "da stamattina", "da una settimana"),
    ),
    "hi": (
        ("Mareez ko", "Patient ko", "Mujhe", "Inko"),
        (
            "seene mein dard jo baayen haath tak jaata hai",
            "saans lene mein takleef",
            "tez bukhar aur kapkapi",
            "lagataar sookhi khaansi",
            "gale mein kharaash",
            "sir mein bahut tez dard",
            "pet mein dard",
            "ulti aur ji machlana",
            "chakkar aana",
            "kamar ke neeche dard",
            "haathon par khujli wale daane",
            "girne ke baad takhne mein sujan",
            "haath par gehra ghaav",
            "peshaab mein jalan",
            "achanak sharir ke ek taraf kamzori",
            "kaan mein dard",
            "dil ki dhadkan bahut tez",
            "dast",
        ),
        ("kal se hai", "do din se hai", "subah se ho raha hai", "ek hafte se hai"),
    ),
}
_LANGS = tuple(_FOREIGN)
_OPENERS_X = np.array([v[0] for v in _FOREIGN.values()], dtype=object)
_SYMPTOM_X = np.array([v[1] for v in _FOREIGN.values()], dtype=object)
_DURATIONS_X = np.array([v[2] for v in _FOREIGN.values()], dtype=object)

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


def reference_table(rows: int = 5000, seed: int = 7) -> pa.Table:
    """Return clean English-only demo triage data with no missing values."""
    _check_rows(rows)
    return _simulate(np.random.default_rng(seed), rows, 0.0)


def production_batch(rows: int = 1000, drift: float = 0.0, seed: int = 1) -> pa.Table:
    """Return a production-like triage batch whose distance from the reference grows with ``drift``."""
    _check_rows(rows)
    if not 0.0 <= drift <= 1.0:
        raise ValueError(f"drift must be between 0.0 and 1.0 inclusive, got {drift!r}")
    return _simulate(np.random.default_rng(seed), rows, float(drift))


def write_examples(folder: Path) -> None:
    """Write reference.csv, batch_clean.csv and batch_drifted.csv into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pa_csv.write_csv(reference_table(5000, seed=7), folder / "reference.csv")
    pa_csv.write_csv(production_batch(1000, 0.0, seed=11), folder / "batch_clean.csv")
    pa_csv.write_csv(production_batch(1000, 0.8, seed=12), folder / "batch_drifted.csv")


def _check_rows(rows: int) -> None:
    """Raise ValueError unless ``rows`` is a non-negative integer."""
    if isinstance(rows, bool) or not isinstance(rows, int | np.integer):
        raise ValueError(f"rows must be an integer, got {rows!r}")
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Draw one category index per row from row-wise probability vectors."""
    cumulative = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0])[:, None]
    return np.minimum((u > cumulative).sum(axis=1), probs.shape[1] - 1)


def _simulate(rng: np.random.Generator, n: int, drift: float) -> pa.Table:
    """Generate ``n`` triage rows with every drift effect scaled by ``drift``."""

    def affected(rate: float) -> np.ndarray:
        return rng.random(n) < drift * rate

    complaint = rng.choice(len(_COMPLAINTS), size=n, p=_COMPLAINT_P)
    severity = _SEVERITY[complaint]

    is_child = rng.random(n) < 0.12
    age = np.where(
        is_child,
        rng.uniform(0.5, 17.9, n),
        np.clip(rng.normal(45.0, 17.0, n), 18.0, 97.0),
    )
    older = affected(_RATE_OLDER)
    age = np.where(older, np.clip(rng.normal(72.0, 9.0, n), 50.0, 99.0), age)
    age = np.round(age, 1)

    fever = rng.random(n) < _FEVER_P[complaint]
    temperature = rng.normal(36.85, 0.3, n) + fever * rng.gamma(4.0, 0.45, n)
    temperature = np.round(np.clip(temperature, 35.2, 41.6), 1)

    heart_rate = (
        76.0
        + _HR_OFFSET[complaint]
        + 9.0 * np.maximum(temperature - 37.2, 0.0)
        + np.where(age < 12.0, 22.0, 0.0)
        + rng.normal(0.0, 10.0, n)
    )
    heart_rate = heart_rate + affected(_RATE_TACHY) * rng.normal(14.0, 6.0, n)
    heart_rate = np.round(np.clip(heart_rate, 38.0, 195.0))

    systolic = np.where(
        age < 12.0,
        rng.normal(102.0, 8.0, n),
        112.0 + 0.5 * np.maximum(age - 30.0, 0.0) + _SBP_OFFSET[complaint] + rng.normal(0.0, 13.0, n),
    )
    systolic = np.round(np.clip(systolic, 70.0, 230.0))

    pain = np.clip(np.rint(rng.normal(_PAIN_MEAN[complaint], 1.7)), 0, 10).astype(np.int64)

    arrival = np.array(ARRIVAL_MODES, dtype=object)[_pick(rng, _ARRIVAL_P[severity])]
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

    language = rng.integers(0, len(_LANGS), n)
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
        _OPENERS_EN[rng.integers(0, len(_OPENERS_EN), n)]
        + " "
        + _SYMPTOM_EN[complaint]
        + " "
        + _DURATIONS_EN[rng.integers(0, len(_DURATIONS_EN), n)]
        + _MODIFIERS_EN[rng.integers(0, len(_MODIFIERS_EN), n)]
        + "."
        + _EXTRAS_EN[rng.integers(0, len(_EXTRAS_EN), n)]
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
            opener = _OPENERS_X[lang, rng.integers(0, _OPENERS_X.shape[1], idx.size)]
            duration = _DURATIONS_X[lang, rng.integers(0, _DURATIONS_X.shape[1], idx.size)]
        else:
            opener = _OPENERS_EN[rng.integers(0, len(_OPENERS_EN), idx.size)]
            duration = _DURATIONS_EN[rng.integers(0, len(_DURATIONS_EN), idx.size)]
        middle = _SYMPTOM_X[lang, comp] if complaint_text == "x" else _SYMPTOM_EN[comp]
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


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "examples" / "triage"
    write_examples(target)
    print(f"wrote reference.csv, batch_clean.csv and batch_drifted.csv to {target}")
