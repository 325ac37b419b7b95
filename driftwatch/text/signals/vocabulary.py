"""oov_rate: the share of a row's tokens the reference's texts never contained."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from driftwatch.text.signals.base import Signal, Texts, register
from driftwatch.text.tokens import tokens
from driftwatch.types import Kind


@register
class OutOfVocabulary(Signal):
    """Unknown tokens over tokens (0 for a row without tokens).

    A reference row's own tokens are always known to a vocabulary built from it, so the reference is split in two
    halves (alternate rows): each half's rows are scored against the other half's vocabulary, and a current row
    against one of the two (alternately), so that reference and current rows are scored alike.
    """

    name = "oov_rate"
    kind = Kind.NUMERIC

    def reference(self, texts: Texts) -> tuple[pa.Array, pa.Table | None]:
        folds = [set(), set()]
        rows = [tokens(t) for t in texts]
        for i, toks in enumerate(rows):
            folds[i % 2].update(toks)
        values = np.array([_rate(toks, folds[1 - i % 2]) for i, toks in enumerate(rows)])
        words = [sorted(f) for f in folds]
        state = pa.table(
            {
                "token": pa.array(words[0] + words[1], pa.string()),
                "fold": pa.array([0] * len(words[0]) + [1] * len(words[1]), pa.int8()),
            }
        )
        return pa.array(values, pa.float64()), state

    def current(self, texts: Texts, state: pa.Table | None) -> pa.Array:
        if state is None:
            raise ValueError("oov_rate needs the reference's vocabulary")
        fold = state.column("fold").to_numpy()
        words = state.column("token").to_pylist()
        folds = [{w for w, f in zip(words, fold, strict=True) if f == k} for k in (0, 1)]
        # The fold scoring a row alternates, as for reference rows (each row faces the other half's vocabulary).
        values = np.array([_rate(tokens(t), folds[1 - i % 2]) for i, t in enumerate(texts)])
        return pa.array(values, pa.float64())


def _rate(toks: list[str], vocabulary: set[str]) -> float:
    if not toks:
        return 0.0
    return sum(t not in vocabulary for t in toks) / len(toks)
