"""driftwatch: alerts when production inputs leave the distribution of a model's reference data."""

__version__ = "0.1.0"
