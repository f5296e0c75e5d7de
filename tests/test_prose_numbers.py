"""No speed figure is typed into prose: speeds come from the measurement files.

A speed is true only with its machine, and the course re-measures on whatever machine becomes its
machine of record. So the README's hand-written text and the notebooks' markdown cells state
mechanisms, and every measured speed is printed from the files: in the README's generated
blocks (between ``<!-- NAME:start ... -->`` and ``<!-- NAME:end -->``), and in the notebooks'
code cells and their outputs. This test fails on a speed figure anywhere else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .conftest import ROOT

GENERATED = re.compile(r"<!-- (\S+):start.*?<!-- \1:end -->", re.S)

NUMBER = r"\d+(?:[.,]\d+)*"
#: What a typed speed figure looks like. A "×" followed by a number is a size (28 × 28), not
#: a ratio, and is left alone.
SPEED_FIGURES = {
    "a speed ratio": rf"{NUMBER}(?:\s*[–-]\s*{NUMBER})?\s?×(?!\s*\d)",
    "an 'x faster'": rf"{NUMBER}\s?x\s+(?:faster|slower|quicker|as fast|as long|more|less)",
    "a FLOP rate": rf"{NUMBER}\s*[KMGTP]?FLOP/s",
    "a time per epoch": rf"{NUMBER}\s*(?:s|sec|seconds|min|minutes)\s+(?:per|an|a|each)\s+"
    r"(?:epoch|60k|step|batch)",
    "a throughput": rf"{NUMBER}\s*(?:images|steps)(?:/s|\s+per\s+second)",
    "a percentage speed-up": rf"{NUMBER}\s*%\s+(?:faster|slower)",
    "a share of a limit": rf"{NUMBER}\s*%\s+of\s+the\s+(?:matrix|matmul|limit|peak)",
    "a run's duration": rf"(?:takes|took|ran|runs in)\s+(?:about\s+)?{NUMBER}\s*(?:s|seconds|min|"
    r"minutes)\b",
}
PATTERN = re.compile("|".join(f"(?:{p})" for p in SPEED_FIGURES.values()), re.I)


def prose(root: Path) -> dict[str, str]:
    """The hand-written text of README.md (generated blocks left out) and of every notebook's
    markdown cells, whitespace folded to single spaces, by where it is."""
    texts = {"README.md": GENERATED.sub(" ", (root / "README.md").read_text(encoding="utf-8"))}
    for page in sorted((root / "docs").glob("*.md")):  # the README's own pages
        texts[f"docs/{page.name}"] = GENERATED.sub(" ", page.read_text(encoding="utf-8"))
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for number, cell in enumerate(cells, 1):
            if cell["cell_type"] == "markdown":
                texts[f"{path.name}, cell {number}"] = "".join(cell["source"])
    return {where: re.sub(r"\s+", " ", text) for where, text in texts.items()}


def typed_speed_figures(texts: dict[str, str]) -> list[str]:
    """One message per speed figure found in ``texts``, with its context."""
    found = []
    for where, text in texts.items():
        for match in PATTERN.finditer(text):
            context = text[max(0, match.start() - 40) : match.end() + 20]
            found.append(f"{where}: {match.group(0)!r} in '…{context}…'")
    return found


def test_no_speed_figure_is_typed_into_prose():
    found = typed_speed_figures(prose(ROOT))
    assert not found, (
        "speed figures typed into prose (print them from the measurement files, or state the "
        "mechanism instead):\n" + "\n".join(found)
    )


@pytest.mark.parametrize(
    "text",
    [
        "a training epoch ran 1.7× *faster*",
        "took about 11× *more* time",
        "1.3–1.5× slower than the Keras ones",
        "it made training 2.1x faster",
        "135 GFLOP/s, 78% of the matrix multiply's rate",
        "it took 28 s per 60k-image epoch",
        "Keras trains 1,871 images/s",
        "tf.function is 35% faster",
        "A full run takes about 6 minutes",
    ],
)
def test_a_typed_speed_figure_is_found(text):
    assert typed_speed_figures({"README.md": f"Some prose. {text}. More prose."})


@pytest.mark.parametrize(
    "text",
    [
        "a 3×3 kernel on a 28 × 28 image gives 26 × 26 × 32 outputs",
        "(A 3 × 3 kernel with stride 2 does not fit",
        "72 MFLOP per training image, 4.3 TFLOP per epoch",
        "test accuracy 99.31%, 5 epochs on 10,240 images",
        "the first 20% of the steps",
        "`tf.function` makes a raw TensorFlow step faster",
    ],
)
def test_sizes_costs_and_accuracies_are_not_speed_figures(text):
    assert typed_speed_figures({"README.md": text}) == []


def test_generated_blocks_may_hold_speed_figures():
    start, end = "<!-- bench-table:start (generated) -->", "<!-- bench-table:end -->"
    texts = {"README.md": GENERATED.sub(" ", f"Prose. {start}\n| 61 s per epoch | 1.48× |\n{end}")}
    assert typed_speed_figures(texts) == []
