"""Run the whole course and keep the README's generated tables in step with ``results/``.

python -m tools.course run [NAME ...]   execute notebooks in full mode, in reading order
python -m tools.course readme           rewrite the README's generated tables
python -m tools.course check-readme     exit 1 when any of those tables is stale

NAME is a notebook's number (``03``) or name (``03_pytorch_sequential``), as listed in
``shared.catalogue``.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from shared import catalogue, config, report
from shared.runtime import clock

from . import measurements
from . import notebooks as course_notebooks
from .tables import markdown_table

TIMINGS = Path("results") / "run-times.json"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def notebooks(root: Path, names=(), listed=None) -> list[Path]:
    """The catalogue's notebooks in reading order, or only those named by number or name."""
    listed = listed or catalogue.NOTEBOOKS
    try:
        chosen = [catalogue.find(n, listed) for n in names] if names else list(listed)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    ordered = [nb for nb in listed if nb in chosen]
    paths = [root / "notebooks" / nb.file_name for nb in ordered]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"The catalogue lists notebooks that are not in notebooks/: {missing}.")
    return paths


def execute(path: Path, timeout: int = 3600) -> float:
    """Execute ``path`` top to bottom in full mode and replace it only when every cell ran.

    The kernel gets ``tools.notebooks.kernel_env()``: no course switch and the inline plotting
    backend, whatever the shell exported. Returns the wall time. Raises RuntimeError naming
    the notebook and the cell that failed, or KeyboardInterrupt after Ctrl-C; either way the
    notebook on disk is left exactly as it was.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    running = {"cell": None}
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": path.parent}},
        on_cell_start=lambda cell, cell_index: running.update(cell=cell_index),
    )
    failure: list[BaseException] = []

    def work() -> None:
        try:
            client.execute(env=course_notebooks.kernel_env())
        except BaseException as err:  # noqa: BLE001 - handed to the main thread
            failure.append(err)

    # The notebook runs in a worker thread so that Ctrl-C reaches this one, which then stops
    # the kernel and reports, instead of nbclient's own handler failing half-way.
    worker = threading.Thread(target=work, daemon=True)
    start = time.perf_counter()
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        _kill_kernel(client)
        worker.join(30)
        raise KeyboardInterrupt(_where(path, nb, running["cell"])) from None
    if failure:
        raise RuntimeError(_explain(path, nb, running["cell"], failure[0], timeout)) from None
    elapsed = time.perf_counter() - start
    report.write_text_atomic(path, nbformat.writes(nb) + "\n")
    return elapsed


def _where(path: Path, nb, index: int | None, verb: str = ",") -> str:
    """``03_x.ipynb, cell 33:`` and the cell's first lines (``verb`` after the name)."""
    if index is None:
        return f"{path.name}{verb} before its first cell:"
    lines = nb.cells[index].source.splitlines()[:3]
    return f"{path.name}{verb} cell {index + 1}:\n    " + "\n    ".join(lines)


def _explain(path: Path, nb, index: int | None, err: BaseException, timeout: int) -> str:
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    where = _where(path, nb, index, " failed in")
    if isinstance(err, DeadKernelError):
        why = (
            "The kernel died (its process ended) while running this cell. The usual cause is "
            "running out of memory: close other programs, or run this notebook alone, and "
            "try again."
        )
    elif isinstance(err, CellTimeoutError):
        why = f"The cell ran longer than {timeout} s and was stopped."
    elif isinstance(err, CellExecutionError):
        why = str(err).strip().splitlines()[-1]
    else:
        why = f"The notebook could not be run: {type(err).__name__}: {err}"
    return f"{where}\n{why}\nThe notebook file was left unchanged."


def _kill_kernel(client) -> None:
    """End the kernel of ``client`` and everything it started (its process group)."""
    provisioner = getattr(getattr(client, "km", None), "provisioner", None)
    pgid, pid = getattr(provisioner, "pgid", None), getattr(provisioner, "pid", None)
    try:
        if pgid:
            os.killpg(pgid, signal.SIGKILL)
        elif pid:
            os.kill(pid, signal.SIGKILL)
    except OSError:
        pass  # already gone


def run(root: Path, names=(), listed=None) -> int:
    paths = notebooks(root, names, listed)
    timings_file = root / TIMINGS
    try:
        previous = read_timings(root)["seconds"]
    except ValueError as err:
        print(f"Note: {err} Starting without the previous times.", flush=True)
        previous = {}
    timings = dict(previous)
    device = course_notebooks.device_in_use()
    course_start = time.perf_counter()
    for number, path in enumerate(paths, 1):
        left = [p.name for p in paths[number - 1 :]]
        known = [previous[n] for n in left if n in previous]
        estimate = f", about {clock(sum(known))} left" if len(known) == len(left) else ""
        elapsed = time.perf_counter() - course_start
        print(
            f"[{number}/{len(paths)}] {path.name}  (elapsed {clock(elapsed)}{estimate})",
            flush=True,
        )
        try:
            seconds = execute(path)
        except RuntimeError as err:
            print(f"\nStopped: {err}", file=sys.stderr)
            return 1
        except KeyboardInterrupt as err:
            print(
                f"\nInterrupted (Ctrl-C) in {err}\nThe notebook file was left unchanged; "
                f"`python -m tools.course run {path.stem[:2]}` runs it again.",
                file=sys.stderr,
            )
            return 130
        timings[path.name] = round(seconds, 1)
        print(f"      done in {clock(seconds)}", flush=True)
        record = {"device": device, "seconds": timings}
        report.write_text_atomic(timings_file, json.dumps(record, indent=2) + "\n")
    print("\nWall time per notebook:")
    for path in paths:
        print(f"  {path.name:<36} {clock(timings[path.name])}")
    print(f"  {'total':<36} {clock(time.perf_counter() - course_start)}")
    write_readme_tables(root, listed)
    return 0


def read_timings(root: Path) -> dict:
    """``results/run-times.json`` as ``{"device": str, "seconds": {notebook file: seconds}}``;
    empty before the first run. A damaged file is a ValueError that names it."""
    path = root / TIMINGS
    if not path.is_file():
        return {"device": "", "seconds": {}}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        seconds = record["seconds"]
        if not isinstance(record["device"], str) or not all(
            isinstance(s, (int, float)) and s >= 0 for s in seconds.values()
        ):
            raise ValueError("a device name and seconds per notebook were expected")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        problem = f"{err} is missing" if isinstance(err, KeyError) else str(err)
        raise ValueError(
            f"{path} is damaged ({problem}): delete it, and `make run` writes it again."
        ) from None
    return record


# ----------------------------------------------------------------------------- README tables


def _markers(name: str) -> tuple[str, str]:
    return (
        f"<!-- {name}:start (generated by `make readme`; do not edit) -->",
        f"<!-- {name}:end -->",
    )


def results_table(results_dir: Path, listed=None) -> str:
    """A Markdown table of the results file of every backend notebook in the catalogue that
    has one (``results/<name>.json``)."""
    rows = []
    for nb in catalogue.backends(listed):
        path = results_dir / f"{nb.name}.json"
        if not path.is_file():
            continue
        r = report.read_results(path)
        best_val = max(row["val_accuracy"] for row in r["history"])
        rows.append(
            [
                r["backend"],
                f"{100 * r['test_accuracy']:.2f}%",
                f"{100 * best_val:.2f}%",
                f"{len(r['history'])}",
                f"{r['seconds_per_epoch']:.0f} s",
                f"{r['images_per_second']:,.0f}",
                r["device"],
            ]
        )
    if not rows:
        return "_No results yet: run `make run`._"
    header = ["Backend", "Test accuracy (8,000 images)", "Best validation accuracy", "Epochs"]
    header += ["Time per epoch", "Training images/s", "Hardware"]
    return markdown_table(header, rows, text_columns=(0, len(header) - 1))


def syllabus_table(root: Path, listed=None) -> str:
    """The notebooks in reading order with what they teach, a Colab badge and the measured
    time of the last full run (``results/run-times.json``, written by ``make run``)."""
    timings = read_timings(root)
    rows = []
    for nb in listed or catalogue.NOTEBOOKS:
        path = root / "notebooks" / nb.file_name
        seconds = timings["seconds"].get(path.name)
        url = (
            f"https://colab.research.google.com/github/{config.GITHUB_SLUG}/blob/"
            f"{config.GITHUB_BRANCH}/notebooks/{path.name}"
        )
        rows.append(
            [
                f"[{path.stem}](notebooks/{path.name})",
                nb.syllabus,
                f"[![Open In Colab]({COLAB_BADGE})]({url})",
                clock(seconds) if seconds is not None else "not measured",
            ]
        )
    device = timings["device"] or "not measured yet"
    header = ["Notebook", "What it teaches", "Colab", f"Full run on {device} (min:s)"]
    return markdown_table(header, rows, text_columns=(0, 1, 2))


def measured_table(root: Path, name: str) -> str:
    """The last ``make <name>`` measurement (``results/<name>.json``, ``name`` being bench or
    levers) as a Markdown table with its caption."""
    module = importlib.import_module(f"tools.{name}")
    record = measurements.read(root, name)
    if record is None:
        return f"_Not measured yet: run `make {name}`._"
    try:
        return f"{module.table(record['rows'])}\n\n{module.caption(record)}"
    except (KeyError, TypeError, ValueError) as err:
        raise measurements.damaged(root, name, err) from None


#: README block name -> function(root, catalogue) that renders it
TABLES = {
    "syllabus": syllabus_table,
    "results-table": lambda root, listed: results_table(root / "results", listed),
    "bench-table": lambda root, listed: measured_table(root, "bench"),
    "levers-table": lambda root, listed: measured_table(root, "levers"),
}


def _replace_block(text: str, name: str, body: str) -> str:
    start, end = _markers(name)
    if start not in text or end not in text:
        raise ValueError(f"README.md lacks the markers {start!r} and {end!r}.")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def render_readme(root: Path, listed=None) -> str:
    text = (root / "README.md").read_text()
    for name, make in TABLES.items():
        text = _replace_block(text, name, make(root, listed))
    return text


def write_readme_tables(root: Path, listed=None) -> None:
    readme = root / "README.md"
    rendered = render_readme(root, listed)
    if rendered != readme.read_text():
        report.write_text_atomic(readme, rendered)


def readme_is_current(root: Path, listed=None) -> bool:
    return render_readme(root, listed) == (root / "README.md").read_text()


def main(argv: list[str]) -> int:
    root = config.project_root()
    command, names = (argv[0], argv[1:]) if argv else ("", [])
    if command == "run":
        return run(root, names)
    if command == "readme":
        write_readme_tables(root)
        return 0
    if command == "check-readme":
        if readme_is_current(root):
            return 0
        print("README.md's generated tables are stale: run `make readme`.", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (ValueError, RuntimeError) as err:  # a damaged or unwritable file, named in err
        sys.exit(f"Stopped: {err}")
