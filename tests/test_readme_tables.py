"""The README's generated tables (``tools.readme``): rendered from the catalogue and the
measurement files, and checked for staleness."""

import json

import pytest

from shared import results
from tools import measurements, readme

from .conftest import ROOT
from .test_course import make_course


def test_results_table_from_json(tmp_path, make_results):
    results.write_results(tmp_path / "03_pytorch_sequential.json", make_results())
    table = readme.results_table(tmp_path)
    assert "| PyTorch (nn.Sequential) | 99.00% | 97.00% | 1 | 40 s | 1,500 | CPU |" in table


def test_readme_without_markers_is_an_error(tmp_path):
    _, listed = make_course(tmp_path, ["1"])
    (tmp_path / "README.md").write_text("no markers")
    with pytest.raises(ValueError, match="must stand once each"):
        readme.render_readme(tmp_path, listed)


def test_committed_readme_tables_are_current():
    assert readme.readme_is_current(ROOT), "README tables are stale: run `make readme`"


@pytest.mark.parametrize("name", ["bench", "levers"])
def test_not_measured_yet_says_what_to_run(tmp_path, name):
    assert readme.measured_table(tmp_path, name) == f"_Not measured yet: run `make {name}`._"


@pytest.mark.parametrize("name", ["bench", "levers"])
@pytest.mark.parametrize("text", ["{", '{"rows": []}', "[]"])
def test_damaged_measurement_files_are_named(tmp_path, name, text):
    measurements.folder(tmp_path).mkdir(parents=True)
    (measurements.folder(tmp_path) / f"{name}.json").write_text(text)
    with pytest.raises(ValueError, match=rf"{name}.json cannot be used: .*`make {name}`"):
        readme.measured_table(tmp_path, name)


def test_a_measurement_the_table_cannot_show_is_named(tmp_path, monkeypatch):
    """A file that passes the checks but lacks what the table shows: named, not a KeyError."""
    from tools import levers

    monkeypatch.setattr(measurements, "read", lambda root, name: {"rows": [{"lever": "A"}]})
    with pytest.raises(ValueError, match=r"levers.json lacks 'off_seconds_per_epoch'"):
        readme.measured_table(tmp_path, "levers")
    assert levers.table  # the module that renders it


def test_results_table_reads_only_the_catalogues_files(tmp_path, make_results):
    results.write_results(tmp_path / "03_pytorch_sequential.json", make_results())
    stray = make_results(backend="A stray copy")
    (tmp_path / "03_pytorch_sequential (copy).json").write_text(json.dumps(stray, default=float))
    table = readme.results_table(tmp_path)
    assert "PyTorch (nn.Sequential)" in table and "stray" not in table


def test_tables_moved_to_a_docs_page_are_rendered_and_checked_there(tmp_path):
    """The speed tables may live in docs/speed.md: rendered there, stale there is stale."""
    _, listed = make_course(tmp_path, ["1"])
    text = (tmp_path / "README.md").read_text()
    start, end = readme.markers("bench-table")
    block = text[text.index(start) : text.index(end) + len(end)]
    (tmp_path / "README.md").write_text(text.replace(block, "See [speed](docs/speed.md)."))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "speed.md").write_text(f"# Speed\n\n{block}\n")
    assert not readme.readme_is_current(tmp_path, listed)
    readme.write_readme_tables(tmp_path, listed)
    assert "Not measured yet: run `make bench`" in (tmp_path / "docs" / "speed.md").read_text()
    assert readme.readme_is_current(tmp_path, listed)
    (tmp_path / "docs" / "extra.md").write_text(block)  # the same table twice
    with pytest.raises(ValueError, match="found in docs/extra.md and docs/speed.md"):
        readme.render_pages(tmp_path, listed)
