import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from shared import catalogue, config, results
from tools import course, measurements, readme

from .conftest import ROOT


def make_course(tmp_path, *cells_per_notebook, role="concepts"):
    """A course in ``tmp_path`` with one notebook per list of cells, and its catalogue (of
    notebooks with ``role``)."""
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
        catalogue.Notebook(p.stem, role, f"Demo {p.stem[:2]}", f"demo {p.stem[:2]}") for p in paths
    )
    return paths, listed


@pytest.fixture
def only(monkeypatch):
    """Make ``listed`` the whole catalogue (what ``shared.measurements`` checks against)."""
    return lambda listed: monkeypatch.setattr(catalogue, "NOTEBOOKS", listed)


@pytest.mark.kernel
@pytest.mark.slow
def test_run_executes_in_order_and_refreshes_readme(tmp_path, capsys, only):
    paths, listed = make_course(
        tmp_path, ["print(6 * 7)"], ["import os; print(os.environ.get('FORCE_CNN_FAST'))"]
    )
    only(listed)
    assert course.run(tmp_path, listed=listed) == 0
    first = nbformat.read(paths[0], as_version=4)
    assert first.cells[1].outputs[0]["text"] == "42\n"
    assert nbformat.read(paths[1], as_version=4).cells[1].outputs[0]["text"] == "None\n"
    out = capsys.readouterr().out
    assert "[1/2] 00_demo.ipynb" in out and "Wall time per notebook" in out
    timings = measurements.read(tmp_path, "run-times")
    assert set(timings["seconds"]) == {"00_demo.ipynb", "01_demo.ipynb"}
    text = (tmp_path / "README.md").read_text()
    assert "[00_demo](notebooks/00_demo.ipynb)" in text and "No results yet" in text
    assert "Not measured yet: run `make bench`" in text
    assert "Not measured yet: run `make levers`" in text
    assert readme.readme_is_current(tmp_path, listed)
    # a second run knows how long the rest will take
    assert course.run(tmp_path, ["01"], listed) == 0
    out = capsys.readouterr().out
    assert "left)" in out and "Part of the course ran" in out
    assert measurements.read(tmp_path, "run-times") == timings  # the record stays


@pytest.mark.kernel
@pytest.mark.slow
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
    chosen = course.notebooks(ROOT, ["notebooks/03_pytorch_sequential.ipynb", "03"])
    assert [p.name for p in chosen] == ["03_pytorch_sequential.ipynb"]
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


@pytest.mark.kernel
@pytest.mark.slow
def test_a_full_run_ignores_what_the_shell_exported(tmp_path, monkeypatch, only):
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
    only(listed)
    assert course.run(tmp_path, listed=listed) == 0
    cells = nbformat.read(paths[0], as_version=4).cells
    assert cells[1].outputs[0]["text"] == "[]\n"
    assert any("image/png" in o.get("data", {}) for o in cells[2].outputs)


@pytest.mark.kernel
@pytest.mark.slow
def test_a_dying_kernel_is_named_with_notebook_cell_and_likely_cause(tmp_path, capsys):
    paths, listed = make_course(tmp_path, ["x = 1", "import os, signal\nos.kill(os.getpid(), 9)"])
    before = paths[0].read_text()
    assert course.run(tmp_path, listed=listed) == 1
    err = capsys.readouterr().err
    assert "00_demo.ipynb failed in cell 3:\n    import os, signal" in err
    assert "The kernel died" in err and "out of memory" in err and "Traceback" not in err
    assert paths[0].read_text() == before


@pytest.mark.kernel
@pytest.mark.slow
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


@pytest.mark.kernel
@pytest.mark.slow
def test_damaged_run_times_do_not_stop_a_run(tmp_path, capsys, only):
    paths, listed = make_course(tmp_path, ["1"])
    only(listed)
    measurements.folder(tmp_path).mkdir(parents=True)
    (measurements.folder(tmp_path) / "run-times.json").write_text('{"seconds": ')
    with pytest.raises(ValueError, match=r"run-times.json cannot be used: .*`make run`"):
        measurements.read(tmp_path, "run-times")
    assert course.run(tmp_path, listed=listed) == 0
    assert "run-times.json cannot be used" in capsys.readouterr().out
    assert set(measurements.read(tmp_path, "run-times")["seconds"]) == {"00_demo.ipynb"}


# ----------------------------------------------------------------------------- what a run records


SAVE = "import json, pathlib\npathlib.Path('../results/{name}.json').write_text({text!r})"


def committed(tmp_path) -> dict[str, bytes]:
    folder = measurements.folder(tmp_path)
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json"))}


@pytest.fixture
def recorded(tmp_path, make_results, only, monkeypatch):
    """A backend course whose record holds a complete run made on "Old machine"."""
    names = ("00_demo", "01_demo")
    cells = [
        [SAVE.format(name=n, text=results.dumps(make_results(notebook=n, backend=n)))]
        for n in names
    ]
    (tmp_path / "results").mkdir()
    paths, listed = make_course(tmp_path, *cells, role="backend")
    only(listed)
    monkeypatch.setattr(course.course_notebooks, "device_in_use", lambda: "Old machine")
    assert course.run(tmp_path, listed=listed) == 0
    monkeypatch.setattr(course.course_notebooks, "device_in_use", lambda: "This machine")
    return paths, listed


@pytest.mark.kernel
@pytest.mark.slow
def test_a_complete_run_replaces_the_record_with_its_results_and_times(tmp_path, recorded):
    paths, listed = recorded
    record = measurements.read(tmp_path, "run-times")
    assert record["device"] == "Old machine"
    assert set(record["seconds"]) == {"00_demo.ipynb", "01_demo.ipynb"}
    shipped = results.read_results(measurements.folder(tmp_path) / "01_demo.json")
    assert shipped == results.read_results(tmp_path / "results" / "01_demo.json")
    assert "| 01_demo | 99.00% |" in (tmp_path / "README.md").read_text()
    assert "Full run on Old machine (min:s)" in (tmp_path / "README.md").read_text()


@pytest.mark.kernel
@pytest.mark.slow
def test_a_partial_run_leaves_the_record_and_its_machine_alone(tmp_path, recorded, capsys):
    """`course run 01` used to write this machine's name over every notebook's time."""
    paths, listed = recorded
    before, readme_before = committed(tmp_path), (tmp_path / "README.md").read_text()
    assert course.run(tmp_path, ["01"], listed) == 0
    assert committed(tmp_path) == before
    assert (tmp_path / "README.md").read_text() == readme_before
    out = capsys.readouterr().out
    assert "Part of the course ran" in out and "Wall time per notebook, on This machine" in out


@pytest.mark.kernel
@pytest.mark.slow
def test_a_complete_run_without_a_backends_results_keeps_the_record(tmp_path, recorded):
    paths, listed = recorded
    before = committed(tmp_path)
    nb = json.loads(paths[1].read_text())
    nb["cells"][1]["source"] = "print('saves nothing this time')"
    paths[1].write_text(json.dumps(nb))
    with pytest.raises(RuntimeError, match="01_demo.json was not written by this run"):
        course.run(tmp_path, listed=listed)
    assert committed(tmp_path) == before


# ----------------------------------------------------------------------------- bad arguments


def never_execute(path, timeout=0):
    raise AssertionError(f"{path.name} was executed although the arguments were wrong")


def test_readme_outside_the_course_folder_says_where_to_run_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in (["readme"], ["check-readme"], ["run", "03"]):
        with pytest.raises(SystemExit, match="is not the course folder .*pyproject.toml"):
            course.main(command)


def test_help_is_not_an_error(capsys):
    assert course.main(["--help"]) == 0
    assert "python -m tools.course readme" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "99"], "No notebook '99'"),
        (["run", "03", "keras"], "No notebook 'keras'"),
    ],
)
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
    with pytest.raises(ValueError, match="must stand once each"):
        course.run(tmp_path, listed=listed)


@pytest.mark.parametrize("blocker", ["results", "shared"])
def test_an_unwritable_results_path_stops_the_run_before_it_starts(tmp_path, monkeypatch, blocker):
    _, listed = make_course(tmp_path, ["1"])
    (tmp_path / blocker).write_text("a file where the folder belongs")
    monkeypatch.setattr(course, "execute", never_execute)
    with pytest.raises(SystemExit, match=rf"Cannot write into .*{blocker}.* \(a file is in"):
        course.run(tmp_path, listed=listed)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["rerun", "03"], "`rerun` takes a notebook, a seed and maybe a folder"),
        (["rerun", "03", "one"], "must be a non-negative integer such as 1, got 'one'"),
        (["rerun", "03", "42"], "42 is the course's own seed"),
        (["rerun", "03", "1", "results"], "holds the course's own runs"),
        (["rerun", "03", "1", "shared/course-results"], "holds the course's own runs"),
        (["rerun", "99", "1"], "99"),
    ],
)
def test_a_rerun_refuses_what_would_mix_it_with_the_course(argv, message, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    ran = []
    monkeypatch.setattr(course, "execute", lambda *args, **kwargs: ran.append(args))
    try:
        code = course.main(argv)
    except SystemExit as stop:
        code, text = 2, str(stop)
    else:
        text = capsys.readouterr().err
    assert code != 0 and message in text and not ran


@pytest.mark.kernel
@pytest.mark.slow
def test_a_rerun_sets_only_its_seed_and_folder_and_keeps_the_notebook(tmp_path, only):
    paths, listed = make_course(
        tmp_path,
        [
            "import os, json\nfrom shared import config, results\n"
            "folder = results.own_results_dir(); folder.mkdir(parents=True, exist_ok=True)\n"
            "(folder / 'seen.json').write_text(json.dumps("
            "[config.recipe().seed, config.mode(), os.environ.get('FORCE_CNN_BENCH_IMAGES')]))"
        ],
    )
    only(listed)
    before = paths[0].read_text()
    assert course.rerun(tmp_path, "00", "7", str(tmp_path / "out"), fast=True) == 0
    assert json.loads((tmp_path / "out" / "seen.json").read_text()) == [7, "fast", None]
    assert paths[0].read_text() == before


def test_a_bf16_rerun_passes_autocast_and_may_keep_the_course_seed(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(course.machine, "native_bfloat16", lambda: "CPU with AVX512-BF16")
    seen = []
    monkeypatch.setattr(
        course, "execute", lambda path, settings, save: seen.append((path.name, settings)) or 1.0
    )
    assert course.main(["rerun", "03", "42", str(tmp_path / "bf16"), "--bf16"]) == 0
    [(name, settings)] = seen
    assert name == "03_pytorch_sequential.ipynb"
    assert settings[config.MIXED_PRECISION_ENV] == "1" and settings[config.SEED_ENV] == "42"
    assert settings[config.RESULTS_ENV] == str((tmp_path / "bf16").resolve())


def test_a_bf16_rerun_is_skipped_where_bfloat16_is_emulated(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(course.machine, "native_bfloat16", lambda: None)
    ran = []
    monkeypatch.setattr(course, "execute", lambda *args, **kwargs: ran.append(args))
    assert course.main(["rerun", "03", "42", str(tmp_path / "bf16"), "--bf16"]) == 0
    assert "Skipped: this machine emulates bfloat16" in capsys.readouterr().err and not ran
    assert not (tmp_path / "bf16").exists()
