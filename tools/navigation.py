"""Links between the notebooks that work on GitHub, in Jupyter and on Colab.

python -m tools.navigation          rewrite the navigation of every notebook in the catalogue
python -m tools.navigation --check  exit 1 when any notebook's navigation is missing or stale

Two things are written, both from ``shared.catalogue``:

- the last cell of each notebook, tagged ``navigation``: "Next:" and the following notebook (the
  last one points back to the start and the README); every backend notebook also links to 00;
- after every relative link to a notebook in the text, ``[02_keras_functional](02_...ipynb)``,
  its Colab form, because Colab opens each notebook alone and a relative link leads nowhere.

A notebook added to the catalogue gets its cell the next time this runs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from shared import catalogue, config

from .notebooks import notebook_problem
from .pin import read_notebook, write_notebook

ROOT = Path(__file__).resolve().parents[1]
TAG = "navigation"
README_URL = f"https://github.com/{config.GITHUB_SLUG}#readme"
# a relative link to a notebook, not yet followed by its Colab form
NOTEBOOK_LINK = re.compile(r"\[([^\]\n]+)\]\((\d\d_\w+\.ipynb)\)(?! \(\[open in Colab\])")


def colab_url(file_name: str) -> str:
    """Where Colab opens ``notebooks/<file_name>`` straight from GitHub."""
    return (
        f"https://colab.research.google.com/github/{config.GITHUB_SLUG}/blob/"
        f"{config.GITHUB_BRANCH}/notebooks/{file_name}"
    )


def colab_suffix(file_name: str) -> str:
    return f" ([open in Colab]({colab_url(file_name)}))"


def link(nb: catalogue.Notebook) -> str:
    """``[03 · PyTorch (nn.Sequential)](03_pytorch_sequential.ipynb) ([open in Colab](...))``"""
    return f"[{nb.name[:2]} · {nb.title}]({nb.file_name})" + colab_suffix(nb.file_name)


def navigation_source(name: str, listed=catalogue.NOTEBOOKS) -> str:
    """The text of the last cell of notebook ``name``."""
    names = [nb.name for nb in listed]
    index = names.index(name)
    nb, start = listed[index], listed[0]
    readme = f"the course's [README](../README.md) ([on GitHub]({README_URL}))"
    lines = ["---", ""]
    if index + 1 < len(listed):
        following = listed[index + 1]
        lines.append(f"**Next:** {link(following)}: {following.syllabus}.")
    else:
        lines.append(f"**Next:** back to the start, {link(start)}, or {readme}.")
    if nb.role == "backend":
        lines += ["", f"Back to the start: {link(start)}. All notebooks: {readme}."]
    elif index + 1 < len(listed):
        lines += ["", f"All notebooks: {readme}."]
    return "\n".join(lines)


def navigation_cell(name: str, listed=catalogue.NOTEBOOKS) -> dict:
    return {
        "cell_type": "markdown",
        "id": TAG,
        "metadata": {"tags": [TAG]},
        "source": navigation_source(name, listed).splitlines(keepends=True),
    }


def add_colab_links(text: str) -> str:
    """Follow each relative notebook link in ``text`` with its Colab form (idempotent)."""
    return NOTEBOOK_LINK.sub(lambda m: m.group(0) + colab_suffix(m.group(2)), text)


def is_navigation(cell: dict) -> bool:
    return TAG in cell.get("metadata", {}).get("tags", [])


def updated(nb: dict, name: str, listed=catalogue.NOTEBOOKS) -> dict:
    """``nb`` with its navigation cell last and every notebook link given its Colab form."""
    cells = [c for c in nb["cells"] if not is_navigation(c)]
    for cell in cells:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            new = add_colab_links(text)
            if new != text:
                cell["source"] = new.splitlines(keepends=True)
    return {**nb, "cells": [*cells, navigation_cell(name, listed)]}


def problems(nb: dict, name: str, listed=catalogue.NOTEBOOKS) -> list[str]:
    """What is wrong with the navigation of ``nb``; empty when it is current."""
    found = []
    last = nb["cells"][-1] if nb["cells"] else {}
    if not is_navigation(last):
        found.append("the last cell is not the navigation cell")
    elif "".join(last["source"]) != navigation_source(name, listed):
        found.append("the navigation cell is stale")
    if sum(is_navigation(c) for c in nb["cells"]) > 1:
        found.append("more than one navigation cell")
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for match in NOTEBOOK_LINK.finditer("".join(cell["source"])):
                found.append(f"link to {match.group(2)} without its Colab form")
    return found


USAGE = __doc__.split("\n\n")[1]


def main(argv: list[str]) -> int:
    if argv not in ([], ["--check"]):
        print(f"Unknown arguments {' '.join(argv)!r}; use one of:\n{USAGE}", file=sys.stderr)
        return 2
    check = argv == ["--check"]
    paths = [ROOT / "notebooks" / entry.file_name for entry in catalogue.NOTEBOOKS]
    unusable = [problem for path in paths if (problem := notebook_problem(path))]
    if unusable:
        print("\n".join(unusable) + "\nNothing was changed: restore those notebooks first.")
        return 1
    stale = []
    for entry in catalogue.NOTEBOOKS:
        path = ROOT / "notebooks" / entry.file_name
        nb = read_notebook(path)
        found = problems(nb, entry.name)
        if found and check:
            stale.append(f"{path.name}: {'; '.join(found)}")
        elif found:
            write_notebook(path, updated(nb, entry.name))  # read, change, write back at once
            print(f"{path.name}: navigation written")
    if stale:
        print("\n".join(stale) + "\nRun `python -m tools.navigation` to rewrite them.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
