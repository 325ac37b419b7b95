"""Tests for driftwatch.ingest."""
