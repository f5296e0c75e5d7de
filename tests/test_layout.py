"""The two packages: ``shared`` (what notebooks import and pip installs) and ``tools``."""

import ast
import importlib.metadata
import re
import subprocess
import sys
import zipfile

import pytest

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


def test_shared_declares_every_package_it_imports_and_no_framework():
    imported = third_party_imports(ROOT / "shared")
    assert not imported & set(FRAMEWORKS), "shared must not import a framework, even lazily"
    requirements = importlib.metadata.requires("force-of-cnn") or []
    declared = {re.match(r"[A-Za-z0-9_.-]+", r)[0].lower() for r in requirements}
    missing = {DISTRIBUTIONS.get(n, n).lower() for n in imported} - declared
    assert not missing, f"shared imports {sorted(missing)} without declaring them in pyproject"


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
