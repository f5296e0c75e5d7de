"""The course's committed record, seen from the tools: ``shared/course-results/`` of a course
folder. ``shared.results`` (full runs) and ``shared.measurements`` (run times, bench, levers,
ablation) are the one reader and writer of its files; this module only says where the folder
is for a given course folder ``root`` (a test's copy of the course has its own)."""

from __future__ import annotations

from pathlib import Path

import shared
from shared import measurements, results

#: ``shared/course-results`` as a path inside a course folder.
COMMITTED = results.COMMITTED_RESULTS.relative_to(Path(shared.__file__).resolve().parents[1])


def folder(root: Path) -> Path:
    """The committed record of the course folder ``root``."""
    return root / COMMITTED


def read(root: Path, name: str) -> dict | None:
    """Measurement ``name`` of ``root``'s record, checked whole (``shared.measurements.read``)."""
    return measurements.read(name, folder(root))


def write(root: Path, name: str, record: dict) -> Path:
    """Check and write measurement ``name`` into ``root``'s record, and say so."""
    path = measurements.write(name, record, folder(root))
    print(f"\nwrote {path.relative_to(root)}")
    return path
