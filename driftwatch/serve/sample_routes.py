"""The HTTP routes of checks' window samples: whether one is kept, and the sample itself as an Arrow stream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.ipc as ipc
from fastapi import FastAPI, Path
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from driftwatch.config import Scope
from driftwatch.serve.daemon import Daemon
from driftwatch.serve.problems import ApiError
from driftwatch.serve.schemas import MAX_ID, errors
from driftwatch.storage import CheckRecord
from driftwatch.storage.samples import PRUNED, read_sample, sample_info, sample_path

ARROW_STREAM = "application/vnd.apache.arrow.stream"


def sample_dict(daemon: Daemon, record: CheckRecord) -> dict[str, Any]:
    """The `sample` of GET /v1/checks/{id}: kept, rows, path relative to data_dir, or why not."""
    return sample_info(daemon.config.data_dir, record.monitor, record.started_at, record.trigger).to_dict()


def add_sample_routes(app: FastAPI, daemon: Daemon, need: Callable[[Scope | None], list[Any]]) -> None:
    """Add GET /v1/checks/{id}/sample to the daemon's app (scope `read`, as the check itself)."""

    def sample_bytes(check_id: int) -> bytes:
        record = daemon.store.get_check(check_id)
        if record is None:
            raise ApiError(404, f"no check with id {check_id}")
        path = sample_path(daemon.config.data_dir, record.monitor, record.started_at, record.trigger)
        table = read_sample(path)
        if table is None:
            info = sample_info(daemon.config.data_dir, record.monitor, record.started_at, record.trigger)
            gone = path.with_suffix(PRUNED).exists()
            raise ApiError(410 if gone else 404, f"check {check_id} has no sample: {info.reason}")
        sink = pa.BufferOutputStream()
        with ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return sink.getvalue().to_pybytes()

    @app.get(
        "/v1/checks/{check_id}/sample",
        tags=["checks"],
        response_model=None,
        responses={
            200: {
                "description": "The rows the check judged, after `ood.redact`, with its text signals.",
                "content": {ARROW_STREAM: {"schema": {"type": "string", "format": "binary"}}},
            },
            **errors(401, 403, 404, 410, 422, 500, 503),
        },
        dependencies=need("read"),
    )
    async def get_sample(check_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Response:
        """The window sample a stored check judged, redacted, as an Arrow IPC stream; 410 once pruned."""
        body = await run_in_threadpool(sample_bytes, check_id)
        return Response(body, media_type=ARROW_STREAM)
