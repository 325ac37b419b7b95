"""Throwaway services and installed programs the tests run: PostgreSQL clusters, Prometheus, promtool."""
