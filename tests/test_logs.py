"""The rate-limited logger shared by the daemon and the client."""

from __future__ import annotations

import logging

import pytest

from driftwatch.logs import LogThrottle


def test_log_throttle_lets_one_message_per_kind_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    throttle = LogThrottle(logging.getLogger("test.throttle"), 60.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="test.throttle"):
        assert [throttle.warning("a", "bad %s", i) for i in range(3)] == [True, False, False]
        assert throttle.warning("b", "other") is True
        now[0] = 61.0
        assert throttle.warning("a", "bad %s", 9) is True
    assert [r.getMessage() for r in caplog.records] == ["bad 0", "other", "bad 9 (2 similar messages suppressed)"]
