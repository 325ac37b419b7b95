"""The promotion route: POST /v1/monitors/{monitor}/reference/promote, adapted to Daemon.promote_reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Path
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from driftwatch.reference.promote import Selection
from driftwatch.reference.versions import VersionError
from driftwatch.serve.problems import ApiError
from driftwatch.serve.schemas import errors

if TYPE_CHECKING:
    from driftwatch.serve.daemon import Daemon


class PromoteRequest(BaseModel):
    """Which checks' window samples become the new reference, and why."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    check: int | None = Field(None, ge=1, le=2**63 - 1, description="A stored check's id.")
    since: float | None = Field(None, alias="from", description="Or every check started from (epoch seconds) ...")
    until: float | None = Field(None, alias="to", description="... up to this time (epoch seconds, excluded).")
    merge: bool = Field(False, description="Keep the current reference's rows beside the samples' rows.")
    reason: str = Field(min_length=1, max_length=2000, description="Why the shift is real and expected.")


class Promoted(BaseModel):
    """The version promoted, where its rows came from, and the reload that put it in use."""

    monitor: str
    version: str = Field(description="The new reference version; checks from now on record it.")
    previous: str = Field(description="The version in use before (`config`: the configured reference).")
    rows: int
    merged: bool
    checks: list[int] = Field(description="The checks whose samples were taken.")
    created_at: float
    reload: str = Field(description="The reload's outcome: reloaded, or unchanged when it was already in use.")
    old_version: str | None = Field(description="The profile version judged with before.")


MonitorName = Annotated[str, Path(description="A monitor of the configuration.")]


def add_promotion_routes(app: FastAPI, daemon: Daemon, need: Callable[[str], list[Any]]) -> None:
    """POST /v1/monitors/{monitor}/reference/promote (admin)."""

    @app.post(
        "/v1/monitors/{monitor}/reference/promote",
        tags=["monitors"],
        response_model=Promoted,
        responses=errors(401, 403, 404, 409, 422, 500, 503),
        dependencies=need("admin"),
    )
    async def post_reference_promote(monitor: MonitorName, body: PromoteRequest) -> dict[str, Any]:
        """Make a check's window sample (or every check's in from/to) the monitor's reference, and reload it."""
        daemon.config.monitor(monitor)  # an unknown monitor is a 404 before the body is judged
        try:
            selection = Selection(body.check, body.since, body.until)
            entry, result = await run_in_threadpool(
                daemon.promote_reference, monitor, selection, reason=body.reason, merge=body.merge
            )
        except VersionError as exc:
            raise ApiError(exc.status, str(exc), reason=exc.reason) from None
        return {
            "monitor": monitor,
            "version": entry.version,
            "previous": entry.previous,
            "rows": entry.rows,
            "merged": entry.merged,
            "checks": entry.checks,
            "created_at": entry.created_at,
            "reload": result.outcome,
            "old_version": result.old_version,
        }
