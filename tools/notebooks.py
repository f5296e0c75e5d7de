"""The course's notebooks seen from Python: their files, their tagged cells, and the network
that a backend notebook's own ``model`` cell builds.

Tools that need the model outside a notebook (the bench's baseline, the levers, the test that
the six frameworks compute the same function) build it by executing that cell, so there is no
second copy of the network to drift away from the one the notebooks teach.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import os
from pathlib import Path

import numpy as np

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


def notebook_problem(path: Path) -> str | None:
    """Why ``path`` cannot be shown as a notebook page (missing, truncated, not a notebook), or
    None when it can."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{path} is missing"
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return f"{path} is not a readable notebook ({error})"
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list) or not all(
        isinstance(cell, dict) and "cell_type" in cell and "source" in cell for cell in cells
    ):
        return f"{path} is not a notebook (it needs a list of cells, each with a type and source)"
    return None


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


def keras_module():
    """Keras on TensorFlow, as the Keras notebooks use it."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


def torch_module():
    import torch

    return torch


def tensorflow_module():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


#: The names a model cell may use without defining them, and where they come from. PyTorch
#: models are built on the CPU, where float32 stays float32 (a GPU may round convolutions and
#: matrix products to TF32); a tool moves the model where it wants it.
SUPPLIED_NAMES = {
    "keras": keras_module,
    "layers": lambda: keras_module().layers,
    "torch": torch_module,
    "nn": lambda: torch_module().nn,
    "F": lambda: torch_module().nn.functional,
    "device": lambda: torch_module().device("cpu"),
    "tf": tensorflow_module,
    "np": lambda: np,
    "recipe": lambda: config.FULL_RECIPE,
}


def free_names(source: str) -> set[str]:
    """The names a cell reads but neither defines, imports nor gets from Python's builtins."""
    tree = ast.parse(source)
    read, defined = set(), set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return read - defined


def model_builder(name: str, root: Path = ROOT):
    """``build_model`` from the ``model`` cell of notebook ``name``, executed (not copied) with
    the names it needs (``SUPPLIED_NAMES``): the one way the tools build the course network."""
    needed = free_names(tagged_cell(notebook_path(name, root), "model"))
    unknown = sorted(needed - set(SUPPLIED_NAMES))
    if unknown:
        raise ValueError(
            f"The model cell of {name} uses {unknown}, which tools/notebooks.py does not know "
            f"how to supply: add them to SUPPLIED_NAMES (it knows {sorted(SUPPLIED_NAMES)})."
        )
    namespace = {key: SUPPLIED_NAMES[key]() for key in sorted(needed)}
    return run_model_cell(name, namespace, root)["build_model"]


def torch_builder(name: str = "03_pytorch_sequential"):
    """``build_model`` of a PyTorch notebook, on the CPU."""
    return model_builder(name)


def keras_builder(name: str = "01_keras_sequential"):
    """``build_model`` of a Keras notebook."""
    return model_builder(name)


def tensorflow_builder(name: str = "05_tensorflow_raw"):
    """``build_model`` of the raw TensorFlow notebook, seeded with the course's recipe."""
    return model_builder(name)


def device_in_use() -> str:
    """The device the notebooks train on here, as ``shared.config.device_description`` names
    it: the GPU's own name when PyTorch sees a CUDA GPU, otherwise the CPU's."""
    import torch

    if torch.cuda.is_available():
        return config.device_description("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return config.device_description("mps")
    return config.device_description("cpu")
