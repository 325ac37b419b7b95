"""What the demo patients say and have: complaints with their vital-sign effects, and phrases in six languages."""

from __future__ import annotations

import numpy as np

# Per complaint: English phrase, severity (0-3), chance of fever, heart-rate offset, typical pain,
# systolic offset, sampling weight.
COMPLAINTS: tuple[tuple[str, int, float, float, float, float, float], ...] = (
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
SYMPTOM_EN = np.array([c[0] for c in COMPLAINTS], dtype=object)
SEVERITY = np.array([c[1] for c in COMPLAINTS], dtype=np.int64)
FEVER_P = np.array([c[2] for c in COMPLAINTS])
HR_OFFSET = np.array([c[3] for c in COMPLAINTS])
PAIN_MEAN = np.array([c[4] for c in COMPLAINTS])
SBP_OFFSET = np.array([c[5] for c in COMPLAINTS])
COMPLAINT_P = np.array([c[6] for c in COMPLAINTS])
COMPLAINT_P = COMPLAINT_P / COMPLAINT_P.sum()
# Arrival mode shares (walk_in, ambulance, referral) by complaint severity.
ARRIVAL_P = np.array([[0.72, 0.05, 0.23], [0.64, 0.13, 0.23], [0.50, 0.30, 0.20], [0.30, 0.62, 0.08]])

OPENERS_EN = np.array(
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
DURATIONS_EN = np.array(
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
MODIFIERS_EN = np.array(
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
EXTRAS_EN = np.array(
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

# Translations follow the order of COMPLAINTS so a row keeps its meaning in every language.
FOREIGN: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
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
LANGS = tuple(FOREIGN)
OPENERS_X = np.array([v[0] for v in FOREIGN.values()], dtype=object)
SYMPTOM_X = np.array([v[1] for v in FOREIGN.values()], dtype=object)
DURATIONS_X = np.array([v[2] for v in FOREIGN.values()], dtype=object)
