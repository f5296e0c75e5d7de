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
    """``results/<name>.json`` as written by ``make <name>``, or None before the first run."""
    path = root / "results" / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None
