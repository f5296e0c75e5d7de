"""What ``tools.site`` does before Sphinx runs: it refuses to empty a folder it did not create,
refuses missing or damaged sources, and stages the pages of ``docs/``. No Sphinx needed."""

import json

import pytest

from shared import catalogue
from tools import site

from .conftest import ROOT


def notebook_json(title: str) -> str:
    cell = {"cell_type": "markdown", "metadata": {}, "source": f"# {title}\n"}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture
def course(tmp_path):
    """A course folder with a README, every catalogue notebook (one heading each) and docs/."""
    root = tmp_path / "course"
    (root / "notebooks").mkdir(parents=True)
    (root / "docs").mkdir()
    for nb in catalogue.NOTEBOOKS:
        (root / "notebooks" / nb.file_name).write_text(notebook_json(nb.title))
    (root / "README.md").write_text(
        "# Course\n\nSee [troubleshooting](docs/troubleshooting.md#colab), "
        "then [speed](docs/speed.md) and [the licence](LICENSE).\n"
    )
    (root / "LICENSE").write_text("MIT\n")
    (root / "docs" / "speed.md").write_text("# Speed\n\nBack to [the README](../README.md).\n")
    (root / "docs" / "troubleshooting.md").write_text(
        "# Troubleshooting\n\n## Colab\n\nOpen [03](../notebooks/03_pytorch_sequential.ipynb).\n"
    )
    (root / "docs" / "layout.md").write_text("# Layout\n\nSee [speed](speed.md).\n")
    return root


def test_out_that_is_the_repository_or_above_it_is_refused():
    # site.check, not site.main: should the check ever break, a test must not build into ROOT.
    for out in (ROOT, ROOT.parent, ROOT / "notebooks"):
        with pytest.raises(RuntimeError, match="is, or holds,|did not write"):
            site.check(out=out)


def test_out_with_files_of_its_own_is_refused_untouched(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(SystemExit, match=r"holds files that this tool did not write") as stopped:
        site.main(["--out", str(mine)])
    assert site.SITE_MARKER in str(stopped.value)
    assert (mine / "thesis.tex").read_text() == "years of work"


def test_out_that_is_a_file_or_holds_the_staging_folder_is_refused(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(SystemExit, match="is a file, not a folder"):
        site.main(["--out", str(a_file)])
    with pytest.raises(RuntimeError, match="is, or holds"):
        site.check(out=tmp_path, staging=tmp_path / "src")


def test_a_new_empty_or_earlier_site_folder_is_accepted(tmp_path):
    assert site.check(out=tmp_path / "new", staging=tmp_path / "src") == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    site.check(out=tmp_path / "empty", staging=tmp_path / "src")
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "index.html").write_text("old site")
    (earlier / site.SITE_MARKER).write_text("")
    site.check(out=earlier, staging=tmp_path / "src")


@pytest.mark.parametrize("damage", ["missing", "truncated", "not a notebook"])
def test_a_missing_or_damaged_notebook_is_named_before_any_work(course, tmp_path, damage):
    path = course / "notebooks" / catalogue.NOTEBOOKS[3].file_name
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_text(path.read_text()[:40])
    else:
        path.write_text('{"cells": "none"}')
    with pytest.raises(RuntimeError, match=rf"{path.name} is (missing|not a)") as stopped:
        site.check(out=tmp_path / "site", staging=tmp_path / "src", root=course)
    assert "git checkout --" in str(stopped.value)
    assert not (tmp_path / "src").exists()


def test_docs_pages_are_staged_in_the_readmes_order_and_linked_as_pages(course, tmp_path):
    assert site.doc_pages(course) == ["docs/troubleshooting.md", "docs/speed.md", "docs/layout.md"]
    staging = tmp_path / "src"
    site.stage(staging, course)
    index = (staging / "index.md").read_text()
    assert "(docs/troubleshooting.md#colab)" in index and "(docs/speed.md)" in index
    assert "https://github.com/" in index  # LICENSE is no page: it goes to GitHub
    guides = index[index.index(":caption: Guides") :].splitlines()[2:5]
    assert guides == ["docs/troubleshooting", "docs/speed", "docs/layout"]
    assert "(../index.md)" in (staging / "docs" / "speed.md").read_text()
    troubleshooting = (staging / "docs" / "troubleshooting.md").read_text()
    assert "(../notebooks/03_pytorch_sequential.ipynb)" in troubleshooting
    assert "(speed.md)" in (staging / "docs" / "layout.md").read_text()


def test_without_docs_there_is_no_guides_section(course, tmp_path):
    for page in (course / "docs").iterdir():
        page.unlink()
    assert site.doc_pages(course) == []
    site.stage(tmp_path / "src", course)
    assert ":caption: Guides" not in (tmp_path / "src" / "index.md").read_text()


def test_staging_refuses_a_folder_it_did_not_write(course, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "keep.txt").write_text("x")
    with pytest.raises(RuntimeError, match="did not write"):
        site.stage(tmp_path / "src", course)
    assert (tmp_path / "src" / "keep.txt").exists()
    site.stage(tmp_path / "fresh", course)
    site.stage(tmp_path / "fresh", course)  # its own folder: rebuilt
