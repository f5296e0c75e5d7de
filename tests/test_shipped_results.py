"""The committed results that notebook 07 reads, shipped inside the package for Colab."""

import json

from shared import results
from tools import ship_results

from .conftest import ROOT


def test_shipped_results_equal_the_committed_ones():
    assert ship_results.differences() == [], "run `python -m tools.ship_results`"
    assert results.COMMITTED_RESULTS == ROOT / "shared" / "course-results"


def test_shipping_copies_the_catalogues_files_and_prunes(tmp_path):
    source, shipped = tmp_path / "results", tmp_path / "shipped"
    source.mkdir()
    (source / "bench.json").write_text("{}")
    (source / "03_pytorch_sequential.json").write_text("{}")
    (source / "03_pytorch_sequential (copy).json").write_text("{}")  # never shipped
    shipped.mkdir()
    (shipped / "old.json").write_text("{}")
    assert ship_results.differences(source, shipped) == [
        "03_pytorch_sequential.json is missing",
        "bench.json is missing",
        "old.json is not in results/",
    ]
    ship_results.ship(source, shipped)
    assert ship_results.differences(source, shipped) == []
    assert sorted(p.name for p in shipped.iterdir()) == ["03_pytorch_sequential.json", "bench.json"]


def test_pyproject_ships_the_results():
    assert 'shared = ["course-results/*.json"]' in (ROOT / "pyproject.toml").read_text()


def test_07_falls_back_to_the_shipped_results_and_labels_own_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "read_results", lambda path: json.loads(path.read_text()))
    assert not results.has_all_results(tmp_path)
    assert results.runs_from_this_runtime(tmp_path) == []
    own = tmp_path / "03_pytorch_sequential.json"
    own.write_text((ROOT / "results" / own.name).read_text())
    runs = results.runs_from_this_runtime(tmp_path)
    assert [r["backend"] for r in runs] == ["PyTorch (nn.Sequential) (this runtime)"]
    assert results.has_all_results(results.COMMITTED_RESULTS)
