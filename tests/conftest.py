import os
from pathlib import Path

import matplotlib
import pytest

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
    monkeypatch.delenv("FORCE_CNN_FAST", raising=False)
    monkeypatch.delenv("FORCE_CNN_RESULTS_DIR", raising=False)
    monkeypatch.delenv("FORCE_CNN_BENCH_IMAGES", raising=False)
    yield
    os.environ.pop("PYTHONHASHSEED", None)
