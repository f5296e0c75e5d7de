"""The two packages: ``shared`` (what notebooks import and pip installs) and ``tools``."""

import ast
import re
import subprocess
import sys
import tomllib
import zipfile

import pytest
import yaml

from shared import catalogue, concepts

from .conftest import ROOT

FRAMEWORKS = ("torch", "tensorflow", "keras", "fastai", "torchvision", "jax")
#: import name -> distribution name, where they differ
DISTRIBUTIONS = {"PIL": "pillow", "sklearn": "scikit-learn", "yaml": "pyyaml"}


def test_importing_shared_pulls_no_framework_and_no_tools():
    code = (
        "import sys, shared, shared.catalogue, shared.concepts\n"
        "import importlib.util\n"
        "if importlib.util.find_spec('shared.exercises'): import shared.exercises\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{FRAMEWORKS + ('tools',)!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def third_party_imports(folder) -> set[str]:
    """Top-level names of every module imported anywhere in ``folder``'s Python files,
    lazy imports inside functions included, minus the standard library and the package."""
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != folder.name}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def declared_packages() -> set[str]:
    """The distributions pyproject.toml declares for ``shared``, lower-case, without versions."""
    requirements = pyproject()["project"]["dependencies"]
    return {re.match(r"[A-Za-z0-9_.-]+", r)[0].lower() for r in requirements}


def test_shared_declares_exactly_the_packages_it_imports_and_no_framework():
    imported = third_party_imports(ROOT / "shared")
    assert not imported & set(FRAMEWORKS), "shared must not import a framework, even lazily"
    needed = {DISTRIBUTIONS.get(n, n).lower() for n in imported}
    declared = declared_packages()
    assert not needed - declared, f"shared imports {sorted(needed - declared)} undeclared"
    assert not declared - needed, f"pyproject declares {sorted(declared - needed)}, never imported"


def test_the_version_is_written_once():
    import shared

    version = pyproject()["project"]["version"]
    assert shared.__version__ in (version, "unknown")
    sources = [ROOT / "shared", ROOT / "tools"]
    written = [
        path
        for folder in sources
        for path in folder.rglob("*.py")
        if re.search(r"__version__\s*=\s*[\"']\d", path.read_text(encoding="utf-8"))
    ]
    assert written == [], f"a version typed in {written}: read it with importlib.metadata"


def python_range(text: str) -> tuple[str, str]:
    """'>=3.11,<3.14' -> ('3.11', '3.13'): the oldest and newest minor release allowed."""
    oldest = re.search(r">=\s*(3\.\d+)", text)[1]
    below = re.search(r"<\s*3\.(\d+)", text)[1]
    return oldest, f"3.{int(below) - 1}"


def test_one_python_range_everywhere():
    from shared import runtime

    declared = python_range(pyproject()["project"]["requires-python"])
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda = next(d for d in environment if isinstance(d, str) and d.startswith("python "))
    ruff = pyproject()["tool"]["ruff"]["target-version"]
    assert python_range(conda) == declared, "environment.yml"
    assert declared == runtime.TESTED_PYTHON, "shared.runtime.TESTED_PYTHON"
    assert ruff == "py" + declared[0].replace(".", ""), "ruff's target-version is the oldest"


def test_tqdm_is_gone_with_its_last_import():
    """Declared for a progress bar that the downloads no longer use: nothing imports it."""
    for name in ("requirements.txt", "environment.yml"):
        assert "tqdm" not in (ROOT / name).read_text(), name
    assert "tqdm" not in third_party_imports(ROOT / "shared") | third_party_imports(ROOT / "tools")


def test_the_built_distribution_holds_shared_only(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("force_of_cnn-*.whl")
    packages = {
        name.split("/")[0]
        for name in zipfile.ZipFile(wheel).namelist()
        if ".dist-info/" not in name
    }
    assert packages == {"shared"}


def test_no_notebook_imports_tools():
    for nb in catalogue.NOTEBOOKS:
        text = (ROOT / "notebooks" / nb.file_name).read_text()
        assert "from tools" not in text and "import tools" not in text, nb.name


def test_the_tools_build_the_notebooks_network():
    """The network the bench and the levers train comes from notebook 03's own model cell:
    it must be the course's network, layer by layer."""
    torch = pytest.importorskip("torch")
    from tools import notebooks

    model = notebooks.torch_builder("03_pytorch_sequential")()
    assert sum(p.numel() for p in model.parameters()) == 1_199_882
    built, x = [], torch.zeros(1, 1, 28, 28)
    for layer in model:
        x = layer(x)
        if not isinstance(layer, torch.nn.ReLU):  # the layer table counts ReLU with its layer
            shape = tuple(x.shape[1:])
            channels_last = shape if len(shape) == 1 else (shape[1], shape[2], shape[0])
            built.append((channels_last, sum(p.numel() for p in layer.parameters())))
    expected = [(row["output_shape"], row["parameters"]) for row in concepts.layer_rows()[1:]]
    assert built == expected


def test_a_model_cell_must_define_build_model(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from tools import notebooks

    nb = new_notebook(cells=[new_code_cell("model = 1")])
    nb.cells[0].metadata["tags"] = ["model"]
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "03_pytorch_sequential.ipynb")
    with pytest.raises(ValueError, match="does not define build_model"):
        notebooks.run_model_cell("03", {}, root=tmp_path)
    untagged = new_notebook(cells=[new_code_cell("x = 1")])
    nbformat.write(untagged, tmp_path / "notebooks" / "03_pytorch_sequential.ipynb")
    with pytest.raises(ValueError, match="0 cells tagged 'model'"):
        notebooks.run_model_cell("03", {}, root=tmp_path)
