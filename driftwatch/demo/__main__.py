"""`python -m driftwatch.demo` rewrites the bundled example data under examples/triage/."""

from pathlib import Path

from driftwatch.demo import write_examples

target = Path(__file__).resolve().parents[2] / "examples" / "triage"
write_examples(target)
print(f"wrote reference.csv, batch_clean.csv and batch_drifted.csv to {target}")
