"""What a backend notebook (01-06) reports about its own run: a check before training that its
results can be saved, the results record collected at its end and saved, and what the course's
bench and levers measured for this notebook's framework.

The files themselves are read and written by ``shared.results`` (a full run's results) and
``shared.measurements`` (bench, levers, ablation, run times); the numbers of a run come from
``shared.metrics``. This module joins them for the notebooks, which keep ``results`` as the
name of the record they save.
"""

from __future__ import annotations

import re

import numpy as np

from . import catalogue, config, files, machine, measurements, metrics, results

#: Free space a results file needs, with room to spare: the course's own are a few kB.
RESULTS_FILE_BYTES = 64 * 1024


def check_results_writable(folder=None):
    """Make sure a results file can be saved in ``folder`` (default ``config.results_dir()``)
    before a long training run starts, rather than fail after it: the folder accepts a new file
    and its disk has room for one. Returns the folder."""
    from pathlib import Path

    folder = Path(folder) if folder is not None else config.results_dir()
    try:
        files.check_writable(folder, RESULTS_FILE_BYTES)
    except OSError as err:
        full = files.reason(err) in ("the disk is full", "the disk quota is used up")
        todo = "free some space on its disk" if full else "make it writable"
        raise RuntimeError(
            f"Cannot save results in {folder} ({files.reason(err)}): {todo} or set "
            f"{config.RESULTS_ENV} to a folder you can write to, before training starts."
        ) from None
    return folder


def collect_results(
    *,
    notebook,
    backend,
    versions,
    device,
    precision,
    recipe,
    splits,
    parameters,
    history,
    test_loss,
    test_accuracy,
    y_true,
    y_pred,
    mode,
) -> dict:
    """Everything a results file records, from what a notebook has at its end.

    ``precision`` is ``"float32"``, or the autocast type of a mixed-precision run
    (``"bfloat16"``): every notebook states it, because a bfloat16 run is another experiment.
    ``recipe`` is a ``shared.config.Recipe``, ``splits`` a ``shared.data.Splits``; the training
    set size is the number of images actually trained on (``recipe.train_limit`` in fast mode).
    """
    per_class = metrics.per_class_accuracy(y_true, y_pred)["accuracy %"] / 100
    train_images = recipe.train_limit or len(splits.train_y)
    seconds = [row["seconds"] for row in history]
    split = splits.split_info()
    split["train_size"] = int(train_images)
    record = {
        "schema": results.SCHEMA_VERSION,
        "notebook": notebook,
        "backend": backend,
        "mode": mode,
        "precision": precision,
        "versions": {name: str(v) for name, v in versions.items()},
        "device": device,
        "machine": machine.describe(device),  # the machine of record: shared.machine
        "recipe": recipe.to_dict(),
        "split": split,
        "parameters": int(parameters),
        "history": [
            {k: float(v) if k != "epoch" else int(v) for k, v in r.items()} for r in history
        ],
        "seconds_per_epoch": float(np.mean(seconds)) if seconds else 0.0,
        "images_per_second": float(train_images / np.mean(seconds)) if seconds else 0.0,
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "per_class_accuracy": {str(d): float(a) for d, a in per_class.items()},
    }
    return results.validate_results(record, notebook)


def save_results(record: dict):
    """Write ``record`` to ``<results dir>/<notebook>.json`` (see ``config.results_dir``)."""
    return results.write_results(config.results_dir() / f"{record['notebook']}.json", record)


# ----------------------------------------------------------------------------- speed, measured


def lever_notebooks(row: dict) -> tuple[str, ...]:
    """The backend notebooks a lever of ``levers.json`` concerns: those it lists (by number, in
    its ``notebooks`` field or in its name, as in ``"... (notebooks 03, 04)"``), else every
    notebook of the framework its name starts with (``"PyTorch: ..."``)."""
    backends = catalogue.backends()
    if "notebooks" in row:
        return tuple(nb.name for nb in backends if nb.name in row["notebooks"])
    numbers = set(re.findall(r"\b(\d\d)\b", " ".join(re.findall(r"\(([^)]*)\)", row["lever"]))))
    listed = tuple(nb.name for nb in backends if nb.name[:2] in numbers)
    if listed:
        return listed
    framework = row["lever"].split(":")[0].split()[0]
    return tuple(nb.name for nb in backends if nb.title.split()[0] == framework)


def speed_lines(notebook: str, folder=None) -> list[str]:
    """What the course's ``make bench`` and ``make levers`` measured for ``notebook``: its own
    rows of the bench and the levers of its framework, one line each."""
    nb = catalogue.find(notebook)
    lines = []
    for name, show in (("bench", _bench_lines), ("levers", _lever_lines)):
        try:
            record = measurements.read(name, folder)
        except ValueError as err:
            lines.append(str(err))
            continue
        if record is None:
            lines.append(f"`make {name}` has not been run for this course yet.")
            continue
        rows = show(nb, record["rows"])
        where = f"make {name}, on {record['device']}"
        lines += [f"{where}:", *rows] if rows else [f"{where}: nothing for {nb.name}."]
    return lines + _bf16_lines(nb)


def _bf16_lines(nb: catalogue.Notebook) -> list[str]:
    """The committed full run with bfloat16 autocast, for its notebook; beside the float32 run
    of the record when both ran on the same machine (a figure from another never is)."""
    if nb.name != results.BF16_RUN.stem or not results.BF16_RUN.is_file():
        return []
    autocast = results.read_results(results.BF16_RUN)
    plain = results.read_results(results.COMMITTED_RESULTS / results.BF16_RUN.name)

    accuracy = f"  test accuracy {100 * autocast['test_accuracy']:.2f}%"
    speed = f"{autocast['seconds_per_epoch']:.0f} s per epoch"
    if not machine.same_machine({"bf16": autocast, "float32": plain}):
        accuracy += f" (float32: {100 * plain['test_accuracy']:.2f}%)"
        speed += f" (float32: {plain['seconds_per_epoch']:.0f} s)"
    return [
        f"make bf16-run, a full run with {autocast['precision']} autocast, on "
        f"{machine.where(autocast)}:",
        f"{accuracy}, {speed}",
    ]


def measured_speed(notebook: str) -> None:
    """Print ``speed_lines``: the one call of the speed section in notebooks 01-06."""
    print("\n".join(speed_lines(notebook)))


def _bench_lines(nb: catalogue.Notebook, rows: list[dict]) -> list[str]:
    lines = []
    for row in rows:
        if row["backend"] != nb.name and not row["backend"].startswith(nb.name + " "):
            continue
        line = (
            f"  {row['backend']}: {row['seconds_per_60k_epoch']:.0f} s per 60k-image epoch"
            + (
                f", {row['speedup_vs_baseline']:.2f}× the tutorial-style baseline"
                if row["speedup_vs_baseline"] is not None
                else ""
            )
            + (
                f", validation accuracy {100 * row['val_accuracy']:.2f}%"
                if row["val_accuracy"] is not None
                else ""
            )
        )
        lines.append(line)
    return lines


def _lever_lines(nb: catalogue.Notebook, rows: list[dict]) -> list[str]:
    mine = [row for row in rows if nb.name in lever_notebooks(row)]
    return [f"  {row['lever']}: {row['speedup']:.2f}×" for row in mine]
