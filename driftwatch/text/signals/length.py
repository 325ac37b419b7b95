"""length and tokens: characters and tokens per row (0 for an empty or missing text), each over the whole row."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from driftwatch.text.signals.base import Signal, Texts, register
from driftwatch.text.tokens import token_count
from driftwatch.types import Kind


@register
class Length(Signal):
    """The row's length in characters (Unicode code points)."""

    name = "length"
    kind = Kind.NUMERIC

    def current(self, texts: Texts, state: pa.Table | None) -> pa.Array:
        return pa.array(np.fromiter((len(t) if isinstance(t, str) else 0 for t in texts), np.float64, len(texts)))


@register
class Tokens(Signal):
    """The row's tokens (driftwatch.text.tokens: words, and each character of a script written without spaces)."""

    name = "tokens"
    kind = Kind.NUMERIC

    def current(self, texts: Texts, state: pa.Table | None) -> pa.Array:
        return pa.array(np.fromiter((token_count(t) for t in texts), np.float64, len(texts)))
