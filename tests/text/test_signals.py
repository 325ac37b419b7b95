"""Text signals on the written corpus: scripts, tokens and OOV rates, and the derived features a check judges."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from driftwatch import demo
from driftwatch.checks.engine import run_check
from driftwatch.config import DriftSettings, MonitorConfig, OodSettings
from driftwatch.ood.score import score_ood
from driftwatch.reference.profile import build_profile
from driftwatch.text import corpus
from driftwatch.text.current import current_signals
from driftwatch.text.scripts import HAN_KANA, MOJIBAKE, NONE, letter_counts, main_scripts
from driftwatch.text.signals import SIGNALS
from driftwatch.text.tokens import tokens
from driftwatch.types import Status

EXPECTED_SCRIPT = {"Japanese": HAN_KANA}


@pytest.mark.parametrize("language", corpus.LANGUAGES)
def test_each_language_has_its_script(language: str) -> None:
    texts = [t.text for t in corpus.short_texts(language) + corpus.long_texts(language)]
    mains, letters = main_scripts(texts)
    expected = EXPECTED_SCRIPT.get(corpus.SCRIPTS[language], corpus.SCRIPTS[language])
    assert np.mean([m == expected for m in mains]) >= 0.95, (language, set(mains))
    assert letters.sum() > 0


def test_rows_without_letters_have_no_script_and_mojibake_is_named() -> None:
    edge = corpus.edge_rows()
    mains, _ = main_scripts([t.text for t in edge] + [None])
    by_kind = dict(zip([t.kind for t in edge] + ["null"], mains, strict=True))
    for kind in (corpus.EMPTY, corpus.WHITESPACE, corpus.EMOJI, corpus.DIGITS, corpus.PUNCTUATION, "null"):
        assert by_kind[kind] == NONE, kind
    damaged = [t.text for t in edge if t.kind == corpus.MOJIBAKE]
    assert damaged and main_scripts(damaged)[0] == [MOJIBAKE] * len(damaged)
    assert main_scripts(["Patient hat seit gestern Fieber und Husten."])[0] == ["Latin"]  # German umlaut-free
    wide = "\uff46\uff45\uff56\uff45\uff52"  # fever in fullwidth letters
    assert main_scripts([wide, "ブーストが必要"])[0] == ["Latin", HAN_KANA]  # and the prolonged sound mark


def test_letter_shares_of_a_mixed_row() -> None:
    counts = letter_counts("Le patient dit مرحبا")
    assert counts.sum() == 17 and counts[0] == 12 and counts[3] == 5  # Latin, Arabic


def test_tokens_split_scripts_without_spaces_into_characters() -> None:
    assert tokens("Der Patient, 42 J., hat Fieber!") == ["der", "patient", "j", "hat", "fieber"]
    assert tokens("患者は熱がある") == list("患者は熱がある")
    assert tokens("Пациент жалуется") == ["пациент", "жалуется"] and tokens(None) == [] and tokens("😷 42") == []


def test_oov_is_cross_fitted_on_the_reference_and_high_on_new_words() -> None:
    english = [t.text for t in corpus.short_texts("en")]
    signal = SIGNALS["oov_rate"]()
    ref_values, state = signal.reference(english)
    reference = float(np.mean(ref_values.to_numpy()))
    assert state is not None and 0.05 < reference < 0.8  # each half of 30 short texts misses words of the other
    same = signal.current(english, state).to_numpy()
    assert np.allclose(np.sort(same), np.sort(ref_values.to_numpy()))  # scored alike: reference rows and current
    german = signal.current([t.text for t in corpus.short_texts("de")], state).to_numpy()
    assert german.mean() > max(0.85, reference + 0.2) and signal.current(["", None], state).to_pylist() == [0.0, 0.0]


def _monitor(**text: object) -> MonitorConfig:
    features = {"patient_age": "numeric", "channel": "categorical", "symptoms": "text"}
    return MonitorConfig(name="t", reference={"path": "unused"}, features=features, text=text or {})


@pytest.fixture(scope="module")
def profile():
    return build_profile(demo.reference_table(3000, seed=2), _monitor(), "v1", "memory")


def _with_texts(rows: int, texts: list[str], seed: int) -> pa.Table:
    table = demo.production_batch(rows, 0.0, seed=seed).select(["patient_age", "channel"])
    return table.append_column("symptoms", pa.array(texts, pa.string()))


def test_a_mix_of_eight_languages_is_measured_and_named_new(profile) -> None:
    rng = np.random.default_rng(7)
    english = demo.production_batch(600, 0.0, seed=8).column("symptoms").to_pylist()
    others = ["es", "fr", "de", "ru", "ar", "zh", "hi"]
    foreign = [t.text for code in others for t in corpus.short_texts(code)[:20]]  # 140 rows, 20 per language
    texts = english[:460] + foreign
    order = rng.permutation(len(texts))
    current = _with_texts(len(texts), [texts[i] for i in order], seed=9)
    result = run_check(profile, current, DriftSettings(decision="calibrated"), ood=OodSettings())
    by_name = {f.name: f for f in result.features}
    assert by_name["symptoms"].status == Status.SIGNALS and not by_name["symptoms"].drifted
    assert by_name["symptoms.language"].drifted and by_name["symptoms.script"].drifted
    block = result.text["symptoms"]
    for code in others:
        assert block.languages[code][1] == pytest.approx(20 / 600, abs=0.01), code
        assert code in block.new_languages
    assert block.languages["en"][0] == 1.0 and block.languages["en"][1] == pytest.approx(460 / 600, abs=0.02)
    assert {"Cyrillic", "Arabic", "Han", "Devanagari"} <= set(block.scripts)
    assert result.ood is not None
    assert result.ood.by_reason["unseen_language"] >= 130 and result.ood.by_reason["unseen_script"] >= 75


def test_clean_rows_drift_in_no_signal(profile) -> None:
    current = demo.production_batch(1000, 0.0, seed=11).select(["patient_age", "channel", "symptoms"])
    result = run_check(profile, current, DriftSettings(decision="calibrated"), ood=OodSettings())
    signals = [f for f in result.features if f.name.startswith("symptoms.")]
    assert len(signals) == 6 and not any(f.drifted for f in signals)
    block = result.text["symptoms"]
    assert block.new_languages == {} and block.code_switching == (0.0, 0.0)
    assert result.ood is not None and result.ood.by_reason["unseen_language"] == 0


def test_code_switching_reads_at_most_its_rows_and_the_signals_can_be_switched_off(profile) -> None:
    current = demo.production_batch(300, 1.0, seed=3).select(["patient_age", "channel", "symptoms"])
    few = build_profile(demo.reference_table(3000, seed=2), _monitor(code_switching_rows=100), "v9", "memory")
    signals = current_signals(few, current)  # under the settings the profile was built with
    assert len(signals["symptoms.code_switching"]) == 100 and len(signals["symptoms.language"]) == 300
    none = build_profile(demo.reference_table(500, seed=2), _monitor(signals=[]), "v0", "memory")
    result = run_check(none, current, DriftSettings(decision="calibrated"))
    (text,) = [f for f in result.features if f.name == "symptoms"]
    assert text.method == "perc_text_content_drift" and result.text == {}


def test_signals_read_the_first_max_chars_of_a_row_but_length_and_tokens_count_all(profile) -> None:
    german = " ".join(t.text for t in corpus.short_texts("de"))  # about 1,700 characters of German
    english = corpus.long_texts("en")[0].text  # 500-700 characters of English
    current = _with_texts(2, [english + " " + german, german], seed=1)
    signals = current_signals(profile, current)
    assert profile.text is not None and profile.text.max_chars == 120
    assert signals["symptoms.language"].to_pylist() == ["en", "de"]  # the first 120 characters tell
    texts = current.column("symptoms").to_pylist()
    assert signals["symptoms.length"].to_pylist() == [len(t) for t in texts]
    assert signals["symptoms.tokens"].to_pylist() == [len(tokens(t)) for t in texts]
    assert signals["symptoms.tokens"].to_pylist()[0] > 250
    whole = build_profile(demo.reference_table(1000, seed=2), _monitor(max_chars=0), "v8", "memory")
    assert current_signals(whole, current)["symptoms.language"].to_pylist() == ["de", "de"]  # more German read


def test_the_text_row_is_never_judged_itself_even_without_a_string(profile) -> None:
    current = demo.production_batch(400, 0.0, seed=5).select(["patient_age", "channel"])
    current = current.append_column("symptoms", pa.array(range(400)))  # numbers where texts belong
    result = run_check(profile, current, DriftSettings(decision="calibrated"))
    row = next(f for f in result.features if f.name == "symptoms")
    assert row.status == Status.SIGNALS and not row.drifted and row.quality.type_error_rate == 1.0
    assert result.judged_features == len(result.features) - 1


def test_a_signal_keeps_its_test_whatever_the_window_holds(profile) -> None:
    methods = set()
    for drift, seed in ((0.0, 12), (1.0, 13)):
        result = run_check(profile, demo.production_batch(500, drift, seed=seed), DriftSettings(decision="calibrated"))
        methods.add(tuple((f.name, f.method) for f in result.features if f.name.startswith("symptoms.")))
    assert len(methods) == 1


def test_an_absent_text_column_is_reported_once(profile) -> None:
    current = demo.production_batch(300, 0.0, seed=3).select(["patient_age", "channel"])
    result = run_check(profile, current, DriftSettings(decision="calibrated"))
    names = [f.name for f in result.features]
    assert "symptoms" in names and not any(n.startswith("symptoms.") for n in names)
    assert score_ood(profile, current, OodSettings()) is not None


def test_a_surge_against_a_monolingual_reference_is_flagged_at_an_open_look(profile) -> None:
    # One language, one script, no code-switching in the reference: their nulls are constant, so the evidence is
    # the count of rows unlike the reference's (an exact test), strong enough for a small share of alpha.
    english = demo.production_batch(400, 0.0, seed=21).column("symptoms").to_pylist()
    foreign = [t.text for code in ("es", "ru", "zh", "ar") for t in corpus.short_texts(code)[:25]]
    current = _with_texts(500, english + foreign, seed=22)
    result = run_check(profile, current, DriftSettings(decision="calibrated"), look_share=0.001)
    by_name = {f.name: f for f in result.features}
    assert by_name["symptoms.language"].calibration == "exact" and by_name["symptoms.language"].p_value < 1e-20
    assert by_name["symptoms.language"].drifted and by_name["symptoms.script"].drifted
    same = run_check(profile, _with_texts(500, english + english[:100], seed=23), DriftSettings(decision="calibrated"))
    assert not any(f.drifted for f in same.features if f.name in ("symptoms.language", "symptoms.script"))


def test_a_window_too_small_to_judge_still_scores_its_rows_with_their_signals(profile) -> None:
    current = demo.production_batch(40, 0.0, seed=31).select(["patient_age", "channel", "symptoms"])
    result = run_check(profile, current, DriftSettings(decision="calibrated", min_rows=100), ood=OodSettings())
    assert result.status == Status.INSUFFICIENT_DATA and result.text == {}
    assert result.ood is not None and result.ood.rows == 40 and result.ood.by_reason["novel"] <= 2  # not all novel


def test_letter_shares_read_what_the_reference_read(profile) -> None:
    russian = " ".join(t.text for t in corpus.short_texts("ru"))  # Cyrillic, long past max_chars
    english = corpus.long_texts("en")[0].text[:200]
    result = run_check(profile, _with_texts(200, [english + " " + russian] * 200, seed=4), DriftSettings())
    assert result.text["symptoms"].scripts == {"Latin": (1.0, 1.0)}  # the first 200 characters are English
