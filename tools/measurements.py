"""The measurement files ``make bench`` and ``make levers`` write: ``results/<name>.json``."""

from __future__ import annotations

import json
from pathlib import Path

from shared import report


def write(root: Path, name: str, record: dict) -> Path:
    """Write ``record`` to ``results/<name>.json`` atomically and say so."""
    path = report.write_text_atomic(
        root / "results" / f"{name}.json", json.dumps(record, indent=2) + "\n"
    )
    print(f"\nwrote {path.relative_to(root)}")
    return path


def read(root: Path, name: str) -> dict | None:
    """``results/<name>.json`` as written by ``make <name>``, or None before the first run;
    a damaged file is a ValueError naming it (``shared.report.read_measurement``)."""
    return report.read_measurement(root / "results" / f"{name}.json")


def damaged(root: Path, name: str, problem) -> ValueError:
    """The error for a measurement file that cannot be used: which file, why, what to do."""
    if isinstance(problem, KeyError):
        problem = f"{problem} is missing"
    path = root / "results" / f"{name}.json"
    return ValueError(f"{path} is damaged ({problem}): run `make {name}` to measure again.")
