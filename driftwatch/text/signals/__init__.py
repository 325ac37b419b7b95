"""Text signals by name: the derived features of each text feature."""

from driftwatch.text.signals import language, length, script, vocabulary  # noqa: F401 (registration)
from driftwatch.text.signals.base import SIGNALS, Signal

__all__ = ["SIGNALS", "Signal"]
