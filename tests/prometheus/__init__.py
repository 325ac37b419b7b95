"""Tests for the Prometheus alert rules in deploy/prometheus/rules/."""
