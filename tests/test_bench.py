import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from shared import config
from tools import bench


def write_notebook(path, *cells, tags=("train",)):
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.cells[-1].metadata["tags"] = list(tags)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, path)
    return path


def test_truncated_keeps_cells_up_to_the_training_cell(tmp_path):
    path = write_notebook(tmp_path / "01_x.ipynb", "a = 1", "history = [1]")
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(new_code_cell("raise SystemExit('evaluation is not benchmarked')"))
    nbformat.write(nb, path)
    cut = bench.truncated(path)
    assert [c.source for c in cut.cells][:2] == ["a = 1", "history = [1]"]
    assert bench.RESULT_MARKER in cut.cells[-1].source and len(cut.cells) == 3


def test_truncated_needs_a_training_cell(tmp_path):
    path = write_notebook(tmp_path / "01_x.ipynb", "a = 1", tags=())
    with pytest.raises(ValueError, match="no cell tagged 'train'"):
        bench.truncated(path)


def test_measure_notebook_runs_the_notebook_in_bench_mode(tmp_path, monkeypatch):
    monkeypatch.setenv(config.MIXED_PRECISION_ENV, "1")  # exported in the shell: must not leak
    path = write_notebook(
        tmp_path / "03_x.ipynb",
        "from shared import config\n"
        "recipe = config.recipe()\n"
        "history = [dict(seconds=float(recipe.train_limit + recipe.epochs)),"
        " dict(seconds=float(config.mixed_precision()), val_accuracy=0.5)]",
    )
    measured = bench.measure_notebook(path, 2048)
    assert measured == {"seconds": 0.0, "images": 2048, "val_accuracy": 0.5}
    assert bench.measure_notebook(path, 2048, mixed_precision=True)["seconds"] == 1.0
    assert config.BENCH_ENV not in __import__("os").environ


def test_rows_and_table():
    matmul = 50e9
    baseline = bench.row(bench.BASELINE, {"seconds": 20.0, "images": 1000}, matmul, None)
    fast = bench.row("03", {"seconds": 10.0, "images": 1000, "val_accuracy": 0.9876}, matmul, 20.0)
    assert fast["images_per_second"] == 100 and fast["seconds_per_60k_epoch"] == 600
    assert fast["speedup_vs_baseline"] == 2.0
    assert "percent_of_peak" not in fast, "no peak the matmul could beat"
    assert fast["percent_of_matmul"] == pytest.approx(100 * 100 * 71_954_688 / matmul)
    text = bench.table([baseline, fast])
    assert "| 03 | 100 | 600 | 7.2 | 14% | 2.00× | 98.76% |" in text
    assert text.splitlines()[2].endswith("| 1.00× | – |")


def test_fastest_skips_the_warm_up_epoch():
    assert bench.fastest([9.0, 3.0, 2.0, 4.0]) == 2.0
    assert bench.fastest([1.0, 3.0]) == 3.0
    with pytest.raises(ValueError, match="warm-up epoch and a timed one"):
        bench.fastest([1.0])


def test_measure_matmul_gives_a_plausible_rate():
    assert 1e8 < bench.measure_matmul(size=128, windows=1, seconds=0.05) < 1e14


def test_main_writes_results_and_validates_arguments(tmp_path, monkeypatch, capsys):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    for name in ("01_keras_sequential", "03_pytorch_sequential"):
        write_notebook(tmp_path / "notebooks" / f"{name}.ipynb", "history = []")
    monkeypatch.chdir(tmp_path)
    calls = []

    def measure_baseline(images):
        calls.append("baseline")
        return {"seconds": 5.0 if calls.count("baseline") == 1 else 4.0, "images": images}

    def measure_notebook(path, images, mixed_precision=False):
        calls.append((path.stem, mixed_precision))
        first_round = calls.count((path.stem, mixed_precision)) == 1
        seconds = 4.0 if mixed_precision else 3.0 if first_round else 2.0
        return {"seconds": seconds, "images": images, "val_accuracy": 0.9}

    monkeypatch.setattr(bench, "measure_baseline", measure_baseline)
    monkeypatch.setattr(bench, "measure_notebook", measure_notebook)
    monkeypatch.setattr(bench, "measure_matmul", lambda: 100e9)
    assert bench.main(["--images", "2048", "--rounds", "2", "01", "03"]) == 0
    assert calls.count(("03_pytorch_sequential", True)) == 1  # bfloat16 in the first round only
    assert calls.count(("03_pytorch_sequential", False)) == 2 and calls.count("baseline") == 2
    record = json.loads((tmp_path / "results" / "bench.json").read_text())
    names = [r["backend"] for r in record["rows"]]
    assert names == [
        bench.BASELINE,
        "01_keras_sequential",
        "03_pytorch_sequential",
        "03_pytorch_sequential + bf16 autocast",
    ]
    assert record["rows"][0]["seconds_per_60k_epoch"] == 60000 / (2048 / 4.0)
    assert record["rows"][1]["speedup_vs_baseline"] == 2.0  # fastest rounds: 4 s against 2 s
    assert record["rounds"] == 2 and record["matmul_gflops"] == 100
    assert "peak" not in capsys.readouterr().out
    with pytest.raises(SystemExit):
        bench.main(["--images", "10"])
    with pytest.raises(SystemExit):
        bench.main(["--rounds", "0"])
