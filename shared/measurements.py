"""The course's measurement files: what each holds, and its one reader and writer.

They live beside the full runs in ``shared/course-results/`` (``results.COMMITTED_RESULTS``),
inside this package, so that a clone and a notebook opened alone on Colab read the same files:

- ``run-times.json``  how long a full run of each notebook took (``make run``)
- ``bench.json``      seconds per epoch of every backend, the machine's limits (``make bench``)
- ``levers.json``     what each framework's speed lever changes (``make levers``)
- ``ablation.json``   the original post's recipe to the course's, row by row (``make ablation``)
- ``profile.json``    where a training step's time goes, by each framework's profiler
  (``make profile``)

``read(name)`` checks the whole file against ``SPECS``: every key there, every value of its
kind and in its range, every backend of the catalogue measured. A file that is not there yet is
``None``; anything else wrong is one ``ValueError`` that names the file, lists what is wrong and
says which command measures it again.
"""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path

from . import catalogue, files
from .results import COMMITTED_RESULTS


def _kind(test, description: str):
    """A check of one value: ``test(value)`` is true when it is good; ``description`` says
    what was expected."""
    return test, description


def _real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


TEXT = _kind(lambda v: isinstance(v, str) and v.strip() != "", "a name")
POSITIVE = _kind(lambda v: _real(v) and v > 0, "a positive number")
COUNT = _kind(lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0, "a count > 0")
SEED = _kind(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a seed >= 0")
FRACTION = _kind(lambda v: _real(v) and 0 <= v <= 1, "a fraction from 0 to 1")
NON_NEGATIVE = _kind(lambda v: _real(v) and v >= 0, "a number >= 0")


def _or_null(kind):
    test, description = kind
    return _kind(lambda v: v is None or test(v), f"{description} or null")


#: What each file must hold. A dict is a JSON object (a key ending in ``?`` may be left out), a
#: one-element list a non-empty list of such rows, a ``_kind`` one value.
SPECS = {
    "run-times": {"device": TEXT, "seconds": dict, "machine?": dict},
    "bench": {
        "device": TEXT,
        "machine?": dict,  # shared.machine.describe(): the machine of record
        "limit_gflops?": POSITIVE,  # the fastest tuned kernel of the same run (tools.kernels)
        "limit_kernel?": TEXT,
        "kernels?": dict,
        "images": COUNT,
        "epochs": COUNT,
        "rows": [
            {
                "backend": TEXT,
                "images_per_second": POSITIVE,
                "seconds_per_60k_epoch": POSITIVE,
                "speedup_vs_baseline": _or_null(POSITIVE),
                "percent_of_limit?": _or_null(POSITIVE),
                "val_accuracy": _or_null(FRACTION),
            }
        ],
    },
    "levers": {
        "device": TEXT,
        "machine?": dict,
        "rows": [
            {
                "lever": TEXT,
                "off_seconds_per_epoch": POSITIVE,
                "on_seconds_per_epoch": POSITIVE,
                "speedup": POSITIVE,
            }
        ],
        "second_convolution_seconds_per_epoch?": POSITIVE,
    },
    "ablation": {
        "device": TEXT,
        "machine?": dict,
        "backend": TEXT,
        "notebook": TEXT,  # whose model and loop it trains
        "epochs": COUNT,
        "train_images": COUNT,
        "seeds": [SEED],  # the first and last rows ran once per seed, the others with the first
        "rows": [
            {
                "recipe": TEXT,
                "val_accuracy_mean": FRACTION,  # what the rows are compared on
                "val_accuracy_range": FRACTION,  # largest minus smallest over the row's seeds
                "test_accuracy": FRACTION,  # the mean over the row's seeds
                "test_standard_error": FRACTION,
                "best_val_accuracy": FRACTION,
                "runs": [{"seed": SEED, "test_accuracy": FRACTION, "best_val_accuracy": FRACTION}],
            }
        ],
    },
    "profile": {
        "device": TEXT,
        "machine": dict,
        "batch_size": COUNT,
        "steps": COUNT,
        "profiles": [
            {
                "framework": TEXT,
                "device": TEXT,
                "ms_per_step": POSITIVE,  # with the profiler on
                "measure": TEXT,  # what the items' times are (self time, device time ...)
                "items": [{"name": TEXT, "ms_per_step": NON_NEGATIVE, "share": FRACTION}],
            }
        ],
    },
}

#: The command that writes each file.
COMMANDS = {
    "run-times": "make run",
    "bench": "make bench",
    "levers": "make levers",
    "ablation": "make ablation",
    "profile": "make profile",
}


def _problems(value, spec, where: str) -> list[str]:
    """What is wrong with ``value`` against ``spec`` (see ``SPECS``), each naming its place."""
    if isinstance(spec, dict) or spec is dict:
        if not isinstance(value, dict):
            return [f"{where or 'the file'} should be a JSON object, not {type(value).__name__}"]
        found = []
        for key, inner in spec.items() if isinstance(spec, dict) else ():
            name = key.rstrip("?")
            place = f"{where}[{name!r}]" if where else repr(name)
            if name in value:
                found += _problems(value[name], inner, place)
            elif not key.endswith("?"):
                found.append(f"{place} is missing")
        return found
    if isinstance(spec, list):
        if not isinstance(value, list) or not value:
            return [f"{where} should be a non-empty list"]
        return [p for i, row in enumerate(value) for p in _problems(row, spec[0], f"{where}[{i}]")]
    test, description = spec
    return [] if test(value) else [f"{where} is {value!r:.40}, expected {description}"]


def _whole_course(name: str, record: dict) -> list[str]:
    """What a complete measurement holds beyond its keys: a row or a time for every notebook."""
    if name == "bench":
        measured = {row["backend"] for row in record["rows"]}
        missing = [nb for nb in catalogue.backend_names() if nb not in measured]
        return [f"no row for {', '.join(missing)} (a bench of part of the course)"] * bool(missing)
    if name == "run-times":
        # A notebook may have no time yet (one added since the last full run): it is shown as
        # not measured. Every time that is there must be a notebook's, and a real one.
        seconds = record["seconds"]
        expected = [nb.file_name for nb in catalogue.NOTEBOOKS]
        found = [
            f"['seconds'][{nb!r}] is {s!r:.40}, expected {POSITIVE[1]}"
            for nb, s in seconds.items()
            if not POSITIVE[0](s)
        ]
        unknown = [nb for nb in seconds if nb not in expected]
        return found + [f"{nb!r} is not a notebook of the course" for nb in unknown]
    return []


def problems(name: str, record) -> list[str]:
    """Everything wrong with ``record`` as the content of measurement file ``name``."""
    if name not in SPECS:
        raise ValueError(f"No measurement file {name!r}; the course has {', '.join(SPECS)}.")
    found = _problems(record, SPECS[name], "")
    return found or _whole_course(name, record)


def path_of(name: str, folder: str | Path | None = None) -> Path:
    """Where measurement ``name`` lives: in ``folder``, by default ``COMMITTED_RESULTS``."""
    return Path(COMMITTED_RESULTS if folder is None else folder) / f"{name}.json"


def read(name: str, folder: str | Path | None = None) -> dict | None:
    """Measurement file ``name`` (``"bench"``, ``"levers"``, ...) checked whole: None when it
    has not been measured yet, a ``ValueError`` saying what is wrong and what to do."""
    if name not in SPECS:
        raise ValueError(f"No measurement file {name!r}; the course has {', '.join(SPECS)}.")
    path = path_of(name, folder)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        found = [f"it cannot be read as JSON ({getattr(err, 'strerror', None) or err})"]
    else:
        found = problems(name, record)
    if found:
        raise ValueError(
            f"{path} cannot be used: {'; '.join(found[:6])}"
            + (f" (and {len(found) - 6} more)" if len(found) > 6 else "")
            + f". Run `{COMMANDS[name]}` to measure it again."
        )
    return record


def write(name: str, record: dict, folder: str | Path | None = None) -> Path:
    """Check ``record`` as ``read`` does, then write it atomically as measurement ``name``."""
    found = problems(name, record)
    path = path_of(name, folder)
    if found:
        raise ValueError(f"Not writing {path}: {'; '.join(found)}.")
    return files.write_text_atomic(path, json.dumps(record, indent=2) + "\n")
