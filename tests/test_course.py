import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from shared import catalogue, report
from tools import course

from .conftest import ROOT


def make_course(tmp_path, *cells_per_notebook):
    """A course in ``tmp_path`` with one notebook per list of cells, and its catalogue."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    blocks = [f"{start}\nold\n{end}\n" for start, end in map(course._markers, course.TABLES)]
    (tmp_path / "README.md").write_text("# Course\n" + "\n".join(blocks) + "the end\n")
    paths = []
    for number, cells in enumerate(cells_per_notebook):
        nb = new_notebook(cells=[new_markdown_cell("# title"), *map(new_code_cell, cells)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        path = tmp_path / "notebooks" / f"{number:02d}_demo.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    listed = tuple(
        catalogue.Notebook(p.stem, "backend", f"Demo {p.stem[:2]}", f"demo {p.stem[:2]}")
        for p in paths
    )
    return paths, listed


def test_run_executes_in_order_and_refreshes_readme(tmp_path, capsys):
    paths, listed = make_course(
        tmp_path, ["print(6 * 7)"], ["import os; print(os.environ['FORCE_CNN_FAST'])"]
    )
    assert course.run(tmp_path, listed=listed) == 0
    first = nbformat.read(paths[0], as_version=4)
    assert first.cells[1].outputs[0]["text"] == "42\n"
    assert nbformat.read(paths[1], as_version=4).cells[1].outputs[0]["text"] == "0\n"
    out = capsys.readouterr().out
    assert "[1/2] 00_demo.ipynb" in out and "Wall time per notebook" in out
    timings = json.loads((tmp_path / course.TIMINGS).read_text())
    assert set(timings["seconds"]) == {"00_demo.ipynb", "01_demo.ipynb"}
    readme = (tmp_path / "README.md").read_text()
    assert "[00_demo](notebooks/00_demo.ipynb)" in readme and "No results yet" in readme
    assert "Not measured yet: run `make bench`" in readme
    assert "Not measured yet: run `make levers`" in readme
    assert course.readme_is_current(tmp_path, listed)
    # a second run knows how long the rest will take
    assert course.run(tmp_path, ["01"], listed) == 0
    assert "left)" in capsys.readouterr().out


def test_failing_notebook_stops_the_run_and_stays_untouched(tmp_path, capsys):
    paths, listed = make_course(
        tmp_path, ["x = 1", "raise ValueError('broken on purpose')"], ["print(1)"]
    )
    before = paths[0].read_text()
    assert course.run(tmp_path, listed=listed) == 1
    err = capsys.readouterr().err
    assert "00_demo.ipynb failed in cell 3" in err and "broken on purpose" in err
    assert paths[0].read_text() == before
    assert nbformat.read(paths[1], as_version=4).cells[1].outputs == []


def test_notebook_selection_is_exact():
    chosen = course.notebooks(ROOT, ["03", "01_keras_sequential"])
    assert [p.name for p in chosen] == ["01_keras_sequential.ipynb", "03_pytorch_sequential.ipynb"]
    for wrong in ("0", "99", "03_pytorch", "keras"):
        with pytest.raises(SystemExit, match="No notebook .* Use a number or a name: 00_cnn"):
            course.notebooks(ROOT, [wrong])


def test_results_table_from_json(tmp_path, make_results):
    report.write_results(tmp_path / "03_pytorch_sequential.json", make_results())
    table = course.results_table(tmp_path)
    assert "| PyTorch (nn.Sequential) | 99.00% | 97.00% | 1 | 40 s | 1,500 | CPU |" in table


def test_readme_without_markers_is_an_error(tmp_path):
    _, listed = make_course(tmp_path, ["1"])
    (tmp_path / "README.md").write_text("no markers")
    with pytest.raises(ValueError, match="lacks the markers"):
        course.render_readme(tmp_path, listed)


def test_main_commands(tmp_path, monkeypatch, capsys):
    _, listed = make_course(tmp_path, ["1"])
    monkeypatch.chdir(tmp_path)
    assert course.main(["check-readme"]) == 1
    assert "stale" in capsys.readouterr().err
    assert course.main(["readme"]) == 0
    assert course.main(["check-readme"]) == 0
    assert course.main([]) == 2


def test_committed_readme_tables_are_current():
    assert course.readme_is_current(ROOT), "README tables are stale: run `make readme`"


def test_bench_table_from_json(tmp_path):
    from tools import bench

    _, listed = make_course(tmp_path, ["1"])
    rows = [bench.row("03", {"seconds": 10.0, "images": 1000}, 100e9, 120e9, 20.0)]
    record = {
        "device": "CPU",
        "images": 1000,
        "epochs": 4,
        "peak_assumptions": "2 cores",
        "matmul_gflops": 120.0,
        "rows": rows,
    }
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "bench.json").write_text(json.dumps(record))
    table = course.measured_table(tmp_path, "bench")
    assert "| 03 | 100 | 600 |" in table and "Peak: 2 cores." in table
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
    table = course.measured_table(tmp_path, "levers")
    assert table.startswith(levers.table(rows)) and "| A | 90 s | 45 s | 2.00× |" in table
    assert "3 alternating rounds of 20 steps" in table and "took 31 s per 60k" in table
