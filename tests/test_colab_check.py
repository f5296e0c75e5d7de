"""The Colab replica (Colab's published versions) and the check that runs every notebook in it
the way a learner meets it: from a clone of main, no tags, nothing else redirected."""

import json
import re
import subprocess
import sys

import pytest

from shared import config, runtime
from tools import colab_check

from .conftest import ROOT

COLAB_DIR = ROOT / "tests" / "colab"


def pins(path):
    """``{name: version}`` of the ``name==version`` lines of a requirements file."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line)
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def minor(version):
    return ".".join(version.split(".")[:2])


# ----------------------------------------------------------------------------- the Colab replica


def test_runtime_file_says_where_and_when_and_which_python():
    text = (COLAB_DIR / "runtime.txt").read_text()
    assert "googlecolab/backend-info" in text and re.search(r"20\d\d-\d\d-\d\d", text)
    assert re.search(r"^# python: 3\.13$", text, re.M)
    assert "-c colab-constraints.txt" in text


def test_runtime_pins_are_colabs_versions():
    runtime_pins = pins(COLAB_DIR / "runtime.txt")
    colab = pins(COLAB_DIR / "colab-constraints.txt")
    expected = {
        "tensorflow": "2.20.0",
        "keras": "3.13.2",
        "torch": "2.11.0",
        "torchvision": "0.26.0",
        "fastai": "2.8.8",
        "numpy": "2.1.3",
        "pandas": "2.2.3",
        "matplotlib": "3.10.0",
        "scikit-learn": "1.6.1",
        "scipy": "1.16.3",
    }
    assert {k: runtime_pins[k] for k in expected} == expected
    for name, version in runtime_pins.items():
        if name in colab:  # torch and torchvision come from a URL on Colab: not in the list
            assert colab[name] == version, name


def test_tested_ranges_run_from_colab_to_requirements():
    colab = pins(COLAB_DIR / "runtime.txt")
    newest = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"^([a-z0-9-]+)~=([\d.]+)", line)
        if match:
            newest[match.group(1)] = minor(match.group(2))
    for name, (oldest, latest) in runtime.TESTED.items():
        assert oldest == minor(colab[name]), name
        assert latest == newest[name], name


# ----------------------------------------------------------------------------- the Colab check


def test_colab_check_environment_imports_a_fake_google_colab(tmp_path):
    env = colab_check.colab_environment(tmp_path, ROOT)
    assert env["FORCE_CNN_FAST"] == "1"
    gitconfig = (tmp_path / "gitconfig").read_text()
    assert f"insteadOf = https://github.com/{config.GITHUB_SLUG}" in gitconfig
    probe = "import google.colab, sys; print('google.colab' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"
    startup = tmp_path / "ipython" / "profile_default" / "startup" / "00-colab.py"
    assert "import google.colab" in startup.read_text()


def run(*args, cwd):
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()


def test_the_check_clones_main_as_published_without_tags_or_other_branches(tmp_path):
    origin = tmp_path / "origin"
    origin.mkdir()
    git = ["git", "-c", "user.name=Course", "-c", "user.email=course@localhost"]
    run("git", "init", "--quiet", "--initial-branch=main", cwd=origin)
    (origin / "notebooks").mkdir()
    (origin / "notebooks" / "00.ipynb").write_text("{}")
    run(*git, "add", "--all", cwd=origin)
    run(*git, "commit", "--quiet", "-m", "first", cwd=origin)
    run(*git, "tag", "v1.0.0", cwd=origin)
    run(*git, "branch", "side", cwd=origin)
    (origin / "untracked.txt").write_text("not published")
    clone = colab_check.published_clone(tmp_path / "clone.git", origin)
    assert run("git", "tag", cwd=clone) == ""
    assert run("git", "branch", "--format=%(refname:short)", cwd=clone) == "main"
    assert colab_check.published_file(clone, "notebooks/00.ipynb") == b"{}"
    with pytest.raises(colab_check.CheckError, match="not committed on main"):
        colab_check.published_file(clone, "untracked.txt")


def test_the_check_reads_the_pin_from_the_committed_setup_cell():
    cell = 'needed = [f"force-of-cnn @ git+{course}@' + "a" * 40 + '"]'
    old = '%pip install "force-of-cnn @ git+https://github.com/force-of-cnn/force-of-cnn@v1.0.0"'
    for source, ref in [(cell, "a" * 40), (old, "v1.0.0"), ("print(1)", None)]:
        text = json.dumps({"cells": [{"source": []}, {"source": [source]}]})
        assert colab_check.pinned_in(text) == ref


def test_the_check_refuses_any_environment_but_the_replica(tmp_path):
    with pytest.raises(colab_check.CheckError, match="not the Colab replica"):
        colab_check.refuse_other_interpreters(tmp_path)
    (tmp_path / colab_check.REPLICA_MARKER).write_text("replica")
    colab_check.refuse_other_interpreters(tmp_path)


@pytest.mark.slow
def test_the_check_run_from_the_course_venv_changes_nothing():
    before = runtime.installed("force-of-cnn")
    result = subprocess.run(
        [sys.executable, "-m", "tools.colab_check", "00"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "is not the Colab replica" in result.stderr and "make colab-check" in result.stderr
    assert runtime.installed("force-of-cnn") == before is not None
