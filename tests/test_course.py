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
        tmp_path, ["print(6 * 7)"], ["import os; print(os.environ.get('FORCE_CNN_FAST'))"]
    )
    assert course.run(tmp_path, listed=listed) == 0
    first = nbformat.read(paths[0], as_version=4)
    assert first.cells[1].outputs[0]["text"] == "42\n"
    assert nbformat.read(paths[1], as_version=4).cells[1].outputs[0]["text"] == "None\n"
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
    table = course.measured_table(tmp_path, "bench")
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
    table = course.measured_table(tmp_path, "levers")
    assert table.startswith(levers.table(rows)) and "| A | 90 s | 45 s | 2.00× |" in table
    assert "3 alternating rounds of 20 steps" in table and "took 31 s per 60k" in table


def test_a_full_run_ignores_what_the_shell_exported(tmp_path, monkeypatch):
    """Exported switches and a headless plotting backend must not reach a full run: with
    MPLBACKEND=Agg every figure was stored as '<Figure size ...>' text."""
    from shared import config

    for name in config.COURSE_SWITCHES:
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    paths, listed = make_course(
        tmp_path,
        [
            "import os; print(sorted(k for k in os.environ if k.startswith('FORCE_CNN')))",
            "import matplotlib.pyplot as plt\nfig = plt.figure()\nplt.plot([1, 2])\nfig",
        ],
    )
    assert course.run(tmp_path, listed=listed) == 0
    cells = nbformat.read(paths[0], as_version=4).cells
    assert cells[1].outputs[0]["text"] == "[]\n"
    assert any("image/png" in o.get("data", {}) for o in cells[2].outputs)


def test_a_dying_kernel_is_named_with_notebook_cell_and_likely_cause(tmp_path, capsys):
    paths, listed = make_course(tmp_path, ["x = 1", "import os, signal\nos.kill(os.getpid(), 9)"])
    before = paths[0].read_text()
    assert course.run(tmp_path, listed=listed) == 1
    err = capsys.readouterr().err
    assert "00_demo.ipynb failed in cell 3:\n    import os, signal" in err
    assert "The kernel died" in err and "out of memory" in err and "Traceback" not in err
    assert paths[0].read_text() == before


def test_ctrl_c_stops_the_run_cleanly_and_leaves_the_notebook(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    started = tmp_path / "started"
    paths, _ = make_course(
        tmp_path, [f"import time\nopen({str(started)!r}, 'w').close()\ntime.sleep(60)"]
    )
    before = paths[0].read_text()
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from shared import catalogue\nfrom tools import course\n"
        f"root = Path({str(tmp_path)!r})\n"
        "listed = (catalogue.Notebook('00_demo', 'backend', 'Demo', 'demo'),)\n"
        "sys.exit(course.run(root, listed=listed))"
    )
    runner = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline and runner.poll() is None:
        time.sleep(0.1)
    assert started.exists(), runner.communicate()
    runner.send_signal(signal.SIGINT)
    out, err = runner.communicate(timeout=60)
    assert runner.returncode == 130, err
    assert "Interrupted (Ctrl-C) in 00_demo.ipynb, cell 2:" in err
    assert "Traceback" not in err and "AssertionError" not in err
    assert paths[0].read_text() == before


def test_damaged_run_times_do_not_stop_a_run(tmp_path, capsys):
    paths, listed = make_course(tmp_path, ["1"])
    (tmp_path / "results").mkdir()
    (tmp_path / course.TIMINGS).write_text('{"seconds": ')
    with pytest.raises(
        ValueError, match=r"run-times.json is damaged .*: delete it, and `make run`"
    ):
        course.read_timings(tmp_path)
    assert course.run(tmp_path, listed=listed) == 0
    assert "run-times.json is damaged" in capsys.readouterr().out
    assert set(course.read_timings(tmp_path)["seconds"]) == {"00_demo.ipynb"}


@pytest.mark.parametrize("name", ["bench", "levers"])
@pytest.mark.parametrize("text", ["{", '{"rows": []}', "[]"])
def test_damaged_measurement_files_are_named(tmp_path, name, text):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / f"{name}.json").write_text(text)
    with pytest.raises(ValueError, match=rf"results/{name}.json is damaged .*`make {name}`"):
        course.measured_table(tmp_path, name)


def test_results_table_reads_only_the_catalogues_files(tmp_path, make_results):
    report.write_results(tmp_path / "03_pytorch_sequential.json", make_results())
    stray = make_results(backend="A stray copy")
    (tmp_path / "03_pytorch_sequential (copy).json").write_text(json.dumps(stray, default=float))
    table = course.results_table(tmp_path)
    assert "PyTorch (nn.Sequential)" in table and "stray" not in table
