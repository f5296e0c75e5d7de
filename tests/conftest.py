from pathlib import Path

import matplotlib
import numpy as np
import pytest

from shared import report

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST cache; these tests need the four canonical files."""
    from shared import data

    folder = data.data_dir()
    if any(data.find_file(name, folder) is None for name in data.FILE_NAMES):
        pytest.fail(
            f"MNIST is not in {folder}: set {data.DATA_ENV} to a folder with the four IDX files."
        )
    return folder


@pytest.fixture(autouse=True)
def _no_mode_leak(monkeypatch):
    """Each test starts in the mode it asks for, whatever the shell exported."""
    from shared import config

    for name in config.COURSE_SWITCHES:
        monkeypatch.delenv(name, raising=False)


def _sample_results(**changes):
    results = {
        "schema": report.SCHEMA_VERSION,
        "notebook": "03_pytorch_sequential",
        "backend": "PyTorch (nn.Sequential)",
        "mode": "full",
        "versions": {"torch": "2.14.1"},
        "device": "CPU",
        "recipe": {"epochs": 1},
        "split": {"val_size": 2000},
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
