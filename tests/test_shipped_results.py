"""The committed results that notebook 07 reads, shipped inside the package for Colab."""

import json

from shared import results

from .conftest import ROOT


def test_the_record_lives_in_the_package_alone():
    """One home for the committed results: no copy step, nothing in the Makefile that ships."""
    assert results.COMMITTED_RESULTS == ROOT / "shared" / "course-results"
    assert not (ROOT / "tools" / "ship_results.py").exists()
    assert "ship_results" not in (ROOT / "Makefile").read_text()


def test_pyproject_ships_the_results():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'shared = ["course-results/*.json", "course-results/*/*.json"]' in text


def test_07_falls_back_to_the_shipped_results_and_labels_own_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "read_results", lambda path: json.loads(path.read_text()))
    assert not results.has_all_results(tmp_path)
    assert results.runs_from_this_runtime(tmp_path) == []
    own = tmp_path / "03_pytorch_sequential.json"
    own.write_text((results.COMMITTED_RESULTS / own.name).read_text())
    runs = results.runs_from_this_runtime(tmp_path)
    assert [r["backend"] for r in runs] == ["PyTorch (nn.Sequential) (this runtime)"]
    assert results.has_all_results(results.COMMITTED_RESULTS)
