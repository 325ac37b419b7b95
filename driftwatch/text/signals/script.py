"""script: the Unicode script most of the row's letters are in, "mixed", or "mojibake" for wrongly decoded text."""

from __future__ import annotations

import pyarrow as pa

from driftwatch.text.scripts import SCRIPTS, main_scripts
from driftwatch.text.signals.base import Signal, Texts, register
from driftwatch.types import Kind


@register
class Script(Signal):
    """The row's main script (Latin, Cyrillic, Arabic, Han, ...), with shares per script in the check's text block."""

    name = "script"
    kind = Kind.CATEGORICAL

    def reference(self, texts: Texts) -> tuple[pa.Array, pa.Table | None]:
        mains, letters = main_scripts(texts)
        return pa.array(mains, pa.string()), pa.table({"script": list(SCRIPTS), "letters": letters})

    def current(self, texts: Texts, state: pa.Table | None) -> pa.Array:
        return pa.array(main_scripts(texts)[0], pa.string())
