"""Structure checks of the committed notebooks: what a reader sees on GitHub and Colab."""

import json
import re

import pytest

from shared import catalogue, config, exercises, results
from tools import pin

from .conftest import ROOT

NOTEBOOKS = [ROOT / "notebooks" / nb.file_name for nb in catalogue.NOTEBOOKS]
BACKENDS = [ROOT / "notebooks" / nb.file_name for nb in catalogue.backends()]
MACHINE_PATHS = re.compile(r"(/work/|/home/|/root/|/Users/|/tmp/|site-packages|[A-Z]:\\\\)")


def load(path):
    return json.loads(path.read_text())


def sources(nb, kind):
    return ["".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == kind]


def output_text(cell):
    parts = []
    for output in cell.get("outputs", []):
        parts.append("".join(output.get("text", "")))
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/"):
                parts.append("".join(value))
        parts.extend(output.get("traceback", []))
    return "\n".join(parts)


def headings(nb):
    return [
        line
        for text in sources(nb, "markdown")
        for line in text.splitlines()
        if line.startswith("## ")
    ]


def test_the_catalogue_lists_every_notebook_in_reading_order():
    on_disk = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert [p.name for p in NOTEBOOKS] == on_disk
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(len(numbers))), "numbered in reading order, none skipped"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_was_executed_top_to_bottom_cleanly(path):
    nb = load(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code_cells]
    assert counts == list(range(1, len(code_cells) + 1)), f"execution counts {counts}"
    for cell in code_cells:
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        assert not errors, f"cell {cell['execution_count']} stored an error"
        text = output_text(cell)
        assert not MACHINE_PATHS.search(text), f"machine path in cell {cell['execution_count']}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_colab_badge_and_setup_cell(path):
    nb = load(path)
    first = "".join(nb["cells"][0]["source"])
    assert first.startswith("# "), "a notebook opens with its title"
    badge = (
        f"https://colab.research.google.com/github/{config.GITHUB_SLUG}/blob/"
        f"{config.GITHUB_BRANCH}/notebooks/{path.name}"
    )
    assert badge in first, "the Colab badge must point at this notebook"
    setup = "".join(nb["cells"][1]["source"])
    assert setup == pin.expected_setup(path, nb), "stale setup cell: run python -m tools.pin"
    assert 'if "google.colab" in sys.modules' in setup
    assert f'course = "https://github.com/{config.GITHUB_SLUG}"' in setup
    assert f'git+{{course}}@{pin.read_pin()}"' in setup
    assert f'runtime.report("{path.stem}")' in setup
    assert not re.search(r"\b(torch|tensorflow|keras)\b", setup), "never re-pin Colab's frameworks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_uses_shared_and_has_exercises(path):
    nb = load(path)
    code = "\n".join(sources(nb, "code"))
    assert re.search(r"^(from shared import|import shared)", code, re.M)
    assert "## Exercises" in headings(nb)
    section = exercise_section(nb)
    assert f'exercises.for_notebook("{path.stem}"' in "".join(section)
    questions = exercises.for_notebook(path.stem)
    assert 3 <= len(questions) <= 5
    for number, question in enumerate(questions, 1):
        heading = f"### Exercise {number} · {question.title}\n"
        asks = [i for i, text in enumerate(section) if text.startswith(heading)]
        assert len(asks) == 1, f"one question cell for {heading!r}"
        answer, check = section[asks[0] + 1 : asks[0] + 3]
        assert answer.startswith("answer = None  # "), "an empty answer cell that runs as committed"
        assert check.startswith(f"{question.name}.check(answer)"), check


def exercise_section(nb):
    """The source of every cell from the '## Exercises' heading to the end."""
    texts = ["".join(cell["source"]) for cell in nb["cells"]]
    start = next(i for i, text in enumerate(texts) if text.startswith("## Exercises"))
    return texts[start:]


def exercise_texts(path):
    """Each exercise's question as the learner reads it, without its numbered heading."""
    return {
        text.split("\n", 1)[0].split(" · ", 1)[1]: text.split("\n", 1)[1].strip()
        for text in exercise_section(load(path))
        if text.startswith("### Exercise ")
    }


def test_no_two_notebooks_share_an_exercise_text():
    """Each API gets its own exercises: no title and no question appears in two notebooks."""
    seen = {}
    for path in NOTEBOOKS:
        for title, text in exercise_texts(path).items():
            for key in (title, text):
                seen.setdefault(key, []).append(path.stem)
    shared = {key: names for key, names in seen.items() if len(names) > 1}
    assert not shared, sorted(shared)


def test_backend_notebooks_share_one_outline():
    outlines = {nb.name: headings(load(nb)) for nb in BACKENDS}
    expected = [
        "## Setup",
        "## Data",
        "## Model",
        "## Train",
        "## Evaluate",
        "## Save results",
        "## Save and reload",
    ]
    for name, outline in outlines.items():
        assert outline[: len(expected)] == expected, name
        assert outline[len(expected)].startswith("## What "), name
        assert outline[-1] == "## Exercises", name
        assert len(outline) == len(expected) + 2, name


@pytest.mark.parametrize("path", BACKENDS, ids=lambda p: p.stem)
def test_backend_notebook_checks_what_must_not_change(path):
    nb = load(path)
    code = sources(nb, "code")
    checked = [c for c in code if c.startswith("# NBVAL_CHECK_OUTPUT")]
    assert len(checked) >= 3
    joined = "\n".join(code)
    assert "assert parameters == 1_199_882" in joined
    assert "config.accuracy_floor()" in joined
    tagged = {}
    for tag in ("model", "train"):  # the bench and the tools find these cells by their tags
        cells = [c for c in nb["cells"] if tag in c.get("metadata", {}).get("tags", [])]
        assert len(cells) == 1 and cells[0]["cell_type"] == "code", f"one {tag!r} code cell"
        tagged[tag] = "".join(cells[0]["source"])
    assert "def build_model(" in tagged["model"], "tools build the network with build_model()"
    assert "history" in tagged["train"], "the bench reads the training cell's history"


@pytest.mark.parametrize("path", BACKENDS, ids=lambda p: p.stem)
def test_committed_results_come_from_a_full_run(path):
    run = results.read_results(results.COMMITTED_RESULTS / f"{path.stem}.json")
    assert run["mode"] == "full"
    assert run["notebook"] == path.stem
    assert run["recipe"] == config.FULL_RECIPE.to_dict()
    assert run["split"]["train_size"] == 60000 and run["split"]["test_size"] == 8000
    assert len(run["history"]) == config.FULL_RECIPE.epochs
    assert run["parameters"] == 1_199_882
    # the accuracy the committed notebook printed is the one stored
    printed = "\n".join(output_text(c) for c in load(path)["cells"] if c["cell_type"] == "code")
    assert f"test accuracy {100 * run['test_accuracy']:.2f}%" in printed


PAIRS = [
    ("01_keras_sequential", "02_keras_functional"),
    ("03_pytorch_sequential", "04_pytorch_functional"),
]


def lesson_code(name):
    """The code cells of a notebook up to its exercises (which differ by design), with the
    model cell set aside, the cells that show what only this notebook's API can build (tagged
    ``api-only``) left out, and the notebook's own names replaced by placeholders."""
    nb = load(ROOT / "notebooks" / f"{name}.ipynb")
    entry = catalogue.find(name)
    cells = []
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and text.startswith("## Exercises"):
            break
        if cell["cell_type"] != "code" or "api-only" in cell.get("metadata", {}).get("tags", []):
            continue
        if "model" in cell.get("metadata", {}).get("tags", []):
            cells.append("<model cell>")
            continue
        cells.append(text.replace(entry.name, "<notebook>").replace(entry.title, "<backend>"))
    return cells


def api_only_cells(name):
    nb = load(ROOT / "notebooks" / f"{name}.ipynb")
    return [c for c in nb["cells"] if "api-only" in c.get("metadata", {}).get("tags", [])]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(n[:2] for n in p))
def test_only_the_second_of_a_pair_shows_what_its_api_alone_can_build(pair):
    assert api_only_cells(pair[0]) == []
    assert len(api_only_cells(pair[1])) <= 1
    for cell in api_only_cells(pair[1]):
        assert cell["outputs"], "the api-only cell ran with the notebook"


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "-".join(n[:2] for n in p))
def test_paired_notebooks_differ_only_in_the_model_cell(pair):
    first, second = map(lesson_code, pair)
    assert len(first) == len(second), "the same number of code cells"
    for index, (a, b) in enumerate(zip(first, second, strict=True)):
        assert a == b, f"code cell {index + 1} differs between {pair[0]} and {pair[1]}"


DRAWS = re.compile(r"\bplots\.\w+\(")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_is_stored_as_an_image(path):
    """A run with a headless plotting backend (MPLBACKEND=Agg) stores '<Figure size ...>'
    text where the figures should be: every cell that draws must hold a PNG."""
    for cell in load(path)["cells"]:
        if cell["cell_type"] != "code":
            continue
        outputs = cell["outputs"]
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        where = f"cell {cell['execution_count']}: {''.join(cell['source'])[:60]!r}"
        if DRAWS.search("".join(cell["source"])):
            assert images, f"{where} draws a figure but stores no image"
        for output in outputs:
            text = "".join(output.get("data", {}).get("text/plain", ""))
            if text.startswith("<Figure size"):
                assert "image/png" in output["data"], f"{where} stores a figure as text only"


@pytest.mark.parametrize("path", BACKENDS, ids=lambda p: p.stem)
def test_backend_notebook_checks_its_results_folder_first_and_states_its_precision(path):
    cells = load(path)["cells"]
    code = ["".join(c["source"]) for c in cells]
    train = next(i for i, c in enumerate(cells) if "train" in c["metadata"].get("tags", []))
    checks = [i for i, text in enumerate(code) if "report.check_results_writable()" in text]
    assert checks and checks[0] < train, "check the results folder before training"
    save = next(text for text in code if "report.collect_results(" in text)
    assert "precision=" in save, "a bfloat16 run must not look like a float32 one"
