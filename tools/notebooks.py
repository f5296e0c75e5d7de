"""The course's notebooks seen from Python: their files, their tagged cells, and the network
that a backend notebook's own ``model`` cell builds.

Tools that need the model outside a notebook (the bench's baseline, the levers, the test that
the six frameworks compute the same function) build it by executing that cell, so there is no
second copy of the network to drift away from the one the notebooks teach.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from shared import catalogue, config

ROOT = Path(__file__).resolve().parents[1]


#: Jupyter's own plotting backend: a figure becomes a PNG image in the notebook's outputs.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def kernel_env(settings: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a kernel that runs one of the course's notebooks: this process's,
    with every course switch (``config.COURSE_SWITCHES``) cleared, the inline plotting backend,
    and ``settings`` on top. So nothing the shell exported (``FORCE_CNN_FAST=1``,
    ``MPLBACKEND=Agg``, ...) changes what a run computes or stores."""
    env = {k: v for k, v in os.environ.items() if k not in config.COURSE_SWITCHES}
    env["MPLBACKEND"] = INLINE_BACKEND
    env.update(settings or {})
    return env


def notebook_path(name: str, root: Path = ROOT) -> Path:
    """``notebooks/<name>.ipynb`` for a catalogue name or number (``03``)."""
    return root / "notebooks" / catalogue.find(name).file_name


def tagged_cell(path: Path, tag: str) -> str:
    """The source of the one code cell tagged ``tag`` in the notebook at ``path``."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    found = [c.source for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    if len(found) != 1:
        raise ValueError(
            f"{path.name} has {len(found)} cells tagged {tag!r}; it needs exactly one "
            "(add the tag in Jupyter: View > Cell toolbar > Tags)."
        )
    return found[0]


def run_model_cell(name: str, namespace: dict, root: Path = ROOT) -> dict:
    """Execute the ``model`` cell of notebook ``name`` in ``namespace`` (the names the cell
    uses, such as ``nn`` or ``layers``) and return the namespace, now holding ``build_model``.
    What the cell prints (a model summary) is swallowed."""
    source = tagged_cell(notebook_path(name, root), "model")
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(source, f"{name}: model cell", "exec"), namespace)
    if not callable(namespace.get("build_model")):
        raise ValueError(f"The model cell of {name} does not define build_model().")
    return namespace


def torch_builder(name: str = "03_pytorch_sequential"):
    """``build_model`` of a PyTorch notebook, on the CPU."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    names = {"torch": torch, "nn": nn, "F": F, "device": torch.device("cpu")}
    return run_model_cell(name, names)["build_model"]


def keras_builder(name: str = "01_keras_sequential"):
    """``build_model`` of a Keras notebook."""
    import keras

    return run_model_cell(name, {"keras": keras, "layers": keras.layers})["build_model"]


def tensorflow_builder(name: str = "05_tensorflow_raw"):
    """``build_model`` of the raw TensorFlow notebook, seeded with the course's recipe."""
    import numpy as np
    import tensorflow as tf

    names = {"tf": tf, "np": np, "recipe": config.FULL_RECIPE}
    return run_model_cell(name, names)["build_model"]


def device_in_use() -> str:
    """The device the notebooks train on here, as ``shared.config.device_description`` names
    it: the GPU's own name when PyTorch sees a CUDA GPU, otherwise the CPU's."""
    import torch

    if torch.cuda.is_available():
        return config.device_description("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return config.device_description("mps")
    return config.device_description("cpu")
