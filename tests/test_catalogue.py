"""One catalogue of notebooks: everything that lists notebooks reads it."""

import dataclasses
import json
import shutil

import pytest

from shared import catalogue, results
from tools import bench, course, measurements, readme

from .conftest import ROOT


def test_roles_and_lookups():
    assert [nb.role for nb in catalogue.NOTEBOOKS][:8] == ["concepts"] + 6 * ["backend"] + [
        "comparison"
    ]
    assert catalogue.find("03").name == catalogue.find("03_pytorch_sequential.ipynb").name
    with pytest.raises(ValueError, match="No notebook '3' in the course"):
        catalogue.find("3")
    with pytest.raises(ValueError, match="role 'teaching'"):
        catalogue.Notebook("09_x", "teaching", "x", "x")


def test_a_seventh_backend_reaches_bench_loader_and_readme(tmp_path, monkeypatch, make_results):
    """Add a backend to a copy of the catalogue: the bench, notebook 07's loader and the
    README tables all pick it up, with no other list to edit."""
    seventh = catalogue.Notebook("07_jax", "backend", "JAX (Flax)", "The network in JAX")
    renumbered = [
        dataclasses.replace(nb, name=f"08{nb.name[2:]}") if nb.role == "comparison" else nb
        for nb in catalogue.NOTEBOOKS
    ]
    extended = tuple(renumbered[:7] + [seventh] + renumbered[7:])
    monkeypatch.setattr(catalogue, "NOTEBOOKS", extended)

    (tmp_path / "notebooks").mkdir()
    (tmp_path / "results").mkdir()
    for nb in extended:
        (tmp_path / "notebooks" / nb.file_name).write_text("{}")
    for name in catalogue.backend_names():
        record = make_results(notebook=name, backend=catalogue.find(name).title)
        results.write_results(tmp_path / "results" / f"{name}.json", record)
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text())
    shutil.copytree(ROOT / "docs", tmp_path / "docs")  # the README's pages, with the speed tables
    record = measurements.folder(tmp_path)  # the course's record, which the README shows
    record.mkdir(parents=True)
    for path in (tmp_path / "results").iterdir():
        (record / path.name).write_bytes(path.read_bytes())

    assert bench.backend_paths(tmp_path)[-1].name == "07_jax.ipynb"
    assert [p.name for p in course.notebooks(tmp_path, ["07"])] == ["07_jax.ipynb"]
    runs = results.load_comparison(tmp_path / "results").runs  # what notebook 07 calls
    assert [r["notebook"] for r in runs][-1] == "07_jax" and len(runs) == 7
    rendered = readme.render_readme(tmp_path)
    assert "| [07_jax](notebooks/07_jax.ipynb) | The network in JAX |" in rendered
    assert "| JAX (Flax) | 99.00% |" in rendered


def test_the_comparison_notebook_reads_the_catalogue():
    """07 keeps no list of notebooks of its own: it loads the catalogue's backends (it may
    name one or two, such as the Keras pair that runs the same computation)."""
    cells = json.loads((ROOT / "notebooks" / "07_compare_backends.ipynb").read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "load_comparison(" in code
    named = [nb.name for nb in catalogue.backends() if f'"{nb.name}"' in code]
    assert len(named) <= 2, f"07 lists backends itself: {named}"
