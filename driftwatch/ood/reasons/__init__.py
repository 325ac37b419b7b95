"""OOD reasons by name: the per-value rules and the multivariate novelty score."""

from driftwatch.ood.reasons import categories, missing, novelty, ranges, text, unreadable  # noqa: F401 (registration)
from driftwatch.ood.reasons.base import REASONS, Flags, Reason, Rule

# The order reasons are reported in.
ORDER = (
    "out_of_range",
    "unseen_category",
    "unexpected_missing",
    "type_error",
    "unseen_language",
    "unseen_script",
    "novel",
)
# The per-value rules, counted on every ingested row (novelty runs on a check's sample).
RULES = tuple(name for name in ORDER if issubclass(REASONS[name], Rule) and REASONS[name].live)

__all__ = ["ORDER", "REASONS", "RULES", "Flags", "Reason", "Rule"]
