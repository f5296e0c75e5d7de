import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from shared import concepts, config
from tools import bench, kernels, measurements

from .conftest import ROOT


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
    limit = 50.0
    baseline = bench.row(bench.BASELINE, {"seconds": 20.0, "images": 1000}, limit, None)
    fast = bench.row("03", {"seconds": 10.0, "images": 1000, "val_accuracy": 0.9876}, limit, 20.0)
    bf16 = bench.row("03 + bf16", {"seconds": 5.0, "images": 1000}, limit, 20.0, True)
    assert fast["images_per_second"] == 100 and fast["seconds_per_60k_epoch"] == 600
    assert fast["speedup_vs_baseline"] == 2.0 and fast["precision"] == "float32"
    assert fast["percent_of_limit"] == pytest.approx(100 * 100 * 71_954_688 / 50e9)
    assert bf16["percent_of_limit"] is None, "fp32 kernels are no limit for bfloat16"
    text = bench.table([baseline, fast, bf16])
    assert "| 03 | 100 | 600 | 7.2 | 14% | 2.00× | 98.76% |" in text
    assert text.splitlines()[2].endswith("| 1.00× | – |")
    assert "| 03 + bf16 | 200 | 300 | 14.4 | – | 4.00× | – |" in text


def test_the_limit_is_the_fastest_kernel():
    rates = {"torch fp32 matrix multiply": 200.0, "TensorFlow second convolution": 320.0}
    assert kernels.limit(rates) == ("TensorFlow second convolution", 320.0)
    with pytest.raises(ValueError, match="no kernel"):
        kernels.limit({})


def test_best_rate_synchronises_before_reading_the_clock():
    calls = []
    rate = kernels.best_rate(
        lambda: calls.append("step") or len(calls),
        1e6,
        windows=2,
        seconds=0.01,
        synchronize=lambda result: calls.append(("sync", result)),
    )
    assert rate > 0 and calls[1] == ("sync", 1)  # the warm-up, then a wait for it
    syncs = [i for i, call in enumerate(calls) if isinstance(call, tuple)]
    assert len(syncs) == 3 and syncs[-1] == len(calls) - 1  # one per window, at its end
    with pytest.raises(ValueError, match="windows must be at least 1"):
        kernels.best_rate(print, 1.0, windows=0)


@pytest.mark.slow
def test_torch_kernels_give_plausible_rates():
    rates = kernels.torch_kernels(windows=1, seconds=0.05, size=128)
    assert set(rates) == {
        "torch fp32 matrix multiply",
        "torch second convolution, forward and backward",
    }
    assert all(1e7 < rate < 1e15 for rate in rates.values())


def test_second_convolution_is_most_of_a_training_step():
    share = kernels.second_convolution_flops(1) / concepts.flops_per_image(training=True)
    assert 0.8 < share < 0.95


def test_no_committed_backend_beats_the_limit():
    """A limit no backend can beat (this fails on a bench.json from the old, matmul-only
    reference: run `make bench`)."""
    record = json.loads((measurements.folder(ROOT) / "bench.json").read_text())
    if "limit_gflops" not in record:
        pytest.skip("the committed bench.json predates the limit: `make bench` measures one")
    assert record["limit_gflops"] == max(record["kernels"].values())
    assert record["limit_kernel"] in record["kernels"]
    above = [
        f"{r['backend']}: {r['gflops']:.0f} GFLOP/s, {r['percent_of_limit']:.0f}% of the limit"
        for r in record["rows"]
        if r["precision"] == "float32" and r["gflops"] > record["limit_gflops"]
    ]
    assert not above, "the bench's limit is no limit: " + "; ".join(above)


def test_fastest_skips_the_warm_up_epoch():
    assert bench.fastest([9.0, 3.0, 2.0, 4.0]) == 2.0
    assert bench.fastest([1.0, 3.0]) == 3.0
    with pytest.raises(ValueError, match="warm-up epoch and a timed one"):
        bench.fastest([1.0])


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
    rates = iter(
        [{"torch matmul": 90.0, "tf conv": 100.0}, {"torch matmul": 120.0, "tf conv": 80.0}]
    )
    monkeypatch.setattr(bench, "measure_kernels", lambda: next(rates))
    assert bench.main(["--images", "2048", "--rounds", "2", "01", "03"]) == 0
    assert calls.count(("03_pytorch_sequential", True)) == 1  # bfloat16 in the first round only
    assert calls.count(("03_pytorch_sequential", False)) == 2 and calls.count("baseline") == 2
    assert not (measurements.folder(tmp_path) / "bench.json").exists(), "a part, not committed"
    record = json.loads((tmp_path / bench.PART).read_text())
    names = [r["backend"] for r in record["rows"]]
    assert names == [
        bench.BASELINE,
        "01_keras_sequential",
        "03_pytorch_sequential",
        "03_pytorch_sequential + bf16 autocast",
    ]
    assert record["rows"][0]["seconds_per_60k_epoch"] == 60000 / (2048 / 4.0)
    assert record["rows"][1]["speedup_vs_baseline"] == 2.0  # fastest rounds: 4 s against 2 s
    assert record["rounds"] == 2 and record["kernels"] == {"torch matmul": 120, "tf conv": 100}
    assert record["limit_kernel"] == "torch matmul" and record["limit_gflops"] == 120
    assert record["rows"][3]["percent_of_limit"] is None
    assert record["machine"]["cores"] >= 1 and "AVX2" in record["machine"]["cpu_features"]
    assert "peak" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--images", "10"], "--images must be from 1,024"),
        (["--images", "60001"], "to 60,000"),
        (["--rounds", "0"], "--rounds must be at least 1"),
        (["07"], "only backend notebooks"),
        (["99"], ""),
    ],
)
def test_bad_arguments_stop_before_any_work(argv, says, monkeypatch, capsys):
    def no_work(*args, **kwargs):
        raise AssertionError("the bench started measuring despite bad arguments")

    for name in ("measure_kernels", "measure_baseline", "measure_notebook"):
        monkeypatch.setattr(bench, name, no_work)
    with pytest.raises(SystemExit) as stopped:
        bench.main(argv)
    assert stopped.value.code == 2 and says in capsys.readouterr().err
