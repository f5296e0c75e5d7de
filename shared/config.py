"""One place for the course's settings: mode, recipe, seeds, paths and the machine's name.

Nothing here imports TensorFlow or PyTorch: each notebook seeds its framework and picks its
device in a visible cell of its own.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import random
import subprocess
from pathlib import Path

#: The repository on GitHub, ``owner/name``. Colab badges and setup cells are checked against it.
GITHUB_SLUG = "force-of-cnn/force-of-cnn"
GITHUB_BRANCH = "main"

#: Environment variable that switches every notebook to fast mode (``1``) for tests.
FAST_ENV = "FORCE_CNN_FAST"
#: Environment variable that overrides where results JSON files are written.
RESULTS_ENV = "FORCE_CNN_RESULTS_DIR"
#: Environment variable that turns on bfloat16 autocast in the PyTorch notebooks (an option).
MIXED_PRECISION_ENV = "FORCE_CNN_MIXED_PRECISION"
#: Set by ``make bench`` only: ``BENCH_EPOCHS`` epochs on this many training images.
BENCH_ENV = "FORCE_CNN_BENCH_IMAGES"
#: Another seed for the recipe: a re-run that shows run-to-run noise (``tools.course rerun``).
SEED_ENV = "FORCE_CNN_SEED"
#: Every environment variable that changes what a notebook does. A full run (``make run``)
#: clears them all, so that nothing the shell exported leaks into the committed outputs.
COURSE_SWITCHES = (FAST_ENV, RESULTS_ENV, MIXED_PRECISION_ENV, BENCH_ENV, SEED_ENV)
#: One warm-up epoch, then three timed ones of which the bench keeps the fastest.
BENCH_EPOCHS = 4

SEED = 42


@dataclasses.dataclass(frozen=True)
class Recipe:
    """The training recipe shared by all six backends, so only the framework differs."""

    epochs: int = 5
    batch_size: int = 128
    optimizer: str = "adam"
    peak_learning_rate: float = 3e-3
    warmup_fraction: float = 0.2  # linear warm-up, then cosine decay to zero
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-7
    weight_decay: float = 0.0
    max_shift: int = 2  # augmentation: random shifts of up to 2 pixels, new every epoch
    pixel_mean: float = 0.1307  # of the 60,000 training images, pixels scaled to [0, 1]
    pixel_std: float = 0.3081
    train_limit: int | None = None  # fast mode trains on the first N images only
    seed: int = SEED

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


FULL_RECIPE = Recipe()
FAST_RECIPE = dataclasses.replace(FULL_RECIPE, epochs=1, train_limit=4096)


def _switch(name: str, meaning: str) -> bool:
    """An on/off environment variable: 1/true/yes/on or 0/false/no/off, unset meaning off."""
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name}={value!r} is not understood: use 1 for {meaning} or 0 for off.")


def is_fast_mode() -> bool:
    """True when ``FORCE_CNN_FAST`` is set to 1/true/yes (tests); full mode is the default."""
    return _switch(FAST_ENV, "fast mode")


def mixed_precision() -> bool:
    """True when ``FORCE_CNN_MIXED_PRECISION=1``: the PyTorch notebooks then autocast to
    bfloat16. Off by default, because the recipe is measured in float32."""
    return _switch(MIXED_PRECISION_ENV, "bfloat16 autocast")


#: The number of training images in MNIST.
TRAIN_IMAGES = 60000


def bench_images() -> int | None:
    """``FORCE_CNN_BENCH_IMAGES`` as a number of training images (1 to 60,000), or None."""
    value = os.environ.get(BENCH_ENV)
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= TRAIN_IMAGES:
        raise ValueError(
            f"{BENCH_ENV}={value!r} must be a number of training images from 1 to "
            f"{TRAIN_IMAGES:,} (MNIST has no more): set it to at most {TRAIN_IMAGES}."
        )
    return int(value)


def mode() -> str:
    """``full`` (the default), ``fast`` (tests) or ``bench`` (``make bench``)."""
    if bench_images():
        return "bench"
    return "fast" if is_fast_mode() else "full"


def seed_override() -> int | None:
    """``FORCE_CNN_SEED`` as a seed (a non-negative integer), or None when it is not set."""
    value = os.environ.get(SEED_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValueError(f"{SEED_ENV}={value!r} must be a non-negative integer, such as 1.")
    return int(value)


def recipe() -> Recipe:
    """The recipe for the current mode: the full course, one short epoch for tests, or a few
    epochs on a subset for the bench; with ``FORCE_CNN_SEED``, the same with another seed."""
    images = bench_images()
    if images:
        chosen = dataclasses.replace(FULL_RECIPE, epochs=BENCH_EPOCHS, train_limit=images)
    else:
        chosen = FAST_RECIPE if is_fast_mode() else FULL_RECIPE
    seed = seed_override()
    return chosen if seed is None else dataclasses.replace(chosen, seed=seed)


def accuracy_floor() -> float:
    """The least test accuracy a notebook accepts: the course's bar in full mode, and a bar
    that only catches a broken pipeline in fast mode (one epoch on 4,096 images)."""
    return 0.5 if is_fast_mode() else 0.99


def steps_per_epoch(num_images: int, batch_size: int) -> int:
    if num_images <= 0 or batch_size <= 0:
        raise ValueError(
            f"num_images ({num_images}) and batch_size ({batch_size}) must both be positive."
        )
    return math.ceil(num_images / batch_size)


def learning_rate(step: float, total_steps: int, recipe: Recipe = FULL_RECIPE) -> float:
    """Learning rate at optimizer step ``step`` of ``total_steps``.

    Linear warm-up from 0 to the peak over the first ``warmup_fraction`` of the steps, then a
    cosine decay to 0. This is the same curve as Keras' ``CosineDecay`` with ``warmup_steps``.
    """
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}.")
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}.")
    warmup_steps = warmup_steps_for(total_steps, recipe)
    peak = recipe.peak_learning_rate
    if step < warmup_steps:
        return peak * step / warmup_steps
    progress = min((step - warmup_steps) / max(total_steps - warmup_steps, 1), 1.0)
    return peak * 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_steps_for(total_steps: int, recipe: Recipe = FULL_RECIPE) -> int:
    return max(1, round(recipe.warmup_fraction * total_steps))


def seed_python_and_numpy(seed: int = SEED) -> int:
    """Seed Python's and NumPy's global random generators; returns the seed.

    Each backend notebook seeds its own framework in a visible line next to this call
    (``torch.manual_seed``, ``keras.utils.set_random_seed``, ``tf.random.set_seed``).
    """
    import numpy as np

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed)
    return seed


def cpu_cores() -> int:
    """The number of cores this process may run on (fewer than the machine's in a container)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_description() -> str:
    """e.g. ``'AMD EPYC, 2 cores'``: the processor model and the cores this process may use."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {cpu_cores()} cores"


def nvidia_gpu_name() -> str | None:
    """The first NVIDIA GPU's name as ``nvidia-smi`` reports it, or None without one."""
    try:
        answer = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    names = answer.stdout.strip().splitlines() if answer.returncode == 0 else []
    return names[0].strip() if names else None


def device_description(device: str) -> str:
    """A readable name for the device a notebook trains on, from what its framework chose:
    ``'GPU: <name>'`` for a CUDA device (``'cuda'``, ``'/GPU:0'``, ``'gpu:0'``), ``'Apple GPU
    (MPS)'``, or ``'CPU: <model>, <n> cores'``."""
    device = str(device).lower()
    if "cuda" in device or "gpu" in device:
        name = nvidia_gpu_name()
        return f"GPU: {name}" if name else "GPU"
    if "mps" in device:
        return "Apple GPU (MPS)"
    return "CPU: " + cpu_description()


def project_root() -> Path:
    """The course folder: the nearest parent of the working directory with ``pyproject.toml``
    and ``notebooks/``; the working directory itself when there is none (e.g. on Colab)."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir():
            return folder
    return here


def results_dir() -> Path:
    """Where notebooks write results JSON: ``results/`` in full mode, a git-ignored folder in
    fast mode so that tests never touch the committed results. ``FORCE_CNN_RESULTS_DIR`` wins."""
    override = os.environ.get(RESULTS_ENV)
    if override:
        return Path(override).expanduser()
    if mode() != "full":
        return project_root() / "build" / f"{mode()}-results"
    return project_root() / "results"


def models_dir() -> Path:
    """A git-ignored folder for saved models."""
    return project_root() / "build" / "models" / mode()
