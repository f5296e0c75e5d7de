"""`python -m tools.navigation` with wrong arguments or broken notebooks: a clear message, and
not one notebook written."""

import json

import pytest

from shared import catalogue
from tools import navigation


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course folder whose notebooks are one heading each, their navigation not yet written."""
    (tmp_path / "notebooks").mkdir()
    for nb in catalogue.NOTEBOOKS:
        cell = {"cell_type": "markdown", "metadata": {}, "source": [f"# {nb.title}\n"]}
        text = json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
        (tmp_path / "notebooks" / nb.file_name).write_text(text)
    monkeypatch.setattr(navigation, "ROOT", tmp_path)
    return tmp_path


def contents(root):
    return {p.name: p.read_text() for p in sorted((root / "notebooks").iterdir())}


@pytest.mark.parametrize("argv", [["--chek"], ["--check", "extra"], ["03"]])
def test_a_mistyped_option_writes_nothing(course, argv, capsys):
    """`--chek` used to be taken as "rewrite every notebook"."""
    before = contents(course)
    assert navigation.main(argv) == 2
    assert "python -m tools.navigation --check" in capsys.readouterr().err
    assert contents(course) == before


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_broken_notebook_is_named_and_nothing_is_written(course, damage, capsys):
    broken = course / "notebooks" / catalogue.NOTEBOOKS[2].file_name
    if damage == "missing":
        broken.unlink()
    else:
        broken.write_text(broken.read_text()[:30])
    before = contents(course)
    assert navigation.main([]) == 1
    out = capsys.readouterr().out
    assert broken.name in out and "Nothing was changed" in out
    assert contents(course) == before


def test_a_notebook_without_cells_gets_its_navigation(course):
    empty = course / "notebooks" / catalogue.NOTEBOOKS[0].file_name
    empty.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert navigation.main(["--check"]) == 1
    assert navigation.main([]) == 0
    assert navigation.main(["--check"]) == 0
