"""The running daemon: monitors and schedules, the HTTP API, the metrics collector and the server runner."""
