"""Comparing a window with the reference: the check engine, its stat tests, and rendering its results."""
