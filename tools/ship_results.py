"""Copy the committed measurements in ``results/`` into the helper package: the results file of
every backend in the catalogue and the measurement files named in ``MEASUREMENTS`` (a stray
copy such as ``03_x (copy).json`` is never shipped).

python -m tools.ship_results          copy them to shared/course-results/ (make run, make readme)
python -m tools.ship_results --check  exit 1 when shared/course-results/ differs from results/

A notebook opened from a Colab badge has no ``results/`` folder next to it; the copies inside
the installed package are what notebook 07 shows there (``shared.report.load_comparison``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from shared import catalogue

#: Measurement files written by ``make run``, ``make bench``, ``make levers`` and the ablation.
MEASUREMENTS = ("run-times", "bench", "levers", "ablation")
ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "results"
SHIPPED = ROOT / "shared" / "course-results"


def shippable(source: Path) -> list[Path]:
    """The files of ``source`` that the package carries, those that exist."""
    names = [*catalogue.backend_names(), *MEASUREMENTS]
    return [source / f"{name}.json" for name in names if (source / f"{name}.json").is_file()]


def differences(source: Path = SOURCE, shipped: Path = SHIPPED) -> list[str]:
    """Files that are missing, stale or extra in ``shipped``; empty when it matches ``source``."""
    wanted = {p.name: p.read_bytes() for p in shippable(source)}
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
    keep = {p.name for p in shippable(source)}
    for stale in shipped.glob("*.json"):
        if stale.name not in keep:
            stale.unlink()
    for path in shippable(source):
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
