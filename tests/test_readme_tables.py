"""The README's generated tables (``tools.readme``): rendered from the catalogue and the
measurement files, and checked for staleness."""

import json

import pytest

from shared import results
from tools import readme

from .conftest import ROOT
from .test_course import make_course


def test_results_table_from_json(tmp_path, make_results):
    results.write_results(tmp_path / "03_pytorch_sequential.json", make_results())
    table = readme.results_table(tmp_path)
    assert "| PyTorch (nn.Sequential) | 99.00% | 97.00% | 1 | 40 s | 1,500 | CPU |" in table


def test_readme_without_markers_is_an_error(tmp_path):
    _, listed = make_course(tmp_path, ["1"])
    (tmp_path / "README.md").write_text("no markers")
    with pytest.raises(ValueError, match="README.md needs the markers"):
        readme.render_readme(tmp_path, listed)


def test_committed_readme_tables_are_current():
    assert readme.readme_is_current(ROOT), "README tables are stale: run `make readme`"


def test_bench_table_from_json(tmp_path):
    from tools import bench

    _, listed = make_course(tmp_path, ["1"])
    rows = [bench.row("03", {"seconds": 10.0, "images": 1000}, 120e9, 20.0)]
    record = {
        "device": "CPU",
        "images": 1000,
        "epochs": 4,
        "matmul_gflops": 120.0,
        "rows": rows,
    }
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "bench.json").write_text(json.dumps(record))
    table = readme.measured_table(tmp_path, "bench")
    assert "| 03 | 100 | 600 |" in table and "Peak" not in table
    assert "4 epochs of 1,000 images" in table and "reached 120 GFLOP/s" in table


def test_levers_table_from_json(tmp_path):
    from tools import levers

    _, listed = make_course(tmp_path, ["1"])
    rows = [{"lever": "A", "off_seconds_per_epoch": 90, "on_seconds_per_epoch": 45, "speedup": 2}]
    record = {
        "device": "CPU",
        "batch_size": 128,
        "steps": 20,
        "rounds": 3,
        "rows": rows,
        "second_convolution_seconds_per_epoch": 31.4,
    }
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "levers.json").write_text(json.dumps(record))
    table = readme.measured_table(tmp_path, "levers")
    assert table.startswith(levers.table(rows)) and "| A | 90 s | 45 s | 2.00× |" in table
    assert "3 alternating rounds of 20 steps" in table and "took 31 s per 60k" in table


@pytest.mark.parametrize("name", ["bench", "levers"])
@pytest.mark.parametrize("text", ["{", '{"rows": []}', "[]"])
def test_damaged_measurement_files_are_named(tmp_path, name, text):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / f"{name}.json").write_text(text)
    with pytest.raises(ValueError, match=rf"results/{name}.json is damaged .*`make {name}`"):
        readme.measured_table(tmp_path, name)


def test_results_table_reads_only_the_catalogues_files(tmp_path, make_results):
    results.write_results(tmp_path / "03_pytorch_sequential.json", make_results())
    stray = make_results(backend="A stray copy")
    (tmp_path / "03_pytorch_sequential (copy).json").write_text(json.dumps(stray, default=float))
    table = readme.results_table(tmp_path)
    assert "PyTorch (nn.Sequential)" in table and "stray" not in table
