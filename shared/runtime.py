"""What each notebook's setup cell prints: the versions in use, whether the course was tested with
them, and on Colab whether the runtime has a GPU.

Framework-free: versions come from the installed packages' metadata (``importlib.metadata``),
so checking TensorFlow's version never imports TensorFlow.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from . import catalogue, measurements

#: Oldest and newest release (major.minor) of each framework the notebooks were tested with: the
#: oldest is Colab's runtime (``tests/colab/runtime.txt``, ``make colab-check``), the newest
#: ``requirements.txt`` (``make test``). A test keeps this table in step with both files.
TESTED = {
    "tensorflow": ("2.20", "2.21"),
    "keras": ("3.13", "3.15"),
    "torch": ("2.11", "2.14"),
    "torchvision": ("0.26", "0.29"),
    "fastai": ("2.8", "2.8"),
}

#: Python versions the course runs with: 3.11 (``make test``) to 3.13 (``make colab-check``).
#: Keras 3.13 and newer need Python 3.11.
TESTED_PYTHON = ("3.11", "3.13")

CHANGE_RUNTIME = "Runtime > Change runtime type, choose a GPU"


def on_colab() -> bool:
    """True inside a Google Colab runtime (the setup cells ask the same question)."""
    return "google.colab" in sys.modules


def has_nvidia_gpu() -> bool:
    """True when an NVIDIA driver reports a GPU; asks the operating system, not a framework."""
    gpus = Path("/proc/driver/nvidia/gpus")
    return (gpus.is_dir() and any(gpus.iterdir())) or Path("/dev/nvidia0").exists()


def installed(package: str) -> str | None:
    """The installed version of ``package``, or None when it is not installed."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


#: A release as packaging tools write it: an optional epoch (``1!``), then numbers and dots; a
#: pre-release, post-release or local tag (``rc1``, ``.post2``, ``+cpu``) may follow.
RELEASE = re.compile(r"^\s*(?:\d+!)?(\d+)(?:\.(\d+))?")


def _minor(version: str) -> tuple[int, int]:
    """``'2.11.0+cpu'`` -> ``(2, 11)``, ``'3'`` -> ``(3, 0)``, ``'1!2.12.0'`` -> ``(2, 12)``."""
    match = RELEASE.match(version)
    if not match:
        raise ValueError(f"cannot read a version number from {version!r}.")
    return int(match.group(1)), int(match.group(2) or 0)


def outside_tested_range(package: str, version: str) -> str | None:
    """A plain warning when ``version`` of ``package`` is older or newer than the tested ones,
    or cannot be read at all."""
    oldest, newest = TESTED[package]
    try:
        found = _minor(version)
    except ValueError:
        return f"WARNING: cannot tell whether {package} {version!r} was tested with this course."
    if found < _minor(oldest):
        side = "older than"
    elif found > _minor(newest):
        side = "newer than"
    else:
        return None
    span = oldest if oldest == newest else f"{oldest} to {newest}"
    return (
        f"WARNING: {package} {version} is {side} the versions this course was tested with "
        f"({span}). If a cell fails, install a tested one: "
        f'pip install "{package}>={oldest},<{_minor(newest)[0]}.{_minor(newest)[1] + 1}"'
    )


def clock(seconds: float) -> str:
    """``seconds`` as ``m:ss``, e.g. ``'5:52'``, rounded to the nearest second (59.6 s is
    ``'1:00'``, never ``'0:60'``)."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def full_run_time(notebook: str) -> str | None:
    """How long a full run of ``notebook`` took in the course's own measurement, e.g.
    ``'5:52 (min:s) on CPU: AMD EPYC, 2 cores'``; None when it was not measured, or when the
    shipped ``run-times.json`` cannot be used (``measurements.read`` checks it whole)."""
    try:
        record = measurements.read("run-times")
    except ValueError:
        return None
    seconds = (record or {}).get("seconds", {}).get(f"{notebook}.ipynb")
    if seconds is None:
        return None
    return f"{clock(seconds)} (min:s) on {record['device']}"


def messages(notebook: str, colab: bool | None = None, gpu: bool | None = None) -> list[str]:
    """The lines ``report`` prints for ``notebook``: versions, warnings and the GPU advice."""
    nb = catalogue.find(notebook)
    colab = on_colab() if colab is None else colab
    gpu = has_nvidia_gpu() if gpu is None else gpu
    python = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    versions = {name: installed(name) for name in TESTED}
    helper = installed("force-of-cnn") or "not installed (imported from this folder)"
    lines = [
        f"Python {python}; "
        + ", ".join(f"{name} {v}" for name, v in versions.items() if v)
        + f"; force-of-cnn {helper}"
    ]
    if not _minor(TESTED_PYTHON[0]) <= sys.version_info[:2] <= _minor(TESTED_PYTHON[1]):
        lines.append(
            f"WARNING: Python {python} is outside the tested {TESTED_PYTHON[0]} to "
            f"{TESTED_PYTHON[1]}."
        )
    lines += [w for name, v in versions.items() if v and (w := outside_tested_range(name, v))]
    if colab and nb.role == "backend":
        measured = full_run_time(nb.name)
        cpu_time = f"A full run took {measured}." if measured else "Its run time is unmeasured."
        if gpu:
            lines.append("This Colab runtime has a GPU: training runs on it.")
            lines.append(f"Full-run time on a GPU: not measured for this course. {cpu_time}")
        else:
            lines.append("No GPU in this Colab runtime: training runs on the CPU. " + cpu_time)
            lines.append(
                f"For a GPU: {CHANGE_RUNTIME}, then run the notebook again from the top "
                "(full-run time on a GPU: not measured for this course)."
            )
    elif colab:
        lines.append("This notebook trains nothing: the CPU runtime is all it needs.")
    return lines


def report(notebook: str) -> None:
    """Print the versions in use and any warning; the setup cell of every notebook calls it."""
    print("\n".join(messages(notebook)))
