"""The results file of a full run: what it holds, where it lives, its one reader and writer, and
what notebook 07 compares.

Two folders, two owners:

- ``shared/course-results/`` (``COMMITTED_RESULTS``) is the course's own record, inside this
  package so that a clone and a notebook opened alone on Colab read the same files: the full
  run of every backend notebook (``<notebook>.json``, read here) and the measurements of
  ``make run``, ``make bench``, ``make levers`` and ``make ablation`` (read by
  ``shared.measurements``). Only the course's tools write it, and only with a complete run of
  the same kind; nothing copies it anywhere, so there is no copy to go stale.
- ``results/`` (``own_results_dir``; ``$FORCE_CNN_RESULTS_DIR`` when set) is yours: a backend
  notebook run in full mode saves its results there. Notebook 07 shows your six runs when they
  are all there, else the course's, with any run of yours beside them.

The reader checks the whole file and raises one ``ValueError`` that names the file and says
everything that is wrong and what to do.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
from pathlib import Path

import numpy as np

from . import catalogue, config, files, machine
from .metrics import HISTORY_KEYS, NUM_CLASSES

SCHEMA_VERSION = 2  # 2: a run records its precision

#: The course's own full runs and measurements (see the module's docstring).
COMMITTED_RESULTS = Path(__file__).resolve().parent / "course-results"


def own_results_dir() -> Path:
    """Where your full runs are saved: ``$FORCE_CNN_RESULTS_DIR`` when set, else ``results/``
    in the course folder (on Colab: in the working folder, ``/content``)."""
    override = os.environ.get(config.RESULTS_ENV)
    return Path(override).expanduser() if override else config.project_root() / "results"


# ----------------------------------------------------------------------------- full-run results

#: Required keys of a results file and their types. ``history`` is a list of per-epoch dicts
#: with the keys in HISTORY_KEYS; ``per_class_accuracy`` maps "0".."9" to a fraction.
RESULTS_SCHEMA = {
    "schema": int,  # SCHEMA_VERSION
    "notebook": str,  # e.g. "03_pytorch_sequential", the file's name without .json
    "backend": str,  # e.g. "PyTorch (nn.Sequential)"
    "mode": str,  # "full", "fast" or "bench" (see shared.config.mode)
    "precision": str,  # the arithmetic of the forward pass: one of PRECISIONS
    "versions": dict,  # package -> version
    "device": str,  # e.g. "CPU: AMD EPYC, 2 cores"
    "recipe": dict,  # shared.config.Recipe.to_dict()
    "split": dict,  # shared.data.Splits.split_info()
    "parameters": int,
    "history": list,
    "seconds_per_epoch": float,  # mean wall time of a training epoch
    "images_per_second": float,  # training images per second
    "test_loss": float,
    "test_accuracy": float,  # fraction
    "per_class_accuracy": dict,
}
MODES = ("full", "fast", "bench")
#: float32 is the recipe; the others mean an autocast (mixed precision) run.
PRECISIONS = ("float32", "bfloat16", "float16")


def _number(value, low=0.0, high=math.inf, above_low=False) -> bool:
    """True for a finite real number in [low, high] (in (low, high] with ``above_low``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return False
    return (value > low if above_low else value >= low) and value <= high


def _value_problems(r: dict) -> list[str]:
    """What is out of range in a results record whose keys and types are right."""
    fraction = "a fraction from 0 to 1"
    problems = []

    def check(ok: bool, what: str, value, expected: str) -> None:
        if not ok:
            problems.append(f"{what} is {value!r:.60}, expected {expected}")

    for key in ("notebook", "backend", "device"):
        check(r[key].strip() != "", key, r[key], "a name")
    check(r["mode"] in MODES, "mode", r["mode"], f"one of {MODES}")
    check(r["precision"] in PRECISIONS, "precision", r["precision"], f"one of {PRECISIONS}")
    check(
        all(isinstance(k, str) and isinstance(v, str) for k, v in r["versions"].items()),
        "versions",
        r["versions"],
        "package names mapped to version strings",
    )
    check(r["parameters"] > 0, "parameters", r["parameters"], "a positive count")
    for key in ("seconds_per_epoch", "images_per_second"):
        check(_number(r[key], above_low=True), key, r[key], "a positive number")
    check(_number(r["test_loss"]), "test_loss", r["test_loss"], "a number of at least 0")
    check(_number(r["test_accuracy"], high=1), "test_accuracy", r["test_accuracy"], fraction)
    per_class = r["per_class_accuracy"]
    check(
        set(per_class) == {str(d) for d in range(NUM_CLASSES)}
        and all(_number(v, high=1) for v in per_class.values()),
        "per_class_accuracy",
        per_class,
        f"digits '0'..'9', each mapped to {fraction}",
    )
    for key in ("train_size", "val_size", "test_size"):
        size = r["split"].get(key)
        check(isinstance(size, int) and size > 0, f"split[{key!r}]", size, "a positive count")
    epochs = r["recipe"].get("epochs")
    check(isinstance(epochs, int) and epochs > 0, "recipe['epochs']", epochs, "a positive count")
    if not r["history"]:
        problems.append("'history' is empty")
    for number, row in enumerate(r["history"], 1):
        if not isinstance(row, dict) or any(k not in row for k in HISTORY_KEYS):
            problems.append(f"every history row needs {HISTORY_KEYS}, got {row!r:.80}")
            break
        where = f"history row {number}: "
        check(row["epoch"] == number, where + "epoch", row["epoch"], str(number))
        for key in ("train_loss", "val_loss"):
            check(_number(row[key]), where + key, row[key], "a number of at least 0")
        for key in ("train_accuracy", "val_accuracy"):
            check(_number(row[key], high=1), where + key, row[key], fraction)
        check(_number(row["seconds"], above_low=True), where + "seconds", row["seconds"], "> 0")
    if problems == [] and len(r["history"]) != epochs:
        problems.append(f"'history' has {len(r['history'])} epochs but the recipe {epochs}")
    return problems


def validate_results(results: dict, source: str = "results") -> dict:
    """Check ``results`` against RESULTS_SCHEMA: every key present, of its type, and in its
    range (fractions in [0, 1], finite numbers, positive times and counts, a known mode and
    precision). Raises one ValueError naming the source and everything that is wrong."""
    if not isinstance(results, dict):
        raise ValueError(f"{source}: expected a JSON object, got {type(results).__name__}.")
    missing = [key for key in RESULTS_SCHEMA if key not in results]
    if "schema" in results and results["schema"] != SCHEMA_VERSION:
        raise ValueError(
            f"{source}: schema {results['schema']}, this code reads {SCHEMA_VERSION}. "
            "Re-run the notebook that wrote it (make run) to write it anew."
        )
    if missing:
        raise ValueError(
            f"{source}: missing keys {missing}. Re-run the notebook that wrote it in full mode."
        )
    for key, kind in RESULTS_SCHEMA.items():
        value = results[key]
        expected = {float: numbers.Real, int: numbers.Integral}.get(kind, kind)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ValueError(f"{source}: '{key}' should be {kind.__name__}, got {value!r:.60}.")
    problems = _value_problems(results)
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems) + ".")
    return results


def _check_name(path: Path, results: dict) -> None:
    """A results file is named after the notebook that wrote it."""
    if results["notebook"] != path.stem:
        raise ValueError(
            f"{path}: written by notebook {results['notebook']!r}, but named {path.name}. "
            f"Re-run {path.stem} to write its own results (or delete this copy)."
        )


def write_results(path: str | Path, results: dict) -> Path:
    """Validate and write ``results`` as JSON, atomically (see ``files.write_atomic``)."""
    path = Path(path)
    validate_results(results, str(path))
    _check_name(path, results)
    return files.write_text_atomic(
        path, dumps(results), advice=f", or set {config.RESULTS_ENV} to another folder"
    )


def dumps(results: dict) -> str:
    """``results`` as the text of its file (NumPy numbers become plain ones)."""
    text = json.dumps(results, indent=2, sort_keys=True, default=_to_builtin, allow_nan=False)
    return text + "\n"


def read_results(path: str | Path) -> dict:
    """Read and validate a results file; a clear error when it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist. Run the notebook that writes it in full mode (make run)."
        )
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON ({err}). Re-run its notebook.") from None
    except OSError as err:
        raise ValueError(f"Cannot read {path} ({err.strerror or err}).") from None
    validate_results(results, str(path))
    _check_name(path, results)
    return results


#: The course's own re-run of notebook 03 with seed 1 (``make seed-run``): its measured
#: seed-to-seed spread.
SEED_RUN = COMMITTED_RESULTS / "seed-1" / "03_pytorch_sequential.json"
#: The course's full run of notebook 03 with bfloat16 autocast (``make bf16-run``), made where
#: the machine computes bfloat16 natively.
BF16_RUN = COMMITTED_RESULTS / "bf16" / "03_pytorch_sequential.json"
#: How many standard errors of the difference of two independent runs the spread allows.
SEED_SPREAD_ERRORS = 4


def latest_full_run(notebook: str) -> dict:
    """``notebook``'s full float32 run made on this machine, when ``results/`` holds one (``make
    run`` writes there before it replaces the record), else the course's committed one."""
    own = own_results_dir() / f"{notebook}.json"
    if own.is_file():
        run = read_results(own)
        here = machine.identity(machine.describe(run["device"]))
        full = run["mode"] == "full" and run["precision"] == "float32"
        if full and run.get("machine") and machine.identity(run["machine"]) == here:
            return run
    return read_results(COMMITTED_RESULTS / f"{notebook}.json")


def seed_spread(run: dict) -> tuple[float, float]:
    """The test accuracies another full run of ``run``'s recipe may reach (another seed, other
    dropout masks, other workers): ``run``'s own, give or take ``SEED_SPREAD_ERRORS`` standard
    errors of the difference of two independent runs on the same test images, or the distance
    of the course's seed-1 run from its seed-42 run of notebook 03, if that is larger."""
    p, n = run["test_accuracy"], run["split"]["test_size"]
    margin = SEED_SPREAD_ERRORS * math.sqrt(2 * p * (1 - p) / n)
    if SEED_RUN.is_file():
        seed_1 = read_results(SEED_RUN)
        seed_42 = read_results(COMMITTED_RESULTS / SEED_RUN.name)
        margin = max(margin, abs(seed_1["test_accuracy"] - seed_42["test_accuracy"]))
    return max(0.0, p - margin), min(1.0, p + margin)


def load_all_results(folder: str | Path, notebooks=None) -> list[dict]:
    """The results file of every backend notebook in ``folder``, in course order.

    ``notebooks`` defaults to the backends listed in ``shared.catalogue``.

    Raises one error listing every file that is missing or malformed, and what to do.
    """
    notebooks = catalogue.backend_names() if notebooks is None else tuple(notebooks)
    folder = Path(folder)
    loaded, problems = [], []
    for name in notebooks:
        try:
            loaded.append(read_results(folder / f"{name}.json"))
        except (FileNotFoundError, ValueError) as err:
            problems.append(str(err))
    if problems:
        raise RuntimeError(
            f"{len(problems)} of {len(notebooks)} results files in {folder} cannot be used:\n  "
            + "\n  ".join(problems)
            + "\nRun those notebooks in full mode (make run) to write them."
        )
    return loaded


def has_all_results(folder: str | Path, notebooks=None) -> bool:
    """True when ``folder`` holds a results file for every backend notebook."""
    notebooks = catalogue.backend_names() if notebooks is None else tuple(notebooks)
    return all((Path(folder) / f"{name}.json").is_file() for name in notebooks)


def runs_from_this_runtime(folder: str | Path, notebooks=None) -> list[dict]:
    """The backend results files that runs in this runtime wrote to ``folder`` (any number of
    them, in course order), each with `` (this runtime)`` added to its backend's name."""
    notebooks = catalogue.backend_names() if notebooks is None else tuple(notebooks)
    found = [Path(folder) / f"{name}.json" for name in notebooks]
    return [
        {**run, "backend": f"{run['backend']} (this runtime)"}
        for run in (read_results(path) for path in found if path.is_file())
    ]


def experiment_mismatches(results: list[dict], reference: dict | None = None) -> list[str]:
    """Where runs did not share one experiment: recipe, split, mode, precision or model size.

    ``reference`` defaults to the first run. Returns readable lines, empty when all agree.
    """
    if not results:
        raise ValueError("no results to compare.")
    reference = reference or results[0]
    problems = []
    for r in results:
        for key in ("recipe", "split", "mode", "precision", "parameters"):
            if r[key] != reference[key]:
                if isinstance(r[key], dict):
                    keys = sorted(
                        k
                        for k in set(r[key]) | set(reference[key])
                        if r[key].get(k) != reference[key].get(k)
                    )
                    detail = ", ".join(
                        f"{k}={r[key].get(k)!r} (expected {reference[key].get(k)!r})" for k in keys
                    )
                else:
                    detail = f"{r[key]!r} (expected {reference[key]!r})"
                problems.append(f"{r['notebook']}: {key} differs: {detail}")
    return problems


def _to_builtin(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a results file")


@dataclasses.dataclass(frozen=True)
class Comparison:
    """What notebook 07 compares: the six ``runs``, any ``own_runs`` shown beside them, the
    ``folder`` they were read from, and ``source``, a sentence saying which runs these are."""

    runs: list
    own_runs: list
    folder: Path
    source: str


def load_comparison(own_folder: str | Path | None = None) -> Comparison:
    """Your six full runs when ``own_folder`` (default ``own_results_dir()``) holds them all,
    else the course's committed ones with whatever runs of yours are there beside them."""
    own = Path(own_folder) if own_folder is not None else own_results_dir()
    if has_all_results(own):
        return Comparison(
            load_all_results(own), [], own, f"Your own full runs, read from {own.name}/."
        )
    mine = runs_from_this_runtime(own)
    source = (
        f"The course's own full runs, shipped with the helper package "
        f"({COMMITTED_RESULTS.parent.name}/{COMMITTED_RESULTS.name}): {own.name}/ does not hold "
        "all six of yours"
        + (f", so your {len(mine)} are shown beside them, marked (this runtime)." if mine else ".")
    )
    return Comparison(load_all_results(COMMITTED_RESULTS), mine, COMMITTED_RESULTS, source)
