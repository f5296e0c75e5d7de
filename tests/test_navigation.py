"""The navigation cell every notebook ends with, and the Colab form of links between notebooks."""

import pytest

from shared import catalogue
from tools import navigation, pin

from .conftest import ROOT


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
