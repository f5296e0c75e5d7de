"""What a complete run of the course leaves behind: the course's record, replaced as a whole.

``python -m tools.course run`` executes every notebook; each backend notebook saves its results
in ``results/`` as any full run does. Only when every notebook of the catalogue has run, in
this one run and without error, does this module copy those results and the run times into
the course's record (``shared/course-results/``, read by notebook 07, the setup cells and the
README): a run of part of the course, or one that stops half-way, leaves the record as it was,
so no number in it ever comes from another machine or another day than its neighbours.
"""

from __future__ import annotations

from pathlib import Path

from shared import catalogue, files, machine, measurements, results

from . import measurements as record_folder


def check_writable(folders: list[Path]) -> None:
    """Each of ``folders`` (created if missing) accepts a new file, before anything runs."""
    for folder in folders:
        try:
            files.check_writable(folder, 64 * 1024)
        except OSError as err:
            raise SystemExit(
                f"Cannot write into {folder} ({files.reason(err)}): fix that, then run again."
            ) from None


def new_runs(root: Path, started: float, listed=None) -> dict[str, dict]:
    """Every backend's results that this run saved in ``results/`` (written after ``started``,
    a ``time.time()``, in full mode), checked whole; a RuntimeError lists what is missing."""
    runs, problems = {}, []
    for nb in catalogue.backends(listed):
        path = root / "results" / f"{nb.name}.json"
        try:
            run = results.read_results(path)
        except (FileNotFoundError, ValueError) as err:
            problems.append(str(err))
            continue
        if path.stat().st_mtime < started:
            problems.append(f"{path} was not written by this run")
        elif run["mode"] != "full":
            problems.append(f"{path} is from a {run['mode']!r} run, not a full one")
        else:
            runs[nb.name] = run
    if problems:
        raise RuntimeError(
            "every notebook ran, but the course's record needs each backend's results from "
            "this run:\n  " + "\n  ".join(problems) + "\nThe record was left as it was."
        )
    return runs


def replace(root: Path, started: float, seconds: dict, device: str, listed=None) -> Path:
    """Replace the course's record of ``root`` with this complete run: the backends' results
    and ``run-times.json`` (``seconds`` per notebook file, measured on ``device``). Everything
    is checked before anything is written. Returns the record's folder."""
    runs = new_runs(root, started, listed)
    times = {"device": device, "seconds": seconds, "machine": machine.describe(device)}
    found = measurements.problems("run-times", times)
    if found:
        raise RuntimeError(f"the run times cannot be recorded: {'; '.join(found)}.")
    folder = record_folder.folder(root)
    for name, run in runs.items():
        results.write_results(folder / f"{name}.json", run)
    record_folder.write(root, "run-times", times)
    return folder
