"""The machine a measurement was made on, as every measurement file records it.

A speed is only true with its machine: the same network trains several times faster on one
processor than on another, and what decides it is mostly a handful of instruction-set features
(wide vector units, bfloat16 and matrix instructions) and, when one is used, the GPU. So every
file that holds a time (the notebooks' results, ``run-times.json``, ``bench.json``,
``levers.json``, ``ablation.json``) carries a ``machine`` record made by ``describe``, and the
tests check that all the committed ones come from the same machine (``same_machine``).

Everything here reads the operating system (``/proc/cpuinfo``, ``nvidia-smi``) and the installed
packages' metadata; no deep-learning framework is imported.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import platform
import subprocess
from pathlib import Path

from . import config

#: The instruction-set features that decide this network's speed on a CPU, and the
#: ``/proc/cpuinfo`` flag that says a processor has each.
SPEED_FEATURES = {
    "AVX2": "avx2",  # 8 fp32 lanes per vector instruction
    "AVX-512": "avx512f",  # 16 fp32 lanes
    "AVX512-BF16": "avx512_bf16",  # bfloat16 dot products: autocast computes natively
    "AMX": "amx_tile",  # Intel's matrix tiles: bfloat16 matrix multiplies at many times fp32
}

#: The packages whose version a speed depends on (those installed are recorded).
LIBRARIES = ("torch", "tensorflow", "keras", "fastai", "numpy")

#: What must agree for two records to come from the same machine.
IDENTITY = ("cpu", "cores", "cpu_features", "gpu")


def cpu_flags(cpuinfo: str | None = None) -> set[str] | None:
    """The processor's feature flags from ``/proc/cpuinfo`` (or the text given), None where
    the operating system does not say (macOS, Windows)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return None
    for line in cpuinfo.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return None


def cpu_features(cpuinfo: str | None = None) -> dict[str, bool | None]:
    """Each of SPEED_FEATURES mapped to True or False, or to None where the operating system
    does not say (``cpuinfo``: the text of ``/proc/cpuinfo``, read when not given)."""
    flags = cpu_flags(cpuinfo)
    return {name: None if flags is None else flag in flags for name, flag in SPEED_FEATURES.items()}


def cpu_model() -> str:
    """The processor's model name (inside a virtual machine often only the vendor's)."""
    return config.cpu_description().rsplit(", ", 1)[0]


def gpu(query: list[str] | None = None) -> dict | None:
    """The first NVIDIA GPU as ``{"name", "compute_capability"}`` from ``nvidia-smi``, None
    without one. The compute capability (e.g. ``"7.5"`` for a T4, ``"8.0"`` for an A100) says
    what the GPU computes natively: bfloat16 from 8.0 on."""
    query = query or ["nvidia-smi", "--query-gpu=name,compute_cap", "--format=csv,noheader"]
    try:
        answer = subprocess.run(query, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = answer.stdout.strip().splitlines() if answer.returncode == 0 else []
    if not lines:
        name = config.nvidia_gpu_name()  # an older nvidia-smi without compute_cap
        return {"name": name, "compute_capability": None} if name else None
    name, _, capability = lines[0].partition(",")
    return {"name": name.strip(), "compute_capability": capability.strip() or None}


def library_versions(names=LIBRARIES) -> dict[str, str]:
    """The installed version of each package in ``names`` that is installed."""
    versions = {}
    for name in names:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    return versions


def native_bfloat16() -> str | None:
    """What computes bfloat16 natively on this machine, or None: a GPU of compute capability
    8.0 or later, or a CPU with AVX512-BF16 or AMX. Elsewhere autocast emulates it, slowly."""
    found = gpu()
    if found and float(found["compute_capability"]) >= 8.0:
        return f"GPU {found['name']}"
    features = cpu_features()
    native = [name for name in ("AVX512-BF16", "AMX") if features.get(name)]
    return f"CPU with {' and '.join(native)}" if native else None


def describe(device: str = "auto") -> dict:
    """The ``machine`` record of a measurement made on ``device``: ``"cpu"``, a GPU
    (``"cuda"``, ``"GPU: <name>"``...), or ``"auto"`` for the GPU when there is one (what the
    notebooks choose). The GPU is recorded only when the measurement used it."""
    device = str(device).lower()
    found = gpu() if device == "auto" or "cuda" in device or "gpu" in device else None
    return {
        "cpu": cpu_model(),
        "cores": config.cpu_cores(),
        "cpu_features": cpu_features(),
        "gpu": found,
        "os": platform.system(),
        "python": platform.python_version(),
        "libraries": library_versions(),
    }


def identity(machine: dict) -> tuple:
    """What two records share when they come from the same machine (not the versions)."""
    return tuple(
        sorted(machine[key].items()) if isinstance(machine.get(key), dict) else machine.get(key)
        for key in IDENTITY
    )


def summary(machine: dict) -> str:
    """One line for a caption: ``'AMD EPYC, 2 cores (AVX2; no AVX-512, AVX512-BF16, AMX)'``,
    and the GPU when one was used."""
    features = machine["cpu_features"]
    has = [name for name, present in features.items() if present]
    lacks = [name for name, present in features.items() if present is False]
    if all(present is None for present in features.values()):
        detail = "instruction-set features unknown"
    else:
        detail = "; ".join(
            part for part in (", ".join(has), "no " + ", ".join(lacks) if lacks else "") if part
        )
    line = f"{machine['cpu']}, {machine['cores']} cores ({detail})"
    card = machine.get("gpu")
    if card:
        capability = card.get("compute_capability") or "unknown"
        line += f", GPU {card['name']} (compute capability {capability})"
    return line


def where(record: dict) -> str:
    """The machine of a measurement record for a caption: its ``machine`` summarised, or, in a
    file written before machines were recorded, its device name and a warning."""
    if isinstance(record.get("machine"), dict):
        return summary(record["machine"])
    return f"{record.get('device', 'an unnamed device')} (machine not recorded)"


def same_machine(records: dict[str, dict]) -> list[str]:
    """Problems with ``records`` (file name -> its JSON) as the measurements of one machine:
    a file without a ``machine`` record, or one whose machine differs from the first file's."""
    problems, first = [], None
    for name, record in records.items():
        machine = record.get("machine") if isinstance(record, dict) else None
        if not isinstance(machine, dict):
            problems.append(f"{name} records no machine: measure it again with the current tools")
            continue
        if first is None:
            first = name, machine
        elif identity(machine) != identity(first[1]):
            problems.append(
                f"{name} was measured on {summary(machine)}, but {first[0]} on "
                f"{summary(first[1])}: measure everything on one machine in one go"
            )
    return problems
