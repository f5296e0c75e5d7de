import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from shared import catalogue
from tools import course, readme, run_times

from .conftest import ROOT


def make_course(tmp_path, *cells_per_notebook):
    """A course in ``tmp_path`` with one notebook per list of cells, and its catalogue."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    blocks = [f"{start}\nold\n{end}\n" for start, end in map(readme.markers, readme.TABLES)]
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
    timings = json.loads((tmp_path / run_times.PATH).read_text())
    assert set(timings["seconds"]) == {"00_demo.ipynb", "01_demo.ipynb"}
    text = (tmp_path / "README.md").read_text()
    assert "[00_demo](notebooks/00_demo.ipynb)" in text and "No results yet" in text
    assert "Not measured yet: run `make bench`" in text
    assert "Not measured yet: run `make levers`" in text
    assert readme.readme_is_current(tmp_path, listed)
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


def test_main_commands(tmp_path, monkeypatch, capsys):
    _, listed = make_course(tmp_path, ["1"])
    monkeypatch.chdir(tmp_path)
    assert course.main(["check-readme"]) == 1
    assert "stale" in capsys.readouterr().err
    assert course.main(["readme"]) == 0
    assert course.main(["check-readme"]) == 0
    assert course.main([]) == 2


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
    (tmp_path / run_times.PATH).write_text('{"seconds": ')
    with pytest.raises(
        ValueError, match=r"run-times.json is damaged .*: delete it, and `make run`"
    ):
        run_times.read(tmp_path)
    assert course.run(tmp_path, listed=listed) == 0
    assert "run-times.json is damaged" in capsys.readouterr().out
    assert set(run_times.read(tmp_path)) == {"00_demo.ipynb"}


# ----------------------------------------------------------------------------- what a run records


def test_a_partial_run_stamps_its_machine_on_its_own_notebooks_only(tmp_path, monkeypatch):
    """`course run 01` used to write this machine's name over every notebook's time."""
    _, listed = make_course(tmp_path, ["1"], ["2"], ["3"])
    (tmp_path / "results").mkdir()
    old = {"device": "Old machine", "seconds": {"00_demo.ipynb": 7.0, "01_demo.ipynb": 8.0}}
    (tmp_path / run_times.PATH).write_text(json.dumps(old))  # the format before devices
    monkeypatch.setattr(course.course_notebooks, "device_in_use", lambda: "This machine")
    assert course.run(tmp_path, ["01", "02"], listed) == 0
    times = run_times.read(tmp_path)
    assert times["00_demo.ipynb"] == {"seconds": 7.0, "device": "Old machine"}
    assert times["01_demo.ipynb"]["device"] == times["02_demo.ipynb"]["device"] == "This machine"
    assert times["01_demo.ipynb"]["seconds"] != 8.0
    record = json.loads((tmp_path / run_times.PATH).read_text())
    assert record["device"] == run_times.SEVERAL and record["seconds"]["00_demo.ipynb"] == 7.0
    table = readme.syllabus_table(tmp_path, listed)
    assert "| Full run (min:s) |" in table and "| 0:07 on Old machine |" in table
    assert table.count("on This machine |") == 2


def test_a_complete_run_on_one_machine_names_it_once(tmp_path, monkeypatch):
    _, listed = make_course(tmp_path, ["1"], ["2"])
    monkeypatch.setattr(course.course_notebooks, "device_in_use", lambda: "This machine")
    assert course.run(tmp_path, listed=listed) == 0
    assert json.loads((tmp_path / run_times.PATH).read_text())["device"] == "This machine"
    table = readme.syllabus_table(tmp_path, listed)
    assert "| Full run on This machine (min:s) |" in table and " on This machine |" not in table


# ----------------------------------------------------------------------------- bad arguments


def never_execute(path, timeout=0):
    raise AssertionError(f"{path.name} was executed although the arguments were wrong")


def test_readme_outside_the_course_folder_says_where_to_run_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in (["readme"], ["check-readme"], ["run", "03"]):
        with pytest.raises(SystemExit, match="is not the course folder .*pyproject.toml"):
            course.main(command)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "99"], "No notebook '99'"),
        (["run", "03", "keras"], "No notebook 'keras'"),
    ],
)
def test_help_is_not_an_error(capsys):
    assert course.main(["--help"]) == 0
    assert "python -m tools.course readme" in capsys.readouterr().out


def test_unknown_notebooks_stop_before_anything_runs(argv, message, monkeypatch):
    monkeypatch.setattr(course, "execute", never_execute)
    monkeypatch.chdir(ROOT / "notebooks")  # inside the course folder also counts
    with pytest.raises(SystemExit, match=message):
        course.main(argv)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["readme", "03"], "`readme` takes no arguments"),
        (["check-readme", "--fix"], "`check-readme` takes no arguments"),
        (["runn"], "Unknown command 'runn'"),
        ([], "Use one of:"),
    ],
)
def test_wrong_commands_say_what_is_accepted(argv, message, capsys):
    assert course.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "python -m tools.course run [NAME ...]" in err


def test_a_readme_without_its_markers_stops_the_run_before_it_starts(tmp_path, monkeypatch):
    _, listed = make_course(tmp_path, ["1"])
    (tmp_path / "README.md").write_text("# Course, the tables' markers deleted\n")
    monkeypatch.setattr(course, "execute", never_execute)
    with pytest.raises(ValueError, match="README.md needs the markers"):
        course.run(tmp_path, listed=listed)


@pytest.mark.parametrize("blocker", ["results", "results/run-times.json"])
def test_an_unwritable_results_path_stops_the_run_before_it_starts(tmp_path, monkeypatch, blocker):
    _, listed = make_course(tmp_path, ["1"])
    if blocker == "results":
        (tmp_path / "results").write_text("a file where the folder belongs")
    else:
        (tmp_path / blocker).mkdir(parents=True)
    monkeypatch.setattr(course, "execute", never_execute)
    with pytest.raises(SystemExit, match="run-times.json (is a folder|cannot be written)"):
        course.run(tmp_path, listed=listed)
