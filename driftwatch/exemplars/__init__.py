"""Stored OOD exemplars for people: show a check's, and export a period's as a labelling queue."""
