"""Repeated looks at one open window: each check spends part of the window's alpha, and all of them at most alpha.

A tumbling window is checked on every schedule tick while it fills, and once more when it closes. Each look is
another chance for noise to cross the line, so the looks share the window's alpha by a spending function of the
elapsed fraction t of the window (Lan and DeMets, 1983): the open looks may together spend
`open_share * ln(1 + (e - 1) t)` of it (the Pocock-type function, which spends early looks more evenly than
O'Brien-Fleming's), and the final check at close spends whatever is left. A look's level is its share times alpha.
By the union bound, the chance that a clean window is flagged at any look is at most alpha, whatever the correlation
between looks, the schedule or the traffic.
"""

from __future__ import annotations

import math


def spent_by(fraction: float, open_share: float) -> float:
    """The share of alpha open looks may have spent in total by elapsed fraction `fraction` of the window."""
    t = min(max(fraction, 0.0), 1.0)
    return open_share * math.log1p((math.e - 1.0) * t)


def look_share(fraction: float, spent: float, open_share: float, *, closed: bool) -> float:
    """This look's share of the window's alpha, given what earlier looks spent; the closed window gets the rest."""
    if closed:
        return max(0.0, 1.0 - spent)
    return max(0.0, spent_by(fraction, open_share) - spent)
