"""Send live inference inputs to a driftwatch daemon from inside a model server, without ever slowing it down."""

from driftwatch.client.encoding import ARROW_STREAM, GZIP_THRESHOLD
from driftwatch.client.sender import Client, ClientStats, Rows

__all__ = ["ARROW_STREAM", "GZIP_THRESHOLD", "Client", "ClientStats", "Rows"]
