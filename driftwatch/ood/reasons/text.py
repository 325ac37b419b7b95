"""unseen_language and unseen_script: text rows in a language or a script the reference's texts never had."""

from __future__ import annotations

from driftwatch.ood.reasons.base import register
from driftwatch.ood.reasons.categories import UnseenCategory


class _TextSignalCategory(UnseenCategory):
    """An unseen value of one text signal; it judges nothing on a monitor without text signals."""

    live = False  # the signals are derived when a check reads its sample, not as rows arrive

    @property
    def applicable(self) -> bool:
        return bool(self.known)


@register
class UnseenLanguage(_TextSignalCategory):
    """A language (the row's `<feature>.language`) outside the reference's, at min_frequency; not unknown or none."""

    name = "unseen_language"
    signal = "language"
    not_values = frozenset({"unknown", "none"})


@register
class UnseenScript(_TextSignalCategory):
    """A main script (the row's `<feature>.script`: a script, mixed or mojibake) outside the reference's."""

    name = "unseen_script"
    signal = "script"
    not_values = frozenset({"none"})
