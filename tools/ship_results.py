"""Copy the committed measurements, ``results/*.json``, into the helper package.

python -m tools.ship_results          copy them to shared/course-results/ (make run, make readme)
python -m tools.ship_results --check  exit 1 when shared/course-results/ differs from results/

A notebook opened from a Colab badge has no ``results/`` folder next to it; the copies inside
the installed package are what notebook 07 shows there (``shared.report.load_comparison``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "results"
SHIPPED = ROOT / "shared" / "course-results"


def differences(source: Path = SOURCE, shipped: Path = SHIPPED) -> list[str]:
    """Files that are missing, stale or extra in ``shipped``; empty when it matches ``source``."""
    wanted = {p.name: p.read_bytes() for p in sorted(source.glob("*.json"))}
    present = {p.name: p.read_bytes() for p in sorted(shipped.glob("*.json"))}
    found = [f"{name} is missing" for name in wanted if name not in present]
    found += [
        f"{name} differs" for name in wanted if name in present and present[name] != wanted[name]
    ]
    found += [f"{name} is not in results/" for name in present if name not in wanted]
    return found


def ship(source: Path = SOURCE, shipped: Path = SHIPPED) -> list[str]:
    """Make ``shipped`` an exact copy of the JSON files in ``source``; returns what changed."""
    changes = differences(source, shipped)
    shipped.mkdir(parents=True, exist_ok=True)
    for stale in shipped.glob("*.json"):
        if not (source / stale.name).is_file():
            stale.unlink()
    for path in source.glob("*.json"):
        target = shipped / path.name
        if not target.is_file() or target.read_bytes() != path.read_bytes():
            shutil.copyfile(path, target)
    return changes


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        found = differences()
        if found:
            print("shared/course-results/ is stale: " + "; ".join(found))
            print("Run `python -m tools.ship_results` (make readme does it).")
            return 1
        return 0
    for change in ship():
        print(f"shared/course-results/: {change}, copied")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
