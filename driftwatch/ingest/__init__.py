"""Live ingestion: decode request bodies and inference-logger CloudEvents into Arrow tables for the monitors."""

from driftwatch.ingest.cloudevents import CloudEvent, EventJoiner, JoinStats, parse_cloudevent
from driftwatch.ingest.inference import inference_table
from driftwatch.ingest.payloads import ParsedRows, PayloadError, RowError, decode_body, parse_rows

__all__ = [
    "CloudEvent",
    "EventJoiner",
    "JoinStats",
    "ParsedRows",
    "PayloadError",
    "RowError",
    "decode_body",
    "inference_table",
    "parse_cloudevent",
    "parse_rows",
]
