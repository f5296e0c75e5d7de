"""Run the whole course, or some of its notebooks, and keep the README's tables in step.

python -m tools.course run [NAME ...]   execute notebooks in full mode, in reading order
python -m tools.course rerun NAME SEED [FOLDER] [--fast] [--bf16]
                                        a full run (or with --fast a fast one) of one notebook
                                        with another seed, its results in FOLDER (default
                                        build/seed-SEED), the notebook file left as it is;
                                        --bf16: with bfloat16 autocast (FORCE_CNN_MIXED_PRECISION),
                                        where the machine computes it natively, and then SEED
                                        may be the course's own
python -m tools.course readme           rewrite the README's generated tables
python -m tools.course check-readme     exit 1 when any of those tables is stale

NAME is a notebook's number (``03``) or name (``03_pytorch_sequential``), as listed in
``shared.catalogue``. Run it from the course folder (or a folder inside it). A complete run
(no NAME) replaces the course's record, its results and run times, in ``shared/course-results/``
(``tools.record``) and the README's tables (``tools.readme``); a run of some notebooks leaves
both as they were.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

from shared import catalogue, config, files, machine
from shared.runtime import clock

from . import measurements, readme, record
from . import notebooks as course_notebooks

USAGE = __doc__.split("\n\n")[1]


def notebooks(root: Path, names=(), listed=None) -> list[Path]:
    """The catalogue's notebooks in reading order, or only those named by number or name."""
    listed = listed or catalogue.NOTEBOOKS
    try:
        # a path such as notebooks/03_x.ipynb (tab completion) names its notebook too
        chosen = [catalogue.find(Path(n).name, listed) for n in names] if names else list(listed)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    ordered = [nb for nb in listed if nb in chosen]
    paths = [root / "notebooks" / nb.file_name for nb in ordered]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"The catalogue lists notebooks that are not in notebooks/: {missing}.")
    return paths


def execute(
    path: Path, timeout: int = 3600, settings: dict[str, str] | None = None, save: bool = True
) -> float:
    """Execute ``path`` top to bottom in full mode and replace it only when every cell ran.

    The kernel gets ``tools.notebooks.kernel_env(settings)``: no course switch but
    ``settings`` and the inline plotting backend, whatever the shell exported. With ``save``
    false the notebook file is never written. Returns the wall time. Raises RuntimeError naming
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
            client.execute(env=course_notebooks.kernel_env(settings))
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
    if save:
        files.write_text_atomic(path, nbformat.writes(nb) + "\n")
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


def check_course_folder(root: Path) -> None:
    """``root`` is the course folder, with README.md and the README's table markers in it: a
    run must not train for an hour and only then find it cannot write the tables."""
    missing = [
        name for name in ("pyproject.toml", "notebooks", "README.md") if not (root / name).exists()
    ]
    if missing:
        raise SystemExit(
            f"{root} is not the course folder ({', '.join(missing)} not found): run this from "
            "the folder you cloned (the one with pyproject.toml, README.md and notebooks/)."
        )
    readme.check_markers(readme.pages(root))


def is_complete(paths: list[Path], listed=None) -> bool:
    """True when ``paths`` are every notebook of the catalogue: a run that may replace the
    course's record."""
    return {p.name for p in paths} == {nb.file_name for nb in listed or catalogue.NOTEBOOKS}


def previous_times(root: Path) -> dict[str, float]:
    """Seconds per notebook file of the course's last complete run, for the estimates."""
    try:
        return (measurements.read(root, "run-times") or {"seconds": {}})["seconds"]
    except ValueError as err:
        print(f"Note: {err} Starting without the previous times.", flush=True)
        return {}


def run(root: Path, names=(), listed=None) -> int:
    """Execute the chosen notebooks (all by default) in full mode, in reading order. A
    complete run then replaces the course's record (``tools.record``) and the README's
    tables; a run of some notebooks leaves both as they were."""
    check_course_folder(root)
    paths = notebooks(root, names, listed)
    complete = is_complete(paths, listed)
    folders = [root / "notebooks", root / "results"]
    record.check_writable(folders + ([root, measurements.folder(root)] if complete else []))
    previous = previous_times(root)
    seconds = {}
    device = course_notebooks.device_in_use()
    started, course_start = time.time(), time.perf_counter()
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
            seconds[path.name] = round(execute(path), 1)
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
        print(f"      done in {clock(seconds[path.name])}", flush=True)
    print(f"\nWall time per notebook, on {device}:")
    for name, taken in seconds.items():
        print(f"  {name:<36} {clock(taken)}")
    print(f"  {'total':<36} {clock(time.perf_counter() - course_start)}")
    if not complete:
        print(
            "\nPart of the course ran: its results are yours, in results/. The course's record "
            f"({measurements.COMMITTED}/) and the README change only with a complete run "
            "(make run)."
        )
        return 0
    folder = record.replace(root, started, seconds, device, listed)
    print(f"\nThe course's record in {folder.relative_to(root)}/ now holds this run.")
    readme.write_readme_tables(root, listed)
    return 0


def rerun(
    root: Path,
    name: str,
    seed_text: str,
    folder: str | None = None,
    fast: bool = False,
    bf16: bool = False,
) -> int:
    """One notebook in full mode (``fast``: in fast mode) with the recipe's seed set to
    ``seed_text`` (``bf16``: and bfloat16 autocast); its results go to ``folder`` (never
    results/ or the course's record), the notebook file stays as it is."""
    check_course_folder(root)
    (path,) = notebooks(root, [name])
    if not seed_text.isdigit():
        raise SystemExit(f"The seed must be a non-negative integer such as 1, got {seed_text!r}.")
    if int(seed_text) == config.SEED and not bf16:
        raise SystemExit(f"{config.SEED} is the course's own seed: choose another, such as 1.")
    if bf16 and not fast and machine.native_bfloat16() is None:
        print(
            "Skipped: this machine emulates bfloat16 (no GPU of compute capability 8.0 or later, "
            "no AVX512-BF16 or AMX), so a full run with autocast would take hours. Run it on a "
            "machine that has one; any committed bfloat16 run stays as it is.",
            file=sys.stderr,
        )
        return 0
    kind = "bf16" if bf16 else "seed"
    out = Path(folder or root / "build" / f"{kind}-{int(seed_text)}").expanduser().resolve()
    if out in ((root / "results").resolve(), (root / measurements.COMMITTED).resolve()):
        raise SystemExit(
            f"{out} holds the course's own runs: give another folder, e.g. build/seed-{seed_text}."
        )
    record.check_writable([out])
    autocast = " and bfloat16 autocast" if bf16 else ""
    print(f"{path.name} with seed {int(seed_text)}{autocast}, results to {out}/ ...", flush=True)
    settings = {config.SEED_ENV: str(int(seed_text)), config.RESULTS_ENV: str(out)}
    if fast:
        settings[config.FAST_ENV] = "1"
    if bf16:
        settings[config.MIXED_PRECISION_ENV] = "1"
    try:
        taken = execute(path, settings=settings, save=False)
    except (RuntimeError, KeyboardInterrupt) as err:
        print(f"\nStopped: {err}", file=sys.stderr)
        return 1
    print(f"done in {clock(taken)}: {out / (path.stem + '.json')}")
    return 0


def main(argv: list[str]) -> int:
    command, names = (argv[0], argv[1:]) if argv else ("", [])
    if command in ("-h", "--help"):
        print(__doc__)
        return 0
    if command not in ("run", "rerun", "readme", "check-readme"):
        wrong = f"Unknown command {command!r}. " if command else ""
        print(f"{wrong}Use one of:\n{USAGE}", file=sys.stderr)
        return 2
    fast = command == "rerun" and "--fast" in names
    bf16 = command == "rerun" and "--bf16" in names
    names = [n for n in names if not (command == "rerun" and n in ("--fast", "--bf16"))]
    if command == "rerun" and len(names) not in (2, 3):
        print(f"`rerun` takes a notebook, a seed and maybe a folder.\n{USAGE}", file=sys.stderr)
        return 2
    if command not in ("run", "rerun") and names:
        print(f"`{command}` takes no arguments (got {' '.join(names)}).\n{USAGE}", file=sys.stderr)
        return 2
    root = config.project_root()
    check_course_folder(root)
    if command == "run":
        return run(root, names)
    if command == "rerun":
        return rerun(root, *names, fast=fast, bf16=bf16)
    if command == "readme":
        readme.write_readme_tables(root)
        return 0
    if readme.readme_is_current(root):
        return 0
    print("README.md's generated tables are stale: run `make readme`.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (ValueError, RuntimeError) as err:  # a damaged or unwritable file, named in err
        sys.exit(f"Stopped: {err}")
