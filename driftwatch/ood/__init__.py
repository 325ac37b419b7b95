"""Out-of-distribution rows: per-row verdicts with reasons, a calibrated novelty score, and exemplars."""
