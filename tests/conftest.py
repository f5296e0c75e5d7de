import functools
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from shared import results as results_files

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def _mnist_folder() -> Path:
    """The MNIST cache folder with the four canonical files, fetched through the course's own
    loader (downloaded from ``$MNIST_MIRROR`` or the known mirrors, verified, cached) when they
    are missing. Without them and with no mirror in reach, the whole session stops with one
    message that says how to provide the files."""
    from shared import mnist

    folder = mnist.data_dir()
    try:
        mnist.load_mnist(folder)
    except RuntimeError as err:
        pytest.exit(f"The tests need the four MNIST files. {err}", returncode=1)
    return folder


def pytest_collection_finish(session):
    """Fetch MNIST before the first test runs when any test needs it: offline, the session
    then stops within seconds, not after every test that needs no data."""
    if any("mnist_dir" in getattr(item, "fixturenames", ()) for item in session.items):
        _mnist_folder()


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The MNIST cache folder with the four canonical files (see ``_mnist_folder``)."""
    return _mnist_folder()


@pytest.fixture(autouse=True)
def _no_mode_leak(monkeypatch):
    """Each test starts in the mode it asks for, whatever the shell exported."""
    from shared import config, mirrors

    for name in (*config.COURSE_SWITCHES, mirrors.MIRROR_ENV):
        monkeypatch.delenv(name, raising=False)


def _sample_results(**changes):
    results = {
        "schema": results_files.SCHEMA_VERSION,
        "notebook": "03_pytorch_sequential",
        "backend": "PyTorch (nn.Sequential)",
        "mode": "full",
        "precision": "float32",
        "versions": {"torch": "2.14.1"},
        "device": "CPU",
        "recipe": {"epochs": 1},
        "split": {"train_size": 60000, "val_size": 2000, "test_size": 8000},
        "parameters": 1199882,
        "history": [
            {
                "epoch": 1,
                "train_loss": 0.2,
                "train_accuracy": 0.9,
                "val_loss": 0.1,
                "val_accuracy": 0.97,
                "seconds": 40.0,
            }
        ],
        "seconds_per_epoch": 40.0,
        "images_per_second": 1500.0,
        "test_loss": np.float32(0.05),
        "test_accuracy": 0.99,
        "per_class_accuracy": {str(d): 0.99 for d in range(10)},
    }
    results.update(changes)
    return results


@pytest.fixture
def make_results():
    """A function that returns a valid results record, with any keys replaced."""
    return _sample_results
