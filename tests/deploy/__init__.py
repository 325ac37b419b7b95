"""Tests for the deployment files in deploy/ (Docker, docker compose, Kubernetes) and .dockerignore."""
