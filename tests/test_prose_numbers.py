"""Numbers typed in prose stay in step with the measurements they quote.

The README's speed section and some notebook paragraphs quote figures from ``results/bench.json``,
``results/levers.json`` and the backend notebooks' results files. Each such figure is registered
below: where it is written, a pattern that finds it (whitespace-insensitive, so line wrapping does
not matter), and how to compute it from the results. The test fails when a file has been
re-measured and the prose still quotes the old number, and also when the prose has been reworded
so that the pattern no longer finds it (then update the pattern here).

Figures from other machines (the Intel Xeon's 1.01×, 1.22×, 1.7×) are part of the patterns as
fixed text: no results file in this repository holds them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared import concepts

from .conftest import ROOT

GENERATED = re.compile(r"<!-- (\S+):start.*?<!-- \1:end -->", re.S)


@dataclass(frozen=True)
class Claim:
    name: str
    where: tuple[str, ...]  # "README.md" or notebook stems
    pattern: str  # single spaces; each group is one number as the prose writes it
    compute: Callable[[Results], tuple[str, ...]]
    source: str


class Results:
    """The measurement files, read as plain JSON (no schema check: only numbers are needed)."""

    def __init__(self, root: Path):
        self.root = root

    def json(self, name: str) -> dict:
        return json.loads((self.root / "results" / f"{name}.json").read_text())

    def lever(self, starts: str) -> dict:
        rows = [r for r in self.json("levers")["rows"] if r["lever"].startswith(starts)]
        assert len(rows) == 1, f"results/levers.json: {len(rows)} levers start with {starts!r}"
        return rows[0]

    def bench_seconds(self) -> dict[str, float]:
        return {r["backend"]: r["seconds_per_60k_epoch"] for r in self.json("bench")["rows"]}

    def notebook_rows(self) -> list[dict]:
        rows = self.json("bench")["rows"]
        return [r for r in rows if r["backend"][:2].isdigit() and "+" not in r["backend"]]


def speedup(starts: str) -> Callable[[Results], tuple[str, ...]]:
    return lambda r: (f"{r.lever(starts)['speedup']:.2f}",)


def bf16_ratio(r: Results) -> tuple[str, ...]:
    seconds = r.bench_seconds()
    ratio = seconds["03_pytorch_sequential + bf16 autocast"] / seconds["03_pytorch_sequential"]
    return (f"{ratio:.0f}",)


def twins_apart(r: Results) -> tuple[str, ...]:
    seconds = r.bench_seconds()
    pair = seconds["01_keras_sequential"], seconds["02_keras_functional"]
    return (f"{100 * (max(pair) / min(pair) - 1):.0f}",)


def conv2_seconds(r: Results) -> float:
    return r.json("levers")["second_convolution_seconds_per_epoch"]


def conv2_rate(r: Results) -> tuple[str, ...]:
    conv2 = next(row for row in concepts.layer_rows() if row["layer"].startswith("Conv 3×3×64"))
    flops = conv2["flops"] * concepts.TRAINING_FACTOR * 60_000 / conv2_seconds(r)
    matmul = r.json("bench")["matmul_gflops"] * 1e9
    return (f"{flops / 1e9:.0f}", f"{100 * flops / matmul:.0f}")


def rest_of_step(r: Results) -> tuple[str, ...]:
    seconds = [row["seconds_per_60k_epoch"] - conv2_seconds(r) for row in r.notebook_rows()]
    return (f"{min(seconds):.0f}", f"{max(seconds):.0f}")


def step_share_of_matmul(r: Results) -> tuple[str, ...]:
    shares = [row["percent_of_matmul"] for row in r.notebook_rows()]
    return (f"{min(shares):.0f}", f"{max(shares):.0f}")


def conv2_share_of_flops(r: Results) -> tuple[str, ...]:
    conv2 = next(row for row in concepts.layer_rows() if row["layer"].startswith("Conv 3×3×64"))
    return (f"{100 * conv2['flops'] / concepts.flops_per_image():.0f}",)


def epoch_range_02(r: Results) -> tuple[str, ...]:
    seconds = [row["seconds"] for row in r.json("02_keras_functional")["history"]]
    return (f"{min(seconds):.0f}", f"{max(seconds):.0f}")


def six_runs_accuracy(r: Results) -> tuple[str, ...]:
    names = [path.stem for path in sorted((r.root / "notebooks").glob("0[1-6]_*.ipynb"))]
    accuracies = [r.json(name)["test_accuracy"] for name in names]
    return (f"{100 * sum(accuracies) / len(accuracies):.1f}",)


PYTORCH = ("03_pytorch_sequential", "04_pytorch_functional")
LEVERS, BENCH = "results/levers.json", "results/bench.json"
CLAIMS = [
    Claim(
        "in-memory batches",
        ("README.md",),
        r"instead of one PIL image at a time \((\d\.\d\d)× here\)",
        speedup("PyTorch: per-image ToTensor"),
        LEVERS,
    ),
    Claim(
        "channels_last",
        ("README.md",),
        r"`channels_last` \(1\.01× on the Xeon to (\d\.\d\d)× here\)",
        speedup("PyTorch: NCHW -> channels_last"),
        LEVERS,
    ),
    Claim(
        "batch 128 against 256",
        ("README.md",),
        r"batches of 128 instead of 256 \(1\.22× on the Xeon to (\d\.\d\d)× here",
        speedup("PyTorch: batch 256 -> 128"),
        LEVERS,
    ),
    Claim(
        "tf.function",
        ("README.md",),
        r"`tf\.function` makes a raw TensorFlow step (\d\.\d\d)× faster",
        speedup("TensorFlow: eager -> tf.function"),
        LEVERS,
    ),
    Claim(
        "XLA and torch.compile",
        ("README.md",),
        r"slower\* on this CPU \((\d\.\d\d)× and (\d\.\d\d)×\)",
        lambda r: speedup("Keras on CPU: no XLA")(r) + speedup("PyTorch on CPU: eager")(r),
        LEVERS,
    ),
    Claim(
        "bfloat16 emulated",
        ("README.md",),
        r"emulated here, an epoch took about (\d+)× as long",
        bf16_ratio,
        BENCH,
    ),
    Claim("01 and 02 apart", ("README.md",), r"they bench (\d+)% apart", twins_apart, BENCH),
    Claim(
        "second convolution share",
        ("README.md",),
        r"holds (\d+)% of the arithmetic",
        conv2_share_of_flops,
        "shared.concepts",
    ),
    Claim(
        "second convolution time",
        ("README.md",),
        r"it took (\d+) s per 60k-image epoch in `make levers`",
        lambda r: (f"{conv2_seconds(r):.0f}",),
        LEVERS,
    ),
    Claim(
        "second convolution rate",
        ("README.md",),
        r"call for it here\): (\d+) GFLOP/s, (\d+)% of the matrix multiply's rate",
        conv2_rate,
        f"{LEVERS} and {BENCH}",
    ),
    Claim(
        "rest of the step",
        ("README.md",),
        r"adds another (\d+)–(\d+) s",
        rest_of_step,
        f"{LEVERS} and {BENCH}",
    ),
    Claim(
        "step against the matmul",
        ("README.md",),
        r"runs at (\d+)–(\d+)% of the matrix multiply's rate",
        step_share_of_matmul,
        BENCH,
    ),
    Claim(
        "full-run epochs of 02",
        ("README.md",),
        r"epochs took anywhere from (\d+) to (\d+) s \(notebook 02",
        epoch_range_02,
        "results/02_keras_functional.json",
    ),
    Claim(
        "bfloat16 in the PyTorch notebooks",
        PYTORCH,
        r"Intel Xeon with AMX and took about (\d+)× \*more\* time on an AMD EPYC",
        bf16_ratio,
        BENCH,
    ),
    Claim(
        "channels_last in the PyTorch notebooks",
        PYTORCH,
        r"\(Intel Xeon with AVX-512 and AMX\) to (\d\.\d\d)× \(AMD EPYC",
        speedup("PyTorch: NCHW -> channels_last"),
        LEVERS,
    ),
    Claim(
        "batch size in the PyTorch notebooks",
        PYTORCH,
        r"batches of 128 instead of 256 were 1\.22× to (\d\.\d\d)× faster",
        speedup("PyTorch: batch 256 -> 128"),
        LEVERS,
    ),
    Claim(
        "channels_last in fastai",
        ("06_fastai",),
        r"worth 1\.01× to (\d\.\d\d)× on the two 2-core CPUs",
        speedup("PyTorch: NCHW -> channels_last"),
        LEVERS,
    ),
    Claim(
        "the six runs' accuracy",
        ("07_compare_backends",),
        r"The course's six runs land near (\d+\.\d)%",
        six_runs_accuracy,
        "results/0[1-6]_*.json",
    ),
]


def prose(root: Path, where: str) -> str:
    """The hand-written text of README.md (generated tables left out) or of a notebook's
    markdown cells, with every run of whitespace turned into one space."""
    if where == "README.md":
        text = GENERATED.sub(" ", (root / "README.md").read_text(encoding="utf-8"))
    else:
        nb = json.loads((root / "notebooks" / f"{where}.ipynb").read_text(encoding="utf-8"))
        text = "\n".join(
            "".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "markdown"
        )
    return re.sub(r"\s+", " ", text)


def disagreements(root: Path, claims=CLAIMS) -> list[str]:
    """One message per registered number that the prose no longer states as the results say."""
    results, problems = Results(root), []
    for claim in claims:
        expected = claim.compute(results)
        for where in claim.where:
            found = re.findall(claim.pattern, prose(root, where))
            if not found:
                problems.append(
                    f"{where}: the {claim.name} figure is no longer where the pattern "
                    f"{claim.pattern!r} looks; update the claim in tests/test_prose_numbers.py."
                )
                continue
            for match in found:
                written = (match,) if isinstance(match, str) else tuple(match)
                if written != expected:
                    problems.append(
                        f"{where}: the prose gives the {claim.name} as {' / '.join(written)}, "
                        f"but {claim.source} gives {' / '.join(expected)}: re-read the "
                        "measurement and correct the text."
                    )
    return problems


def test_prose_numbers_agree_with_the_results():
    problems = disagreements(ROOT)
    assert not problems, "\n".join(problems)


@pytest.fixture
def course_copy(tmp_path):
    """README, the notebooks the claims read and the results files, copied."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "results").mkdir()
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text(encoding="utf-8"))
    for path in (ROOT / "notebooks").glob("0*.ipynb"):
        (tmp_path / "notebooks" / path.name).write_bytes(path.read_bytes())
    for path in (ROOT / "results").glob("*.json"):
        (tmp_path / "results" / path.name).write_bytes(path.read_bytes())
    return tmp_path


def test_a_planted_disagreement_is_reported(course_copy):
    readme = course_copy / "README.md"
    text = readme.read_text(encoding="utf-8")
    assert "at a time (1.12× here)" in text
    readme.write_text(text.replace("at a time (1.12× here)", "at a time (1.15× here)"))
    problems = disagreements(course_copy)
    assert problems == [
        "README.md: the prose gives the in-memory batches as 1.15, but results/levers.json "
        "gives 1.12: re-read the measurement and correct the text."
    ]


def test_a_remeasured_file_is_reported(course_copy):
    levers = json.loads((course_copy / "results" / "levers.json").read_text())
    for row in levers["rows"]:
        if row["lever"].startswith("PyTorch: NCHW -> channels_last"):
            row["speedup"] = 1.01
    (course_copy / "results" / "levers.json").write_text(json.dumps(levers))
    problems = disagreements(course_copy)
    assert len(problems) == 4  # README, 03, 04 and 06 quote it
    assert all("channels_last" in p and "gives 1.01" in p for p in problems)


def test_reworded_prose_is_reported(course_copy):
    nb_path = course_copy / "notebooks" / "06_fastai.ipynb"
    nb_path.write_text(nb_path.read_text(encoding="utf-8").replace("worth 1.01× to", "1.01× to"))
    problems = disagreements(course_copy)
    assert len(problems) == 1 and "no longer where the pattern" in problems[0]
