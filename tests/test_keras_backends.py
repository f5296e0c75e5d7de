"""The Keras notebooks run unchanged on Keras' other backends, PyTorch and JAX.

Each case executes a whole notebook in fast mode in a fresh kernel with ``KERAS_BACKEND`` set,
its results written to a temporary folder so that the committed files stay as they are. The
TensorFlow case is the ordinary nbval run of the notebooks.
"""

import contextlib
import importlib.util
import os
import signal
import time

import nbformat
import pytest
from nbclient import NotebookClient

from shared import config, mnist

from .conftest import ROOT

KERAS_NOTEBOOKS = ("01_keras_sequential", "02_keras_functional")
CELL_TIMEOUT = 300  # seconds for one cell: the training loop is the longest
NOTEBOOK_TIMEOUT = 900  # seconds for the whole notebook


def backend_available(backend):
    return importlib.util.find_spec(backend) is not None


@contextlib.contextmanager
def overall_timeout(seconds, what):
    """Stop a run that outlasts ``seconds`` with TimeoutError (the kernel is shut down as the
    error leaves nbclient), however long each of its cells was allowed."""

    def stop(signum, frame):
        raise TimeoutError(f"{what} ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.slow
@pytest.mark.kernel
@pytest.mark.parametrize("name", KERAS_NOTEBOOKS)
@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_keras_notebook_runs_on_another_backend(backend, name, mnist_dir, tmp_path, monkeypatch):
    if not backend_available(backend):
        pytest.skip(f"{backend} is not installed")
    # the kernel inherits this process's environment
    monkeypatch.setenv("KERAS_BACKEND", backend)
    monkeypatch.setenv(config.FAST_ENV, "1")
    monkeypatch.setenv(config.RESULTS_ENV, str(tmp_path / "results"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv(mnist.DATA_ENV, os.fspath(mnist_dir))
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    start = time.monotonic()
    with overall_timeout(NOTEBOOK_TIMEOUT, f"{name} on {backend}"):
        client.execute()  # a failing cell raises CellExecutionError with its traceback
    print(f"{name} on {backend}: {time.monotonic() - start:.0f} s")

    printed = "\n".join(
        "".join(output.get("text", ""))
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert f"{backend} backend" in printed, "the notebook ran on the backend it was given"
    assert (tmp_path / "results" / f"{name}.json").is_file(), "results went to the temp folder"
