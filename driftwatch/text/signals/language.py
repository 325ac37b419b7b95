"""language and code_switching: which language each row is in, and whether it switches language mid-row."""

from __future__ import annotations

import pyarrow as pa

from driftwatch.text import language
from driftwatch.text.signals.base import Signal, Texts, register
from driftwatch.types import Kind

SWITCHED, SINGLE = "true", "false"


@register
class Language(Signal):
    """fastText's language of the row (ISO 639-1), "unknown" below its confidence floor, "none" without letters."""

    name = "language"
    kind = Kind.CATEGORICAL

    def current(self, texts: Texts, state: pa.Table | None) -> pa.Array:
        return pa.array(language.identify(texts)[0], pa.string())


@register
class CodeSwitching(Signal):
    """ "true" for a row with two languages each covering a meaningful span of it (lingua's spans), else "false"."""

    name = "code_switching"
    kind = Kind.CATEGORICAL

    def current(self, texts: Texts, state: pa.Table | None) -> pa.Array:
        flags = language.code_switched(texts)
        return pa.array([SWITCHED if f else SINGLE for f in flags.tolist()], pa.string())
