"""The setup cell every notebook opens with: the pin it installs on Colab (a commit of main's
history that holds the notebooks' own package), how it fails, that it installs nothing elsewhere,
and the versions it reports."""

import json
import subprocess
import sys

import pytest

from shared import catalogue, results, runtime
from tools import pin

from .conftest import ROOT

SETUP_CELL = pin.SETUP_CELL
NOTEBOOK_FILES = [ROOT / "notebooks" / nb.file_name for nb in catalogue.NOTEBOOKS]


def run(*args, cwd, timeout=120):
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=True
    ).stdout.strip()


def setup_cell(path):
    return "".join(pin.read_notebook(path)["cells"][SETUP_CELL]["source"])


# ----------------------------------------------------------------------------- the pin on main


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A clone of main as GitHub publishes it: committed history only, no tags."""
    clone = tmp_path_factory.mktemp("published") / "force-of-cnn"
    branch = "main"
    run(
        "git",
        "clone",
        "--quiet",
        "--no-tags",
        "--single-branch",
        "--branch",
        branch,
        ROOT.as_uri(),
        str(clone),
        cwd=ROOT,
    )
    return clone


def test_the_pin_is_a_commit_of_main_with_the_notebooks_own_package(published):
    assert run("git", "tag", cwd=published) == ""
    pinned = pin.read_pin(published)
    run("git", "cat-file", "-e", f"{pinned}^{{commit}}", cwd=published)
    run("git", "merge-base", "--is-ancestor", pinned, "HEAD", cwd=published)
    changed = run(
        "git",
        "diff",
        "--name-only",
        pinned,
        "HEAD",
        "--",
        "shared",
        "pyproject.toml",
        cwd=published,
    )
    assert changed == "", (
        "run `python -m tools.pin` and commit: the notebooks install an older package"
    )
    assert pin.problems(published) == []


def test_every_setup_cell_installs_the_pin():
    assert pin.stale_setup_cells() == [], "run `python -m tools.pin`"
    pinned = pin.read_pin()
    for path in NOTEBOOK_FILES:
        assert f'git+{{course}}@{pinned}"' in setup_cell(path), path.name


def test_only_the_fastai_notebook_installs_fastai():
    for entry in catalogue.NOTEBOOKS:
        uses = pin.uses_fastai(pin.read_notebook(ROOT / "notebooks" / entry.file_name))
        assert ("fastai" in setup_cell(ROOT / "notebooks" / entry.file_name)) == uses, entry.name


# ----------------------------------------------------------------------------- moving the pin


@pytest.fixture
def course(tmp_path):
    """A repository shaped like the course: notebooks, a package, and three commits, the last
    of which changes only notebooks; a side branch that main does not contain."""
    repo = tmp_path / "course"
    (repo / "notebooks").mkdir(parents=True)
    (repo / "shared").mkdir()
    (repo / "tools").mkdir()
    for path in NOTEBOOK_FILES:
        (repo / "notebooks" / path.name).write_bytes(path.read_bytes())
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (repo / "shared" / "helpers.py").write_text("ONE = 1\n")
    git = ["git", "-c", "user.name=Course", "-c", "user.email=course@localhost"]
    run("git", "init", "--quiet", "--initial-branch=main", cwd=repo)
    run(*git, "add", "--all", cwd=repo)
    run(*git, "commit", "--quiet", "-m", "first", cwd=repo)
    (repo / "shared" / "helpers.py").write_text("ONE = 1\nTWO = 2\n")
    run(*git, "commit", "--quiet", "-am", "package changes", cwd=repo)
    run(*git, "checkout", "--quiet", "-b", "side", cwd=repo)
    run(*git, "commit", "--quiet", "--allow-empty", "-m", "not on main", cwd=repo)
    run(*git, "checkout", "--quiet", "main", cwd=repo)
    (repo / "notebooks" / "README.txt").write_text("notebooks only\n")
    run(*git, "add", "--all", cwd=repo)
    run(*git, "commit", "--quiet", "-m", "notebooks change", cwd=repo)
    return repo


def rev(repo, ref):
    return run("git", "rev-parse", ref, cwd=repo)


def test_pin_without_argument_takes_the_last_commit_that_changed_the_package(course):
    commit = pin.set_pin(root=course)
    assert commit == rev(course, "HEAD~1")
    assert (course / pin.PIN_FILE).read_text() == commit + "\n"
    for path in NOTEBOOK_FILES:
        assert f"@{commit}" in setup_cell(course / "notebooks" / path.name)
    assert pin.problems(course) == []


def test_pin_takes_any_form_git_reads_and_stores_the_full_hash(course):
    assert pin.set_pin(rev(course, "HEAD")[:9], root=course) == rev(course, "HEAD")
    assert pin.set_pin("main", root=course) == rev(course, "main")


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("HEAD\n", "without spaces"),
        (" HEAD", "without spaces"),
        ("", "is not a commit"),
        ("--all", "is not a commit"),
        ("not a ref; rm -rf /", "names no commit"),
        ("0123456789abcdef0123456789abcdef01234567", "names no commit"),
        ("v1.0.0", "names no commit"),
        ("side", "not in the history of HEAD"),
        ("HEAD~2", "older package than HEAD"),
    ],
)
def test_pin_refuses_what_would_break_the_course_and_writes_nothing(course, ref, says):
    pin.set_pin(root=course)
    before = {p: p.read_bytes() for p in (course / "notebooks").iterdir()}
    before[course / pin.PIN_FILE] = (course / pin.PIN_FILE).read_bytes()
    with pytest.raises(pin.PinError, match=says):
        pin.set_pin(ref, root=course)
    assert {p: p.read_bytes() for p in before} == before


def test_pin_refuses_uncommitted_package_changes(course):
    (course / "shared" / "helpers.py").write_text("ONE = 1\nTWO = 2\nTHREE = 3\n")
    with pytest.raises(pin.PinError, match="uncommitted changes .*shared/helpers.py"):
        pin.set_pin(root=course)
    assert not (course / pin.PIN_FILE).exists()


def test_check_finds_an_old_pin_a_bad_pin_file_and_stale_cells(course):
    old = pin.set_pin(root=course)
    (course / "shared" / "helpers.py").write_text("ONE = 1\nTWO = 2\nTHREE = 3\n")
    git = ["git", "-c", "user.name=Course", "-c", "user.email=course@localhost"]
    run(*git, "commit", "--quiet", "-am", "package changes again", cwd=course)
    assert "holds an older package than HEAD (shared/helpers.py" in pin.problems(course)[0]
    (course / pin.PIN_FILE).write_text(old + "\n\n")
    assert "must hold one full commit hash" in pin.problems(course)[0]
    new = pin.set_pin(root=course)
    (course / pin.PIN_FILE).write_text(old + "\n")  # the cells name `new` now
    assert any("setup cells not written from the pin" in p for p in pin.problems(course))
    assert new != old


def test_pin_command_line_says_what_went_wrong_in_one_line(course, capsys):
    assert pin.main(["--check", "--extra"], root=course) == 2
    assert pin.main(["HEAD\n"], root=course) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("Pin not changed: ") and "\n" not in error
    assert pin.main([], root=course) == 0
    assert pin.main(["--check"], root=course) == 0
    assert capsys.readouterr().out.strip().endswith(f"at {rev(course, 'HEAD~1')[:12]}.")


# ----------------------------------------------------------------------------- running the cell


def exec_cell(source, monkeypatch):
    """Run a setup cell's source in this process with every way to start a program blocked."""
    started = []

    def refuse(*args, **kwargs):
        started.append(args)
        raise AssertionError(f"the setup cell started a program: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr("os.system", refuse)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "setup cell", "exec"), {})
    return started


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_outside_colab_the_setup_cell_installs_nothing(path, monkeypatch, capsys):
    assert exec_cell(setup_cell(path), monkeypatch) == []
    assert capsys.readouterr().out.startswith("Python 3.")


def failing_install(tmp_path, redirect_to):
    """Run the fastai notebook's setup cell as Colab would, with GitHub's URL of the course sent to
    ``redirect_to``; pip installs into a scratch folder, so nothing here can change."""
    fake = tmp_path / "fake-colab" / "google" / "colab"
    fake.mkdir(parents=True, exist_ok=True)
    (fake / "__init__.py").write_text("")
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(
        f'[url "{redirect_to}"]\n\tinsteadOf = https://github.com/force-of-cnn/force-of-cnn\n'
        '[protocol "file"]\n\tallow = always\n'
    )
    source = "import google.colab\n" + setup_cell(ROOT / "notebooks" / "06_fastai.ipynb")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(tmp_path / "fake-colab"),
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "PIP_TARGET": str(tmp_path / "pip-target"),
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", source], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_a_failed_install_stops_the_cell_with_one_sentence(tmp_path):
    empty = tmp_path / "empty.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(empty)], check=True, timeout=30)
    for redirect, pip_said in [
        (empty.as_uri(), "ERROR: Failed to build 'force-of-cnn' when git fetch"),
        ((tmp_path / "no-such-repository").as_uri(), "when git clone"),
    ]:
        last = failing_install(tmp_path, redirect)
        assert last.startswith("RuntimeError: pip could not install force-of-cnn @ git+"), last
        assert pip_said in last
        assert "connected to the internet" in last and "clone the course" in last
        assert "ModuleNotFoundError" not in last
    assert not (tmp_path / "pip-target").exists()


# ----------------------------------------------------------------------------- what it reports


def test_report_lists_versions_without_importing_a_framework():
    probe = (
        "import sys; from shared import runtime; runtime.report('03_pytorch_sequential'); "
        "assert not {'torch', 'tensorflow', 'keras', 'fastai'} & set(sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert result.stdout.startswith("Python 3.")
    assert "force-of-cnn" in result.stdout


@pytest.mark.parametrize(
    ("version", "side"),
    [
        ("2.10.1", "older than"),
        ("2.11.0+cpu", None),
        ("2.14.1", None),
        ("2.14.0rc1", None),
        ("1!2.12.0", None),
        ("2.15.0", "newer than"),
        ("3", "newer than"),
        ("2", "older than"),
    ],
)
def test_versions_outside_the_tested_range_are_named(version, side):
    warning = runtime.outside_tested_range("torch", version)
    if side is None:
        assert warning is None
    else:
        assert warning.startswith("WARNING: torch") and side in warning
        assert 'pip install "torch>=2.11,<2.15"' in warning


@pytest.mark.parametrize("version", ["", "dev", "unknown", "+cpu"])
def test_an_unreadable_version_is_a_warning_not_a_crash(version):
    warning = runtime.outside_tested_range("torch", version)
    assert warning.startswith("WARNING: cannot tell whether torch")


def test_colab_without_gpu_says_how_to_switch_and_how_long():
    lines = runtime.messages("03_pytorch_sequential", colab=True, gpu=False)
    advice = " ".join(lines[1:])
    assert "No GPU" in advice and "Runtime > Change runtime type" in advice
    seconds = json.loads((results.COMMITTED_RESULTS / "run-times.json").read_text())["seconds"]
    minutes, rest = divmod(round(seconds["03_pytorch_sequential.ipynb"]), 60)
    assert f"{minutes}:{rest:02d} (min:s)" in advice
    assert "on a GPU: not measured" in advice  # honest: no invented GPU time


def test_colab_with_gpu_and_notebooks_that_train_nothing():
    with_gpu = " ".join(runtime.messages("05_tensorflow_raw", colab=True, gpu=True)[1:])
    assert "has a GPU" in with_gpu and "on a GPU: not measured" in with_gpu
    assert "Change runtime type" not in with_gpu
    assert "trains nothing" in runtime.messages("00_cnn_concepts", colab=True, gpu=False)[-1]
    assert len(runtime.messages("03_pytorch_sequential", colab=False, gpu=False)) >= 1
    assert not any("GPU" in line for line in runtime.messages("03", colab=False, gpu=False))
