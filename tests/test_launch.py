"""Launching anywhere: the setup cell's report, the pinned helper package, the Colab replica's
versions, the results shipped for notebook 07, and the links between notebooks."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from shared import catalogue, config, report, runtime
from tools import colab_check, navigation, pin, ship_results

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


# ----------------------------------------------------------------------------- the setup cell


def test_every_setup_cell_installs_the_pinned_helper():
    assert pin.stale_setup_cells() == []
    assert re.fullmatch(pin.REF_PATTERN, runtime.HELPER_REF)


def test_only_the_fastai_notebook_installs_fastai():
    for entry in catalogue.NOTEBOOKS:
        setup = "".join(
            pin.read_notebook(ROOT / "notebooks" / entry.file_name)["cells"][1]["source"]
        )
        assert ("fastai" in setup) == (entry.name == "06_fastai"), entry.name


def test_pin_rewrites_the_one_place_and_every_cell(tmp_path, monkeypatch):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "runtime.py").write_text((ROOT / "shared" / "runtime.py").read_text())
    (tmp_path / "notebooks").mkdir()
    for entry in catalogue.NOTEBOOKS:
        source = ROOT / "notebooks" / entry.file_name
        (tmp_path / "notebooks" / entry.file_name).write_text(source.read_text())
    pin.set_ref("v9.9.9", root=tmp_path)
    assert 'HELPER_REF = "v9.9.9"' in (tmp_path / "shared" / "runtime.py").read_text()
    for entry in catalogue.NOTEBOOKS:
        nb = pin.read_notebook(tmp_path / "notebooks" / entry.file_name)
        assert "force-of-cnn@v9.9.9" in "".join(nb["cells"][1]["source"])
    with pytest.raises(SystemExit):
        pin.set_ref("not a ref; rm -rf /", root=tmp_path)


def test_report_lists_versions_without_importing_a_framework():
    probe = (
        "import sys; from shared import runtime; runtime.report('03_pytorch_sequential'); "
        "assert not {'torch', 'tensorflow', 'keras', 'fastai'} & set(sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.startswith("Python 3.")
    assert "force-of-cnn" in result.stdout


def test_colab_without_gpu_says_how_to_switch_and_how_long():
    lines = runtime.messages("03_pytorch_sequential", colab=True, gpu=False)
    advice = " ".join(lines[1:])
    assert "No GPU" in advice and "Runtime > Change runtime type" in advice
    seconds = json.loads((ROOT / "results" / "run-times.json").read_text())["seconds"]
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


@pytest.mark.parametrize(
    ("version", "side"),
    [("2.10.1", "older than"), ("2.11.0+cpu", None), ("2.14.1", None), ("2.15.0", "newer than")],
)
def test_versions_outside_the_tested_range_are_named(version, side):
    warning = runtime.outside_tested_range("torch", version)
    if side is None:
        assert warning is None
    else:
        assert warning.startswith("WARNING: torch") and side in warning
        assert 'pip install "torch>=2.11,<2.15"' in warning


# ----------------------------------------------------------------------------- results for 07


def test_shipped_results_equal_the_committed_ones():
    assert ship_results.differences() == [], "run `python -m tools.ship_results`"
    assert report.COMMITTED_RESULTS == ROOT / "shared" / "course-results"


def test_shipping_copies_the_catalogues_files_and_prunes(tmp_path):
    source, shipped = tmp_path / "results", tmp_path / "shipped"
    source.mkdir()
    (source / "bench.json").write_text("{}")
    (source / "03_pytorch_sequential.json").write_text("{}")
    (source / "03_pytorch_sequential (copy).json").write_text("{}")  # never shipped
    shipped.mkdir()
    (shipped / "old.json").write_text("{}")
    assert ship_results.differences(source, shipped) == [
        "03_pytorch_sequential.json is missing",
        "bench.json is missing",
        "old.json is not in results/",
    ]
    ship_results.ship(source, shipped)
    assert ship_results.differences(source, shipped) == []
    assert sorted(p.name for p in shipped.iterdir()) == ["03_pytorch_sequential.json", "bench.json"]


def test_pyproject_ships_the_results():
    assert 'shared = ["course-results/*.json"]' in (ROOT / "pyproject.toml").read_text()


def test_07_falls_back_to_the_shipped_results_and_labels_own_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "read_results", lambda path: json.loads(path.read_text()))
    assert not report.has_all_results(tmp_path)
    assert report.runs_from_this_runtime(tmp_path) == []
    own = tmp_path / "03_pytorch_sequential.json"
    own.write_text((ROOT / "results" / own.name).read_text())
    runs = report.runs_from_this_runtime(tmp_path)
    assert [r["backend"] for r in runs] == ["PyTorch (nn.Sequential) (this runtime)"]
    assert report.has_all_results(report.COMMITTED_RESULTS)


# ----------------------------------------------------------------------------- navigation


@pytest.mark.parametrize("entry", catalogue.NOTEBOOKS, ids=lambda nb: nb.name)
def test_every_notebook_ends_with_its_navigation(entry):
    nb = pin.read_notebook(ROOT / "notebooks" / entry.file_name)
    assert navigation.problems(nb, entry.name) == [], "run `python -m tools.navigation`"
    last = "".join(nb["cells"][-1]["source"])
    assert "**Next:**" in last
    start = catalogue.NOTEBOOKS[0]
    if entry.role == "backend" or entry is catalogue.NOTEBOOKS[-1]:
        assert (
            f"({start.file_name}) ([open in Colab]({navigation.colab_url(start.file_name)}))"
            in last
        )


def test_a_new_notebook_gets_navigation_when_the_script_runs():
    extra = catalogue.Notebook("08_jax", "backend", "JAX", "The same network in JAX")
    at = next(i for i, nb in enumerate(catalogue.NOTEBOOKS) if nb.role == "comparison")
    listed = (*catalogue.NOTEBOOKS[:at], extra, *catalogue.NOTEBOOKS[at:])  # after the backends
    bare = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# 08"]}]}
    assert navigation.problems(bare, "08_jax", listed) == [
        "the last cell is not the navigation cell"
    ]
    nb = navigation.updated(bare, "08_jax", listed)
    assert navigation.problems(nb, "08_jax", listed) == []
    text = "".join(nb["cells"][-1]["source"])
    assert "**Next:** [07 · The comparison](07_compare_backends.ipynb)" in text
    before = navigation.navigation_source("06_fastai", listed)
    assert "**Next:** [08 · JAX](08_jax.ipynb)" in before


def test_relative_links_get_their_colab_form_once():
    text = "See [02_keras_functional](02_keras_functional.ipynb) for more."
    once = navigation.add_colab_links(text)
    assert navigation.colab_url("02_keras_functional.ipynb") in once
    assert navigation.add_colab_links(once) == once


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


def test_colab_check_snapshot_is_tagged_with_the_pin(tmp_path):
    repo = colab_check.snapshot("v0.0.0-test", tmp_path / "repo")
    assert (repo / "shared" / "runtime.py").is_file()
    assert colab_check.git("tag", cwd=repo) == "v0.0.0-test"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_says_so_and_starts_as_root():
    planned = subprocess.run(
        ["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    assert ("jupyter lab --allow-root notebooks" in planned) == as_root
    assert planned.count("Running as root") == int(as_root)
