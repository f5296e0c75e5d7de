import math
import random
import subprocess
import sys

import numpy as np
import pytest

from shared import config

from .conftest import ROOT


def test_import_shared_does_not_import_frameworks():
    code = "import shared, sys; print('torch' in sys.modules, 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


@pytest.mark.parametrize("value, fast", [("", False), ("0", False), ("1", True), ("yes", True)])
def test_mode_from_environment(monkeypatch, value, fast):
    monkeypatch.setenv(config.FAST_ENV, value)
    assert config.is_fast_mode() is fast
    assert config.mode() == ("fast" if fast else "full")
    assert config.recipe() == (config.FAST_RECIPE if fast else config.FULL_RECIPE)


def test_unknown_mode_is_an_error(monkeypatch):
    monkeypatch.setenv(config.FAST_ENV, "maybe")
    with pytest.raises(ValueError, match="FORCE_CNN_FAST"):
        config.is_fast_mode()


def test_recipes():
    assert config.FULL_RECIPE.epochs <= 5 and config.FULL_RECIPE.train_limit is None
    assert config.FAST_RECIPE.epochs == 1 and config.FAST_RECIPE.train_limit
    assert config.FULL_RECIPE.to_dict()["batch_size"] == config.FULL_RECIPE.batch_size


def test_learning_rate_schedule_shape():
    total = 1000
    peak = config.FULL_RECIPE.peak_learning_rate
    warmup = config.warmup_steps_for(total)
    assert warmup == 200
    assert config.learning_rate(0, total) == 0
    assert config.learning_rate(warmup / 2, total) == pytest.approx(peak / 2)
    assert config.learning_rate(warmup, total) == pytest.approx(peak)
    assert config.learning_rate(600, total) == pytest.approx(peak / 2)
    assert config.learning_rate(total, total) == pytest.approx(0, abs=1e-12)
    assert config.learning_rate(2 * total, total) == pytest.approx(0, abs=1e-12)
    values = [config.learning_rate(s, total) for s in range(warmup, total)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))


@pytest.mark.parametrize("step, total", [(-1, 10), (0, 0)])
def test_learning_rate_rejects_bad_steps(step, total):
    with pytest.raises(ValueError):
        config.learning_rate(step, total)


def test_steps_per_epoch():
    assert config.steps_per_epoch(60000, 128) == math.ceil(60000 / 128)
    with pytest.raises(ValueError, match="positive"):
        config.steps_per_epoch(0, 128)


def test_seed_python_and_numpy_makes_them_repeatable():
    config.seed_python_and_numpy(7)
    first = (random.random(), np.random.rand())
    config.seed_python_and_numpy(7)
    assert (random.random(), np.random.rand()) == first
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="non-negative"):
            config.seed_python_and_numpy(bad)


def test_device_descriptions(monkeypatch):
    assert config.device_description("cpu").startswith("CPU: ")
    assert f"{config.cpu_cores()} cores" in config.cpu_description()
    assert config.device_description("mps") == "Apple GPU (MPS)"
    monkeypatch.setattr(config, "nvidia_gpu_name", lambda: "NVIDIA H200")
    for name in ("cuda", "/GPU:0", "gpu:0"):
        assert config.device_description(name) == "GPU: NVIDIA H200"
    monkeypatch.setattr(config, "nvidia_gpu_name", lambda: None)
    assert config.device_description("cuda") == "GPU"


def test_gpu_name_is_none_without_nvidia_smi(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert config.nvidia_gpu_name() is None


def test_paths_follow_mode(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT / "notebooks")
    assert config.project_root() == ROOT
    assert config.results_dir() == ROOT / "results"
    monkeypatch.setenv(config.FAST_ENV, "1")
    assert config.results_dir() == ROOT / "build" / "fast-results"
    assert config.models_dir() == ROOT / "build" / "models" / "fast"
    monkeypatch.setenv(config.RESULTS_ENV, str(tmp_path))
    assert config.results_dir() == tmp_path
    monkeypatch.chdir(tmp_path)
    assert config.project_root() == tmp_path.resolve()


def test_mixed_precision_is_an_opt_in(monkeypatch):
    monkeypatch.delenv(config.MIXED_PRECISION_ENV, raising=False)
    assert config.mixed_precision() is False
    monkeypatch.setenv(config.MIXED_PRECISION_ENV, "1")
    assert config.mixed_precision() is True
    monkeypatch.setenv(config.MIXED_PRECISION_ENV, "bf16")
    with pytest.raises(ValueError, match="FORCE_CNN_MIXED_PRECISION='bf16' is not understood"):
        config.mixed_precision()


def test_bench_mode(monkeypatch):
    monkeypatch.setenv(config.BENCH_ENV, "2048")
    assert config.mode() == "bench"
    assert config.recipe().epochs == config.BENCH_EPOCHS and config.recipe().train_limit == 2048
    assert config.results_dir().name == "bench-results"
    for wrong in ("lots", "0", "60001"):
        monkeypatch.setenv(config.BENCH_ENV, wrong)
        with pytest.raises(ValueError, match="from 1 to 60,000 .MNIST has no more."):
            config.bench_images()
    monkeypatch.setenv(config.BENCH_ENV, "60000")
    assert config.recipe().train_limit == 60000


def test_accuracy_floor_depends_on_mode(monkeypatch):
    assert config.accuracy_floor() == 0.99
    monkeypatch.setenv(config.FAST_ENV, "1")
    assert config.accuracy_floor() == 0.5
