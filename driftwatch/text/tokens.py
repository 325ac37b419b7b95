"""Tokens of a text, also for scripts written without spaces between words."""

from __future__ import annotations

import re

# Scripts written without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Myanmar, Khmer): each of their
# characters is a token. Elsewhere a token is a run of letters, lowercased; digits and punctuation are not tokens.
_NO_SPACES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
_TOKEN = re.compile(f"[{_NO_SPACES}]|[^\\W\\d_{_NO_SPACES}]+")


def tokens(text: str | None) -> list[str]:
    """The text's tokens, lowercased."""
    if not isinstance(text, str):
        return []
    return _TOKEN.findall(text.lower())
