"""The exercises: every solution passes its own check, and a typical wrong answer gets a no that
says what is off.

The solutions that need a framework run in the notebooks themselves: a copy of each notebook, in
fast mode, with every answer cell replaced by its exercise's solution code. To stay within a few
minutes, the copy skips the cells between the training loop and the exercises (evaluation,
plots, saving), the training loop too where no solution needs the trained model, and the cells
that only draw a figure with ``plots``.
"""

import ast
import json
import math
import re

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from shared import catalogue, concepts, config, exercises, results

from .conftest import ROOT

COMMITTED = results.COMMITTED_RESULTS

#: Notebooks whose exercise solutions use the model trained by the notebook's own loop.
NEEDS_TRAINING = {"01_keras_sequential", "03_pytorch_sequential", "06_fastai"}
#: Where the cells the solutions need end, in notebooks without a training loop to stop at.
NEEDED_UNTIL = {
    "00_cnn_concepts": "## Our model, layer by layer",
    "09_distributed": "## Processes forked from the notebook",
}


def raw_runs():
    """The committed results files as plain dicts: the checks read only a few keys."""
    return [
        json.loads((COMMITTED / f"{name}.json").read_text()) for name in catalogue.backend_names()
    ]


RNG = np.random.default_rng(0)
DENSE = [RNG.normal(size=(9216, 128)) / 96, np.zeros(128), RNG.normal(size=(128, 10)), np.zeros(10)]
REFERENCE = RNG.normal(size=(100, 10))
#: What each notebook's exercise cell passes to its checks, made up for the unit tests.
CONTEXTS = {
    "02_keras_functional": {"dense": DENSE},
    "03_pytorch_sequential": {"dense": DENSE},
    "04_pytorch_functional": {"fc2": DENSE[2:]},
    "08_same_network": {"reference": REFERENCE, "ports": {"PyTorch": REFERENCE}},
}


def context(name):
    if name != "07_compare_backends":
        return CONTEXTS.get(name, {})
    bench = json.loads((COMMITTED / "bench.json").read_text())
    return {"runs": raw_runs(), "bench": bench}


# ----------------------------------------------------------------------------- wrong answers


def layers(*changes, drop=()):
    """The course model's layer dicts with some layers replaced and some dropped."""
    model = [dict(layer) for layer in concepts.MODEL]
    for index, layer in changes:
        model[index] = layer
    return [layer for i, layer in enumerate(model) if i not in drop]


COURSE = exercises.summary_from_layers(concepts.MODEL)
TORCH_COURSE = {key: COURSE[key] for key in ("parameters", "weights", "output")}  # no layers
STRIDED_WITH_POOL = exercises.summary_from_layers(
    layers((1, {"kind": "conv", "filters": 64, "kernel": 4, "stride": 2}))
)
ONLY_CONV1_HALVED = exercises.summary_from_layers(
    layers((0, {"kind": "conv", "filters": 16, "kernel": 3}))
)
SOBEL = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])

#: A typical wrong answer for every exercise, and a word the "no" must contain.
WRONG = {
    ("00_cnn_concepts", 1): (SOBEL, "vertical"),
    ("00_cnn_concepts", 2): ((14, 13.5, 1), "rounds down"),
    ("00_cnn_concepts", 3): (list(concepts.MODEL), "pooling"),
    ("00_cnn_concepts", 4): ((1_199_882, 315_146), "609,354"),
    ("00_cnn_concepts", 5): ("a", "4.5 points"),
    ("01_keras_sequential", 1): (ONLY_CONV1_HALVED, "second"),
    ("01_keras_sequential", 2): ((3e-6, 0), "bfloat16"),
    ("01_keras_sequential", 3): (COURSE, "dropout"),
    ("01_keras_sequential", 4): ((COURSE, {"val_accuracy": [0.99]}), "RandomTranslation"),
    ("02_keras_functional", 1): (COURSE, "Add"),
    ("02_keras_functional", 2): (271.0, "1e-4"),
    ("02_keras_functional", 3): (COURSE, "Dense"),
    ("02_keras_functional", 4): ((np.ones((500, 12, 12, 64)), np.ones((500, 10))), "Flatten"),
    ("03_pytorch_sequential", 1): ((np.ones((100, 12, 12, 64)), np.ones((100, 10))), "model[:6]"),
    ("03_pytorch_sequential", 2): (("torch.float32", 0.01), "autocast"),
    ("03_pytorch_sequential", 3): ((0.95, 0.95), "model.train()"),
    ("03_pytorch_sequential", 4): (1_199_882, "too high"),
    ("04_pytorch_functional", 1): (
        [(1, 32, 26, 26), (1, 64, 24, 24), (1, 9216), (1, 128), (1, 10)],
        "6",
    ),
    ("04_pytorch_functional", 2): (np.zeros((28, 28)), "backward"),
    ("04_pytorch_functional", 3): (TORCH_COURSE, "1 × 1"),
    ("04_pytorch_functional", 4): ((np.ones((500, 10)), np.ones((500, 10))), "fc1"),
    ("05_tensorflow_raw", 1): ((3.2, [np.ones(5)]), "1,199,882"),
    ("05_tensorflow_raw", 2): ((17.7, 17.7), "did not change"),
    ("05_tensorflow_raw", 3): (
        np.random.default_rng(0).uniform(-1, 1, (3, 3, 32, 64)) * math.sqrt(6 / (288 + 576)),
        "Glorot",
    ),
    ("05_tensorflow_raw", 4): (3 * 1_199_882 + 2, "too high"),
    ("06_fastai", 1): (3e-3, "recorder"),
    ("06_fastai", 2): ((np.full((200, 10), 0.1), np.zeros(200), np.zeros(200)), "-log"),
    ("06_fastai", 3): ([{"val_accuracy": 0.3}] * 5, "outside"),
    ("06_fastai", 4): ([3e-3] * 50, "first"),
    ("07_compare_backends", 1): (COMMITTED / "03_pytorch_sequential.json", "results/"),
    ("07_compare_backends", 2): (0, "too low"),
    ("07_compare_backends", 3): ([("01_keras_sequential", "03_pytorch_sequential")], "do not"),
    ("07_compare_backends", 4): ({"03_pytorch_sequential": 1.0}, "ratio"),
    ("08_same_network", 1): (1, "too low"),
    ("08_same_network", 2): (REFERENCE + 3e-6, "transposed"),
    ("08_same_network", 3): (REFERENCE + 4.2, "wrong inputs"),
    ("08_same_network", 4): (REFERENCE - 4.2, "order"),
    ("09_distributed", 1): ((0.04, 0.012), "√4"),
    ("09_distributed", 2): ((0.5, 0.5), "plain average"),
    ("09_distributed", 3): (1_199_882, "too low"),
}

#: Notebooks still being written: their typical wrong answers come with the notebook.
IN_PROGRESS: set[str] = set()

EXERCISES = [
    (name, number)
    for name in exercises.notebooks()
    if name not in IN_PROGRESS
    for number in range(1, 1 + len(exercises.for_notebook(name, **context(name))))
]


def test_every_exercise_has_a_wrong_answer_to_test():
    assert sorted(WRONG) == sorted(EXERCISES)


@pytest.mark.parametrize(("name", "number"), EXERCISES, ids=lambda x: str(x))
def test_a_typical_wrong_answer_gets_a_helpful_no(name, number):
    exercise = exercises.for_notebook(name, **context(name))[number - 1]
    answer, word = WRONG[name, number]
    ok, message = exercise.verdict(answer)
    assert ok is False, message
    assert message.startswith("Not yet: ") and word in message, message
    assert exercise.hint_text and exercise.code, "every exercise has a hint and solution code"


@pytest.mark.parametrize("name", exercises.notebooks())
def test_unanswered_is_not_an_error(name, capsys):
    for exercise in exercises.for_notebook(name, **context(name)):
        exercise.check(None)
        assert capsys.readouterr().out.startswith("Not answered yet: ")


@pytest.mark.parametrize("name", ["00_cnn_concepts", "07_compare_backends"])
def test_questionnaire_answers(name, capsys):
    quiz = exercises.questionnaire(name)
    assert 10 <= len(quiz) <= 20
    for number in range(1, len(quiz) + 1):
        question = quiz[number]
        assert question.hint_text and question.solution_text.startswith("Model answer: ")
        if question.checker is None:  # open: check points to the model answer
            assert question.verdict("my own words")[0] is None
            continue
        assert question.verdict(question.expected)[0] is True, question.title
        wrong = "z" if isinstance(question.expected, str) else question.expected * 2 + 1
        ok, message = question.verdict(wrong)
        assert ok is False and message.startswith("Not yet: "), message
    n = next(n for n in range(1, len(quiz) + 1) if quiz[n].expected is not None)
    quiz.check({n: quiz[n].expected, n + 1: None})
    first, last = capsys.readouterr().out.splitlines()
    assert first.startswith(f"{n:2}. Correct")
    assert last.startswith(f"1 of {len(quiz)} answered, 1 checked right.")


def test_training_ranges_depend_on_the_mode(monkeypatch):
    check = exercises.for_notebook("06_fastai")[2]
    assert check.verdict([{"val_accuracy": 0.9}])[0] is False  # full mode wants 98.5% or more
    monkeypatch.setenv(config.FAST_ENV, "1")
    ok, message = check.verdict([{"val_accuracy": 0.9}])
    assert ok is True and "fast-mode range" in message, message


# ----------------------------------------------------------------------------- solutions


def only_draws(source):
    """True for a cell that only calls ``plots`` functions: it defines nothing later cells use."""
    try:
        statements = ast.parse(source).body
    except SyntaxError:  # an IPython magic
        return False
    return bool(statements) and all(
        isinstance(s, ast.Expr)
        and isinstance(s.value, ast.Call)
        and isinstance(s.value.func, ast.Attribute)
        and isinstance(s.value.func.value, ast.Name)
        and s.value.func.value.id == "plots"
        for s in statements
    )


def with_solutions(name, folder=ROOT / "notebooks"):
    """A copy of the notebook in which every answer cell holds its exercise's solution."""
    nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    solutions = {e.name: e.code for e in exercises.for_notebook(name, **context(name))}
    cells = nb.cells
    start = next(i for i, c in enumerate(cells) if c.source.startswith("## Exercises"))
    train = [i for i, c in enumerate(cells) if "train" in c.metadata.get("tags", [])]
    keep = list(range(start))
    if train:
        keep = list(range(train[0] + (name in NEEDS_TRAINING)))
    elif name in NEEDED_UNTIL:
        keep = list(range(next(i for i, c in enumerate(cells) if NEEDED_UNTIL[name] in c.source)))
    keep = [i for i in keep if cells[i].cell_type == "code" and not only_draws(cells[i].source)]
    checks = []
    for i in range(start, len(cells)):
        tags = cells[i].metadata.get("tags", [])
        if "exercise-answer" in tags:
            number = re.match(r"(q\d+)\.check", cells[i + 1].source).group(1)
            cells[i].source = solutions[number]
        if "exercise-check" in tags:
            checks.append(i)
        keep.append(i)
    nb.cells = [cells[i] for i in keep]
    return nb, [keep.index(i) for i in checks]


@pytest.mark.kernel
@pytest.mark.parametrize("name", exercises.notebooks())
def test_every_solution_passes_its_check(name, mnist_dir, tmp_path, monkeypatch):
    monkeypatch.setenv(config.FAST_ENV, "1")
    monkeypatch.setenv(config.RESULTS_ENV, str(tmp_path / "results"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb, checks = with_solutions(name)
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    ).execute()
    printed = {
        nb.cells[i].source.split(".")[0]: "".join(o.get("text", "") for o in nb.cells[i].outputs)
        for i in checks
    }
    wrong = {q: text for q, text in printed.items() if not text.startswith("Correct")}
    assert not wrong, wrong
