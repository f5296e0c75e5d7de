"""Exercises a learner can check: every notebook ends with a few, each with ``check``, ``hint``
and ``solution``, and notebooks 00 and 07 end with a questionnaire.

In a notebook::

    from shared import exercises

    q1, q2, q3, q4 = exercises.for_notebook("03_pytorch_sequential")
    answer = None  # your code
    q1.check(answer)  # one sentence: correct, or what is off and by how much
    q1.hint()
    q1.solution()  # code that runs in the notebook, or a model answer

Everything here is plain Python and NumPy: no deep-learning framework is imported. A model is
checked through its *summary*, a dict that a few lines in each notebook (``summarize(model)``)
fill in for their framework::

    {
        "parameters": 1199882,
        "weights": [("conv1.weight", (32, 1, 3, 3)), ...],  # every weight tensor's shape
        "layers": [("Conv2D", (26, 26, 32)), ...],  # optional: each layer's output, one image
        "output": (10,),  # optional: the logits of one image
    }

Checks of a training run accept a range, not a point: one range for full mode and a wider,
stated one for fast mode (one epoch on 4,096 images, what the tests run).
"""

from __future__ import annotations

import dataclasses
import math
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import catalogue, concepts, config, report

# ----------------------------------------------------------------------------- the machinery


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One question. ``checker(answer)`` returns ``None`` when the answer is right, otherwise
    one sentence that says what is off; ``checker=None`` marks an open question."""

    name: str  # how the notebook calls it: "q1", or "quiz[3]" in a questionnaire
    title: str
    checker: Callable[[Any], str | None] | None
    hint_text: str
    solution_text: str  # code that assigns ``answer``, or a model answer in words
    praise: str | Callable[[], str] = ""  # what a right answer shows, after "Correct: "
    expected: Any = None  # the answer a value question accepts (a number, a letter)

    def verdict(self, answer) -> tuple[bool | None, str]:
        """(True, ...) right, (False, ...) wrong, (None, ...) not answered or open question."""
        if answer is None or answer is Ellipsis:
            return None, (
                f"Not answered yet: fill in the answer and run this again "
                f"({self.name}.hint() for a hint, {self.name}.solution() for the solution)."
            )
        if self.checker is None:
            return None, (
                f"No single right answer here: compare yours with {self.name}.solution()."
            )
        try:
            problem = self.checker(answer)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as err:
            problem = f"this answer cannot be read ({err})"
        if problem:
            return False, f"Not yet: {problem}"
        praise = self.praise() if callable(self.praise) else self.praise  # may name the mode
        return True, f"Correct: {praise}" if praise else "Correct."

    def check(self, answer=None) -> None:
        print(self.verdict(answer)[1])

    def hint(self) -> None:
        print(f"Hint: {self.hint_text}")

    def solution(self) -> None:
        print(self.solution_text)

    @property
    def code(self) -> str | None:
        """The solution as code that runs in the notebook, or None for a model answer."""
        prefix = "Solution:\n\n"
        return self.solution_text[len(prefix) :] if self.solution_text.startswith(prefix) else None

    def __repr__(self) -> str:
        return f"<exercise {self.name}: {self.title}>"


class Questionnaire:
    """Short questions checked together: ``quiz.check({1: 26, 2: "b", ...})``, or one at a
    time, ``quiz[3].check(...)``; ``quiz.hint(3)`` and ``quiz.solution(3)`` for question 3."""

    def __init__(self, questions):
        self.questions = tuple(questions)

    def __len__(self) -> int:
        return len(self.questions)

    def __getitem__(self, number: int) -> Exercise:
        if not isinstance(number, int) or not 1 <= number <= len(self.questions):
            raise IndexError(f"questions are numbered 1 to {len(self.questions)}, not {number!r}.")
        return self.questions[number - 1]

    def check(self, answers: dict) -> None:
        """One line per answered question (correct, not yet and why, or open: compare with the
        model answer), then a count."""
        if not isinstance(answers, dict):
            raise TypeError("give the answers as a dict, question number -> answer: {2: 26}.")
        unknown = [n for n in answers if not isinstance(n, int) or not 1 <= n <= len(self)]
        if unknown:
            raise ValueError(f"questions are numbered 1 to {len(self)}; {unknown} is not one.")
        verdicts = {n: self[n].verdict(answers[n]) for n in sorted(answers)}
        for n, (_, message) in verdicts.items():
            if answers[n] is not None:
                print(f"{n:2}. {message}")
        answered = sum(answer is not None for answer in answers.values())
        right = sum(ok is True for ok, _ in verdicts.values())
        print(
            f"{answered} of {len(self)} answered, {right} checked right. quiz.hint(n) gives a "
            "hint, quiz.solution(n) the answer to question n."
        )

    def hint(self, number: int) -> None:
        self[number].hint()

    def solution(self, number: int) -> None:
        self[number].solution()


def notebooks() -> tuple[str, ...]:
    """The notebooks that have exercises, in course order."""
    return tuple(nb.name for nb in catalogue.NOTEBOOKS if nb.name in _EXERCISES)


def for_notebook(name: str, **context) -> tuple[Exercise, ...]:
    """The exercises of a notebook, by name or number (``"03"``), in order. Notebook 07's checks
    compare your answers with the measurements, so it passes ``runs=`` (and ``bench=``)."""
    notebook = catalogue.find(name)
    if notebook.name not in _EXERCISES:
        raise ValueError(f"{notebook.name} has no exercises; these do: {', '.join(_EXERCISES)}.")
    return _EXERCISES[notebook.name](**context)


def questionnaire(name: str) -> Questionnaire:
    """The questionnaire at the end of a notebook (00 and 07 have one)."""
    notebook = catalogue.find(name)
    if notebook.name not in _QUESTIONNAIRES:
        raise ValueError(
            f"{notebook.name} has no questionnaire; these do: {', '.join(_QUESTIONNAIRES)}."
        )
    return Questionnaire(_QUESTIONNAIRES[notebook.name]())


def _code(text: str) -> str:
    return "Solution:\n\n" + textwrap.dedent(text).strip() + "\n"


def _words(text: str) -> str:
    return "Model answer: " + " ".join(textwrap.dedent(text).split())


# ----------------------------------------------------------------------------- answer checkers
# Each returns a function of the answer: None when right, else a sentence saying what is off.


def number(expected: float, tolerance: float = 0, unit: str = "", why: str = ""):
    """A number, right within ``tolerance`` (absolute)."""

    def check(answer):
        if isinstance(answer, bool) or not isinstance(answer, (int, float, np.number)):
            return f"expected a number, got {answer!r:.60}"
        if abs(answer - expected) <= tolerance + 1e-12 * abs(expected):
            return None
        off = answer - expected
        return (
            f"{_fmt(answer)}{unit} is {_fmt(abs(off))}{unit} too {'high' if off > 0 else 'low'}"
            + (f"; {why}" if why else "")
        )

    return check


def choice(expected: str, options: dict[str, str], why: dict[str, str] | None = None):
    """One of ``options`` (letter -> text), given as its letter."""

    def check(answer):
        letter = str(answer).strip().lower().rstrip(")")
        if letter not in options:
            return f"answer with one letter of {', '.join(options)}, not {answer!r:.40}"
        if letter == expected:
            return None
        return (why or {}).get(letter, f"'{letter}' ({options[letter]}) is not it")

    return check


def in_range(value: float, full: tuple[float, float], fast: tuple[float, float], what: str):
    """``None`` when ``value`` lies in the range for the current mode, else what is off. The
    fast range is for one epoch on 4,096 images; both are stated in the message."""
    low, high = fast if config.is_fast_mode() else full
    if low <= value <= high:
        return None
    return (
        f"{what} is {_pct(value)}, outside the range expected in {config.mode()} mode, "
        f"{_pct(low)} to {_pct(high)} (full mode: {_pct(full[0])}-{_pct(full[1])}; "
        f"fast mode: {_pct(fast[0])}-{_pct(fast[1])})"
    )


def range_note(full: tuple[float, float], fast: tuple[float, float]) -> str:
    low, high = fast if config.is_fast_mode() else full
    return f"inside the {config.mode()}-mode range {_pct(low)}-{_pct(high)}"


def _fmt(x) -> str:
    return f"{x:,}" if float(x).is_integer() else f"{x:,.4g}"


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.2g}%" if abs(fraction) < 0.01 else f"{100 * fraction:.1f}%"


def last_val_accuracy(history) -> float:
    """The last validation accuracy of a history: the course's list of epoch dicts, Keras'
    ``fit(...).history`` dict of lists, or a plain fraction."""
    if isinstance(history, (int, float)) and not isinstance(history, bool):
        value = float(history)
    elif isinstance(history, dict):
        value = float(history["val_accuracy"][-1])
    elif isinstance(history, (list, tuple)) and history and isinstance(history[-1], dict):
        value = float(history[-1]["val_accuracy"])
    else:
        raise ValueError("expected a history: a list of epoch dicts, or fit(...).history")
    if not 0 <= value <= 1:
        raise ValueError(f"an accuracy is a fraction between 0 and 1, got {value}")
    return value


# ----------------------------------------------------------------------------- model summaries


def summary_from_layers(layers, input_shape=concepts.INPUT_SHAPE) -> dict:
    """A list of layer dicts, as in ``concepts.MODEL``, summarised like a framework's model."""
    rows = concepts.layer_rows(layers, input_shape)
    weights = []
    for spec, row in zip(layers, rows[1:], strict=True):
        if spec["kind"] == "conv":
            k = spec["kernel"]
            weights.append((row["layer"], (k, k, row["input_shape"][-1], spec["filters"])))
        elif spec["kind"] == "dense":
            weights.append((row["layer"], (row["input_shape"][0], spec["units"])))
    return {
        "parameters": sum(row["parameters"] for row in rows),
        "weights": weights,
        "layers": [(row["layer"], tuple(row["output_shape"])) for row in rows[1:]],
        "output": tuple(rows[-1]["output_shape"]),
    }


def as_summary(answer) -> dict:
    """A model summary, or a list of layer dicts (notebook 00) turned into one."""
    if isinstance(answer, (list, tuple)) and answer and all(isinstance(x, dict) for x in answer):
        return summary_from_layers(answer)
    if not isinstance(answer, dict) or "parameters" not in answer or "weights" not in answer:
        raise ValueError(
            "expected summarize(model), a dict with 'parameters' and 'weights' (or, in notebook "
            "00, a list of layer dicts)"
        )
    return answer


def _weight_shapes(summary) -> list[tuple[int, ...]]:
    return [tuple(int(d) for d in shape) for _, shape in summary["weights"]]


def _same_dims(shape, dims) -> bool:
    """True when ``shape`` has the sizes ``dims`` in any order (channels first or last)."""
    return sorted(shape) == sorted(dims)


def has_weight(summary, dims) -> bool:
    return any(_same_dims(shape, dims) for shape in _weight_shapes(summary))


def first_dense_inputs(summary) -> int | None:
    """How many values reach the first dense layer: the other side of its 2-D weight matrix."""
    for shape in _weight_shapes(summary):
        if len(shape) == 2:
            return shape[0] if shape[1] < shape[0] else shape[1]
    return None


def _layer_kinds(summary) -> list[str]:
    return [str(kind).lower() for kind, _ in summary.get("layers") or []]


def parameters_off(summary, expected: int, why: str = "") -> str | None:
    got = int(summary["parameters"])
    if got == expected:
        return None
    course = " (the course model's own count)" if got == 1_199_882 else ""
    return (
        f"your model has {got:,} parameters{course}, {abs(got - expected):,} "
        f"{'more' if got > expected else 'fewer'} than the {expected:,} expected" + why
    )


def _output_off(summary) -> str | None:
    output = summary.get("output")
    if output is not None and tuple(output)[-1:] != (10,):
        return f"the model's output for one image has shape {tuple(output)}, not 10 logits"
    return None


# ----------------------------------------------------------------------------- shared exercise

STRIDE_PARAMETERS = 1_214_218  # conv2 becomes 4 x 4 x 32 x 64 + 64 = 32,832 parameters


def _check_strided(answer) -> str | None:
    summary = as_summary(answer)
    inputs = first_dense_inputs(summary)
    kinds = _layer_kinds(summary)
    if any("pool" in kind for kind in kinds):
        return "there is still a pooling layer: the strided convolution replaces it"
    if inputs == 2304:
        return (
            "the first dense layer gets 2,304 = 6 × 6 × 64 values: the max pool is still there "
            "and halves the 12 × 12 map again"
        )
    if inputs == 10816:
        return (
            "the first dense layer gets 10,816 = 13 × 13 × 64 values: a 3 × 3 kernel with "
            "stride 2 and 'same' padding gives 13 × 13 (frameworks floor (26 + 2 - 3) / 2 + 1 = "
            "13.5); use a 4 × 4 kernel without padding"
        )
    off = parameters_off(summary, STRIDE_PARAMETERS)
    if off and inputs and inputs != 9216:
        return f"{off}; its first dense layer takes {inputs:,} inputs, not 9,216 (12 × 12 × 64)"
    if off and not has_weight(summary, (4, 4, 32, 64)):
        return f"{off}; there is no 4 × 4 kernel from 32 to 64 channels"
    return off or _output_off(summary)


STRIDE_TITLE = "Stride instead of pooling"
STRIDE_PRAISE = (
    "1,214,218 parameters, 14,336 more than the course model, and the dense layers still get "
    "9,216 = 12 × 12 × 64 values, now without a max pool."
)
STRIDE_HINT = (
    "Only the second convolution and the pool change: the pool goes, and the convolution gets "
    "kernel 4 and stride 2 ((26 - 4) / 2 + 1 = 12). The flatten layer and the dense layers "
    "stay exactly as they are."
)


def strided(solution: str) -> Callable[[str], Exercise]:
    """The one exercise every notebook from 00 to 06 shares, with that notebook's solution."""

    def make(name: str) -> Exercise:
        return Exercise(name, STRIDE_TITLE, _check_strided, STRIDE_HINT, solution, STRIDE_PRAISE)

    return make


def _numbered(*makers) -> tuple[Exercise, ...]:
    return tuple(make(f"q{number}") for number, make in enumerate(makers, 1))


def _exercise(title, checker, hint, solution, praise="", expected=None):
    """A maker: the notebook's numbering names the exercise (q1, q2, ...)."""
    return lambda name: Exercise(name, title, checker, hint, solution, praise, expected)


# ============================================================================= 00 · concepts


def _check_kernel(answer) -> str | None:
    kernel = np.asarray(answer, dtype=float)
    if kernel.ndim != 2 or min(kernel.shape) < 2:
        return f"a kernel is a small 2-D array such as 3 × 3, got shape {kernel.shape}"
    size = 12
    rows, cols = np.indices((size, size))
    horizontal_edge = (rows >= size // 2).astype(float)  # dark top, bright bottom
    vertical_edge = (cols >= size // 2).astype(float)
    flat = np.ones((size, size))
    answers = {
        name: np.abs(concepts.apply_kernel(image, kernel)).max()
        for name, image in (("h", horizontal_edge), ("v", vertical_edge), ("flat", flat))
    }
    if answers["h"] < 1e-9:
        kind = "it answers vertical edges instead" if answers["v"] > 1e-9 else "nor anything else"
        return f"your kernel does not answer a horizontal edge at all: {kind}"
    if answers["flat"] > 0.1 * answers["h"]:
        return (
            f"your kernel answers a flat grey area with {answers['flat']:.3g}: an edge filter's "
            "weights add up to 0"
        )
    if answers["v"] > 0.1 * answers["h"]:
        return (
            f"your kernel answers a vertical edge with {answers['v']:.3g}, "
            f"{answers['v'] / answers['h']:.0%} of its answer to a horizontal one: it should "
            "ignore vertical edges"
        )
    return None


def _check_sizes(answer) -> str | None:
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        return "expected three numbers: (size with 4 × 4, with 5 × 5 in a framework, rows left)"
    four, five, left = answer
    if four != 14:
        return (
            f"a 4 × 4 kernel, stride 2, padding 1 on 28 gives (28 + 2 - 4) / 2 + 1 = 14, not {four}"
        )
    if five == 13.5:
        return "13.5 is what the formula says; a framework keeps whole windows only and rounds down"
    if five != 13:
        return f"with 5 × 5 a framework gives floor((28 + 2 - 5) / 2) + 1 = 13, not {five}"
    if left != 1:
        return (
            f"{left} is not the leftover: 13 windows with stride 2 cover 12 × 2 + 5 = 29 of the "
            "30 padded rows"
        )
    return None


def _check_weights_left(answer) -> str | None:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return "expected two parameter counts: (dense layer of 64 units, a second max pool)"
    dense64, second_pool = (int(x) for x in answer)
    if dense64 != 609_354:
        return f"with 64 hidden units the model has 609,354 parameters, not {dense64:,}" + (
            " (did you change the last dense layer's inputs too?)" if dense64 == 1_199_882 else ""
        )
    if second_pool != 315_146:
        return (
            f"with a second max pool the model has 315,146 parameters, not {second_pool:,}: the "
            "map shrinks to 6 × 6 × 64, so the first dense layer gets 2,304 inputs"
        )
    return None


def _notebook_00(**_) -> tuple[Exercise, ...]:
    return _numbered(
        _exercise(
            "Your own kernel",
            _check_kernel,
            "A vertical-edge filter compares the columns left and right of a pixel; a "
            "horizontal one compares the rows above and below. Transposing a 3 × 3 array swaps "
            "its rows and columns: vertical_edges.T.",
            _code("""
                horizontal_edges = vertical_edges.T  # [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]
                fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
                axes[0].imshow(np.abs(concepts.apply_kernel(photo, horizontal_edges)), cmap="gray")
                axes[1].imshow(concepts.apply_kernel(digit, horizontal_edges), cmap="RdBu_r")
                for ax in axes:
                    ax.axis("off")
                plt.show()
                answer = horizontal_edges
            """),
            "it answers horizontal edges and ignores vertical ones and flat areas: on the "
            "digit the top bar and the horizontal strokes light up.",
        ),
        _exercise(
            "Sizes by hand",
            _check_sizes,
            "(28 + 2 × 1 - 4) / 2 + 1 is a whole number; with F = 5 it is 13.5. A framework "
            "slides whole windows only: count how far the 13th window reaches in the 30 padded "
            "rows.",
            _code("""
                print(concepts.conv_output_size(28, 4, stride=2, padding=1))  # 14
                print(concepts.conv2d_multichannel(np.zeros((28, 28, 1)), np.zeros((4, 4, 1, 1)),
                                                   stride=2, padding=1).shape)  # (14, 14, 1)
                try:
                    concepts.conv_output_size(28, 5, stride=2, padding=1)
                except ValueError as err:
                    print(err)
                padded = 28 + 2 * 1
                windows = (padded - 5) // 2 + 1  # what a framework gives: 13
                reach = (windows - 1) * 2 + 5  # the last window ends after row 29
                answer = (14, windows, padded - reach)
            """),
            "14 with 4 × 4; with 5 × 5 the formula gives 13.5, a framework keeps 13 windows and "
            "silently ignores the last padded row, which is why conv_output_size refuses it.",
        ),
        strided(
            _code("""
                no_pool = [dict(layer) for layer in concepts.MODEL if layer["kind"] != "maxpool"]
                no_pool[1] = {"kind": "conv", "filters": 64, "kernel": 4, "stride": 2,
                              "activation": "relu"}
                table = concepts.layer_table(no_pool)
                print(table[["layer", "output_shape", "parameters", "flops"]])
                print(concepts.model_totals(no_pool)["forward_flops"] / concepts.flops_per_image())
                answer = no_pool
            """)
        ),
        _exercise(
            "Where the weights are",
            _check_weights_left,
            "The first dense layer has (flattened size) × (units) weights plus one bias per "
            "unit, and the last one (units) × 10 + 10. A second 2 × 2 pool halves 12 × 12.",
            _code("""
                dense64 = [dict(layer) for layer in concepts.MODEL]
                dense64[5]["units"] = 64
                second_pool = list(concepts.MODEL)
                second_pool.insert(3, {"kind": "maxpool", "pool": 2})
                answer = (concepts.model_totals(dense64)["parameters"],
                          concepts.model_totals(second_pool)["parameters"])
                print(answer)
            """),
            "609,354 with 64 hidden units and 315,146 with a second pool: the first dense layer "
            "holds nearly all the weights, so whatever shrinks its input or output shrinks the "
            "model.",
        ),
        _exercise(
            "Bayes error",
            choice(
                "b",
                {"a": "the avoidable bias", "b": "the variance"},
                {
                    "a": "the avoidable bias is 3.5% - 3% = 0.5 points; the variance, 8% - 3.5%, "
                    "is 4.5 points"
                },
            ),
            "Avoidable bias = training error - Bayes error; variance = dev error - training "
            "error. report.diagnose(0.035, 0.08, 0.03) does the arithmetic.",
            _code("""
                print(report.diagnose(0.035, 0.08, 0.03))
                answer = "b"  # variance: 4.5 points against 0.5 of avoidable bias
            """),
            "4.5 points of variance against 0.5 of avoidable bias: more data, augmentation or "
            "regularisation first.",
        ),
    )


def _questionnaire_00() -> list[Exercise]:
    totals = concepts.model_totals()
    rows = concepts.layer_rows()
    conv2_share = 100 * rows[2]["flops"] / totals["forward_flops"]
    steps = config.FULL_RECIPE.epochs * config.steps_per_epoch(60_000, 128)
    items = [
        (
            "What does a convolution layer compute at one position of its input?",
            None,
            "Look at conv2d_multichannel's inner loop.",
            _words("""At each position it multiplies the window of the input under the
                        filter (all channels) element by element with the filter's weights and
                        adds everything up, plus the bias, into one number. Sliding the filter
                        over the image gives one output map per filter."""),
            "",
            None,
        ),
        (
            "How wide is the output of a 3 × 3 convolution, stride 1, no padding, on a 28-wide "
            "input?",
            number(26, why="O = (W + 2P - F) / S + 1 = (28 - 3) / 1 + 1"),
            "O = (W + 2P - F) / S + 1 with W = 28, F = 3, S = 1, P = 0.",
            _words("26: (28 + 0 - 3) / 1 + 1."),
            "26.",
            26,
        ),
        (
            "What padding keeps a 32-wide input 32 wide under a 5 × 5 kernel with stride 1?",
            number(2, why="'same' padding for stride 1 is (F - 1) / 2"),
            "Solve (32 + 2P - 5) / 1 + 1 = 32 for P.",
            _words("2, that is (F - 1) / 2 for a 5 × 5 kernel."),
            "(F - 1) / 2 = 2.",
            2,
        ),
        (
            "A 6 × 6 × 3 image goes through two 3 × 3 × 3 filters. The output is a) 4 × 4 × 3, b) "
            "4 × 4 × 2, c) 4 × 4 × 6 or d) 6 × 6 × 2?",
            choice(
                "b",
                {"a": "4 × 4 × 3", "b": "4 × 4 × 2", "c": "4 × 4 × 6", "d": "6 × 6 × 2"},
                {"a": "each filter spans all 3 input channels and gives one map"},
            ),
            "A filter spans all input channels; each filter gives one output channel.",
            _words(
                "b, 4 × 4 × 2: each 3 × 3 × 3 filter sums over the three channels and "
                "gives one 4 × 4 map."
            ),
            "one map per filter.",
            "b",
        ),
        (
            "Deep-learning libraries compute a cross-correlation and call it a convolution. Why "
            "does the missing flip not matter?",
            None,
            "What would flipping a kernel change when its numbers are learnt?",
            _words("""A true convolution flips the kernel first. Since the network
                        learns the kernel's numbers, it simply learns the flipped version; the
                        flip changes nothing about what the layer can do, so libraries skip it."""),
            "",
            None,
        ),
        (
            "Why does a CNN need a ReLU between two convolutions?",
            None,
            "What do two linear filters applied one after the other amount to?",
            _words("""Without a non-linearity between them, two convolutions are one
                        linear filter (a bigger kernel), however many you stack. ReLU, max(0, x),
                        keeps the positive answers of each filter and zeroes the rest, which lets
                        stacked layers build features no single filter can."""),
            "",
            None,
        ),
        (
            "Shift a digit one pixel to the right. Which changes least: a) the raw pixels, b) a 2 "
            "× 2 max pool, c) a 28 × 28 (global) max pool?",
            choice(
                "c",
                {
                    "a": "the raw pixels",
                    "b": "a 2 × 2 max pool",
                    "c": "a 28 × 28 (global) max pool",
                },
            ),
            "See the table of relative changes after a one-pixel shift.",
            _words(
                "c: the global max pool did not change at all (0%), the raw pixels "
                "changed by 56% and the 2 × 2 pool by 37%. The price is losing where a "
                "feature was."
            ),
            "the wider the pool, the less a shift matters.",
            "c",
        ),
        (
            "One value after the second convolution depends on a square of input pixels (its "
            "receptive field). How many pixels wide is it?",
            number(5, why="each 3 × 3 convolution widens the view by 2 pixels: 1 + 2 + 2"),
            "One value after conv1 sees 3 × 3 pixels; one after conv2 sees 3 × 3 values "
            "of conv1's output.",
            _words("""5: a value after the second convolution depends on a 5 × 5 square
                        of input pixels (its receptive field), because each 3 × 3 convolution adds
                        one pixel on every side. After the 2 × 2 pool it is 6 × 6."""),
            "a 5 × 5 receptive field.",
            5,
        ),
        (
            "How many values per image reach the flatten layer?",
            number(9216, why="12 × 12 × 64"),
            "28 → 26 → 24 → pool → 12, with 64 channels.",
            _words("9,216 = 12 × 12 × 64."),
            "12 × 12 × 64.",
            9216,
        ),
        (
            "How many weights, biases not counted, does the second convolution have?",
            number(18_432, why="3 × 3 × 32 × 64, without the 64 biases"),
            "Each of the 64 filters is 3 × 3 and spans 32 channels.",
            _words("18,432 = 3 × 3 × 32 × 64 (plus 64 biases)."),
            "3 × 3 × 32 × 64.",
            18_432,
        ),
        (
            "Which layer holds most of the parameters: a) conv 3×3×32, b) conv 3×3×64, c) dense "
            "128 or d) dense 10?",
            choice(
                "c",
                {"a": "conv 3×3×32", "b": "conv 3×3×64", "c": "dense 128", "d": "dense 10"},
            ),
            "concepts.layer_table(): compare the parameters column.",
            _words(
                "c: the first dense layer, 9,216 × 128 + 128 = 1,179,776 parameters, "
                "98% of the model."
            ),
            "98% of the parameters sit in the first dense layer.",
            "c",
        ),
        (
            "What share of a forward pass's FLOPs, in percent, does the second convolution do?",
            number(round(conv2_share, 1), tolerance=0.6, unit="%"),
            "Its FLOPs divided by the forward pass's, from concepts.layer_rows().",
            _words(
                f"{conv2_share:.1f}%: {rows[2]['flops']:,} of the "
                f"{totals['forward_flops']:,} FLOPs of a forward pass."
            ),
            f"{conv2_share:.1f}% of the forward pass.",
            round(conv2_share, 1),
        ),
        (
            "Why does the second convolution do most of the arithmetic with 1.5% of the weights?",
            None,
            "How many times is each weight of a convolution used per image?",
            _words("""Each of the second convolution's 18,432 weights is used at every
                        one of its 24 × 24 = 576 output positions, so the layer does
                        576 × 18,432 multiply-adds per image with 1.5% of the weights. A dense
                        weight is used once per image."""),
            "",
            None,
        ),
        (
            "About how many MFLOP does one training step cost per image?",
            number(72, tolerance=0.5, unit=" MFLOP"),
            "About three forward passes of 24 MFLOP each.",
            _words(
                "72 MFLOP: the forward pass (24) plus the gradients with respect to "
                "each layer's input and its weights, about as much again each."
            ),
            "about 3 × 24 MFLOP.",
            72,
        ),
        (
            "Training error 1%, dev error 15%, Bayes error about 0: a) high bias, b) high "
            "variance, c) both or d) a good fit?",
            choice(
                "b",
                {"a": "high bias", "b": "high variance", "c": "both", "d": "a good fit"},
            ),
            "Variance = dev error - training error.",
            _words(
                "b, high variance (overfitting): 14 points between training and dev, "
                "1 point of avoidable bias."
            ),
            "overfitting.",
            "b",
        ),
        (
            "How many optimizer steps does a full run of the recipe take (five epochs of 60,000 "
            "images in batches of 128)?",
            number(steps, why="5 epochs × ceil(60,000 / 128) batches"),
            "config.steps_per_epoch(60_000, 128) per epoch, five epochs.",
            _words(f"{steps:,} = 5 × 469: the last batch of each epoch is smaller."),
            f"{steps:,} steps.",
            steps,
        ),
        (
            "Why are the 10,000 test images split into validation and test, stratified and with a "
            "fixed seed?",
            None,
            "What would choosing settings by the test accuracy do to that number?",
            _words("""Settings (epochs, learning rate, model changes) are chosen by the
                        validation accuracy, so the test split stays unseen and its accuracy
                        stays an honest estimate. Stratified keeps every digit's share the same
                        in both; the fixed seed gives every notebook the same indices, so their
                        numbers can be compared."""),
            "",
            None,
        ),
    ]
    return [Exercise(f"quiz[{n}]", *item) for n, item in enumerate(items, 1)]


# ============================================================================ 01 · Keras Sequential


def _check_half_filters(answer) -> str | None:
    summary = as_summary(answer)
    inputs = first_dense_inputs(summary)
    if summary["parameters"] == 1_190_506:
        return (
            "1,190,506 parameters: only the first convolution changed; the second needs 32 "
            "filters too"
        )
    if inputs and inputs != 4608:
        return (
            f"the first dense layer takes {inputs:,} inputs; with 32 filters: 12 × 12 × 32 = 4,608"
        )
    return parameters_off(summary, 596_042) or _output_off(summary)


def _check_no_dropout_list(answer) -> str | None:
    summary = as_summary(answer)
    kinds = _layer_kinds(summary)
    if not kinds:
        return "the summary has no 'layers': use the notebook's summarize(model)"
    dropouts = sum("dropout" in kind for kind in kinds)
    if dropouts:
        return f"{dropouts} dropout layer{'s are' if dropouts > 1 else ' is'} still in the list"
    if len(kinds) != 6:
        return f"the model has {len(kinds)} layers; without the two dropouts the list has 6"
    return parameters_off(summary, 1_199_882, ": dropout has no weights, the count stays")


AUGMENTED_FULL, AUGMENTED_FAST = (0.985, 0.997), (0.80, 0.995)


def _check_augmentation_layer(answer) -> str | None:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return "expected a pair: (summarize(model), its fit(...).history)"
    summary, history = as_summary(answer[0]), answer[1]
    kinds = _layer_kinds(summary)
    if not any("translation" in kind for kind in kinds):
        return "the model has no RandomTranslation layer"
    off = parameters_off(summary, 1_199_882, ": augmentation layers have no weights")
    return off or in_range(
        last_val_accuracy(history), AUGMENTED_FULL, AUGMENTED_FAST, "the last validation accuracy"
    )


def _notebook_01(**_) -> tuple[Exercise, ...]:
    return _numbered(
        _exercise(
            "Half the filters",
            _check_half_filters,
            "Change the two Conv2D filter counts to 16 and 32 in a copy of build_model. The "
            "first Dense layer's weights follow from its input, which Keras infers.",
            _code("""
                half = keras.Sequential(
                    [
                        keras.Input(shape=(28, 28, 1)),
                        layers.Conv2D(16, 3, activation="relu"),
                        layers.Conv2D(32, 3, activation="relu"),
                        layers.MaxPooling2D(2),
                        layers.Dropout(0.25),
                        layers.Flatten(),  # 12 x 12 x 32 = 4,608
                        layers.Dense(128, activation="relu"),
                        layers.Dropout(0.5),
                        layers.Dense(10),
                    ]
                )
                answer = summarize(half)
            """),
            "596,042 parameters, half of the course model's: the first Dense layer gets 4,608 "
            "values instead of 9,216, and it holds most of the weights.",
        ),
        strided(
            _code("""
                strided_model = keras.Sequential(
                    [
                        keras.Input(shape=(28, 28, 1)),
                        layers.Conv2D(32, 3, activation="relu"),  # -> 26x26x32
                        layers.Conv2D(64, 4, strides=2, activation="relu"),  # -> 12x12x64
                        layers.Dropout(0.25),
                        layers.Flatten(),  # -> 9216
                        layers.Dense(128, activation="relu"),
                        layers.Dropout(0.5),
                        layers.Dense(10),
                    ]
                )
                strided_model.summary()
                answer = summarize(strided_model)
            """)
        ),
        _exercise(
            "Edit the list",
            _check_no_dropout_list,
            "model.layers is a Python list of layer objects: keep those that are not "
            "isinstance(layer, layers.Dropout) and pass the rest to keras.Sequential, after a "
            "keras.Input.",
            _code("""
                kept = [x for x in build_model().layers if not isinstance(x, layers.Dropout)]
                no_dropout = keras.Sequential([keras.Input(shape=(28, 28, 1)), *kept])
                answer = summarize(no_dropout)
            """),
            "6 layers and still 1,199,882 parameters: dropout has no weights, it only switches "
            "values off while training.",
        ),
        _exercise(
            "Augmentation as a layer",
            _check_augmentation_layer,
            "layers.RandomTranslation(2 / 28, 2 / 28, fill_mode='constant', "
            "interpolation='nearest', fill_value=...) moves by up to 2 pixels; the background of "
            "a normalised image is (0 - pixel_mean) / pixel_std. Compile as above with a new "
            "Adam on the same schedule and call fit once for all epochs.",
            _code("""
                keras.utils.set_random_seed(recipe.seed)
                background = -recipe.pixel_mean / recipe.pixel_std  # a black pixel, normalised
                augmented = keras.Sequential(
                    [
                        keras.Input(shape=(28, 28, 1)),
                        layers.RandomTranslation(
                            2 / 28, 2 / 28, fill_mode="constant", interpolation="nearest",
                            fill_value=background,
                        ),
                        *build_model().layers,
                    ]
                )
                augmented.compile(
                    optimizer=keras.optimizers.Adam(
                        schedule, beta_1=recipe.adam_beta1, beta_2=recipe.adam_beta2,
                        epsilon=recipe.adam_epsilon,
                    ),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=["accuracy"],
                )
                logs = augmented.fit(
                    data.normalize(train_digits, recipe), train_labels,
                    batch_size=recipe.batch_size, epochs=recipe.epochs,
                    validation_data=(val_images, splits.val_y), verbose=0,
                ).history
                print(f"validation accuracy {100 * logs['val_accuracy'][-1]:.2f}%")
                answer = (summarize(augmented), logs)
            """),
            lambda: (
                "the shifts now happen inside the model, on every batch, and the model "
                "learns as well as with the course's shifted arrays ("
                + range_note(AUGMENTED_FULL, AUGMENTED_FAST)
                + "); RandomTranslation is only active in fit, as dropout is."
            ),
        ),
    )


# ============================================================================ 02 · Keras Functional

RESIDUAL_PARAMETERS = 1_236_810  # + 3 x 3 x 64 x 64 + 64 = 36,928


def _check_residual(answer) -> str | None:
    summary = as_summary(answer)
    layers_ = summary.get("layers") or []
    adds = [shape for kind, shape in layers_ if str(kind).lower() == "add"]
    if not adds:
        return "there is no Add layer: the branch's output must be added to its input"
    if not any(_same_dims(shape, (12, 12, 64)) for shape in adds):
        return f"the Add layer's output is {adds[0]}; after the pool it should be (12, 12, 64)"
    return parameters_off(summary, RESIDUAL_PARAMETERS, ": one extra 3 × 3 × 64 × 64 convolution")


def _check_two_heads(answer) -> str | None:
    summary = as_summary(answer)
    outputs = [shape for kind, shape in summary.get("layers") or [] if str(kind).lower() == "dense"]
    if not any(tuple(shape) == (1,) for shape in outputs):
        return "no Dense layer with one output: the second head answers 'even?' with one logit"
    return parameters_off(summary, 1_200_011, ": the new head is 128 weights and a bias")


def _check_feature_shape(answer) -> str | None:
    shape = tuple(int(d) for d in answer)
    if shape == (2000, 12, 12, 64):
        return "(2000, 12, 12, 64) is the pool's output; take the Flatten layer's output"
    if shape != (2000, 9216):
        return f"the features have shape {shape}; the flatten layer gives (2000, 9216)"
    return None


def _notebook_02(**_) -> tuple[Exercise, ...]:
    return _numbered(
        _exercise(
            "A residual Add branch",
            _check_residual,
            "Keep the tensor x that leaves the max pool, compute branch = layers.Conv2D(64, 3, "
            "padding='same', activation='relu')(x) (12 × 12 × 64 again) and continue with "
            "layers.Add()([x, branch]).",
            _code("""
                def build_residual_model():
                    inputs = keras.Input(shape=(28, 28, 1))
                    x = layers.Conv2D(32, 3, activation="relu")(inputs)
                    x = layers.Conv2D(64, 3, activation="relu")(x)
                    x = layers.MaxPooling2D(2)(x)  # -> 12x12x64
                    branch = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
                    x = layers.Add()([x, branch])  # the shortcut: x + f(x), still 12x12x64
                    x = layers.Dropout(0.25)(x)
                    x = layers.Flatten()(x)
                    x = layers.Dense(128, activation="relu")(x)
                    x = layers.Dropout(0.5)(x)
                    return keras.Model(inputs, layers.Dense(10)(x), name="residual_cnn")


                residual = build_residual_model()
                answer = summarize(residual)
            """),
            "1,236,810 parameters (36,928 for the branch's convolution) and an Add of two "
            "12 × 12 × 64 tensors: the shortcut lets the input pass by unchanged, the idea that "
            "made ResNet's 152 layers trainable.",
        ),
        strided(
            _code("""
                inputs = keras.Input(shape=(28, 28, 1))
                x = layers.Conv2D(32, 3, activation="relu")(inputs)  # -> 26x26x32
                x = layers.Conv2D(64, 4, strides=2, activation="relu")(x)  # -> 12x12x64
                x = layers.Dropout(0.25)(x)
                x = layers.Flatten()(x)  # -> 9216
                x = layers.Dense(128, activation="relu")(x)
                x = layers.Dropout(0.5)(x)
                strided_model = keras.Model(inputs, layers.Dense(10)(x))
                answer = summarize(strided_model)
            """)
        ),
        _exercise(
            "Two heads",
            _check_two_heads,
            "Call two Dense layers on the same 128-value tensor: Dense(10) for the digit and "
            "Dense(1) for 'is it even?', and pass both to keras.Model(inputs, [digit, even]).",
            _code("""
                inputs = keras.Input(shape=(28, 28, 1))
                x = layers.Conv2D(32, 3, activation="relu")(inputs)
                x = layers.Conv2D(64, 3, activation="relu")(x)
                x = layers.MaxPooling2D(2)(x)
                x = layers.Dropout(0.25)(x)
                x = layers.Flatten()(x)
                x = layers.Dense(128, activation="relu")(x)
                x = layers.Dropout(0.5)(x)
                digit = layers.Dense(10, name="digit")(x)
                even = layers.Dense(1, name="even")(x)  # one logit: is the digit even?
                two_heads = keras.Model(inputs, [digit, even])
                answer = summarize(two_heads)
            """),
            "1,200,011 parameters, 129 more than the course model: both heads share everything "
            "up to the 128 features, and compile would take one loss per head.",
        ),
        _exercise(
            "The tensors have names",
            _check_feature_shape,
            "keras.Model(model.inputs, model.get_layer(name).output) is a new model that ends "
            "at any tensor of the graph; the Flatten layer's name is in model.summary().",
            _code("""
                flatten = next(layer for layer in model.layers if isinstance(layer, layers.Flatten))
                features = keras.Model(model.inputs, flatten.output)
                answer = features.predict(val_images, verbose=0).shape
                print(answer)
            """),
            "(2000, 9216): a model cut at the flatten layer gives the 9,216 features the dense "
            "layers classify, with the trained weights.",
        ),
    )


# ============================================================================= 03 · nn.Sequential


def _check_slice_shape(answer) -> str | None:
    shape = tuple(int(d) for d in answer)
    if shape[-3:] == (12, 12, 64):
        return f"{shape} is channels-last order; PyTorch puts the channels first, (64, 12, 12)"
    if shape[-3:] != (64, 12, 12):
        return f"{shape} is not what reaches nn.Flatten: 64 maps of 12 × 12, (64, 12, 12)"
    return None


DROPOUT_EVAL_FULL, DROPOUT_EVAL_FAST = (0.0001, 0.05), (0.0001, 0.25)


def _check_dropout_at_eval(answer) -> str | None:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return "expected a pair: (accuracy with model.eval(), accuracy with model.train())"
    evaluated, training = (float(x) for x in answer)
    if evaluated == training:
        return "both numbers are the same: dropout was off both times; call model.train() first"
    drop = evaluated - training
    if drop < 0:
        return (
            f"dropout on was {-100 * drop:.2f} points *better*: the pair may be swapped, "
            "(eval accuracy, train-mode accuracy)"
        )
    return in_range(drop, DROPOUT_EVAL_FULL, DROPOUT_EVAL_FAST, "the drop")


def _check_frozen(answer) -> str | None:
    return number(
        1_181_066, why="1,199,882 minus the 320 + 18,496 parameters of the two convolutions"
    )(answer)


def _notebook_03(**_) -> tuple[Exercise, ...]:
    return _numbered(
        _exercise(
            "Slice the stack",
            _check_slice_shape,
            "An nn.Sequential can be sliced like a list: model[:6] is a smaller nn.Sequential "
            "with the first six modules. Print model to count to nn.Flatten.",
            _code("""
                features = model[:6]  # conv, ReLU, conv, ReLU, max pool, dropout
                print(features)
                model.eval()
                with torch.inference_mode():
                    answer = tuple(features(test_x[:1]).shape[1:])
                print(answer)
            """),
            "(64, 12, 12): 64 maps of 12 × 12, channels first, 9,216 values per image.",
        ),
        strided(
            _code("""
                strided_model = nn.Sequential(
                    nn.Conv2d(1, 32, kernel_size=3),  # -> 26x26x32
                    nn.ReLU(),
                    nn.Conv2d(32, 64, kernel_size=4, stride=2),  # -> 12x12x64
                    nn.ReLU(),
                    nn.Dropout(0.25),
                    nn.Flatten(),  # -> 9216
                    nn.Linear(9216, 128),
                    nn.ReLU(),
                    nn.Dropout(0.5),
                    nn.Linear(128, 10),
                ).to(device)
                answer = summarize(strided_model)
            """)
        ),
        _exercise(
            "Dropout left on",
            _check_dropout_at_eval,
            "Run the 2,000 validation images through the trained model twice, once after "
            "model.eval() and once after model.train(), inside torch.inference_mode(), and "
            "compare logits.argmax(dim=1) with val_y. Seed with torch.manual_seed first.",
            _code("""
                torch.manual_seed(recipe.seed)
                accuracies = []
                for switch in (model.eval, model.train):
                    switch()
                    with torch.inference_mode():
                        predictions = model(val_x).argmax(dim=1)
                    accuracies.append((predictions == val_y).float().mean().item())
                model.eval()
                print(f"eval mode {accuracies[0]:.2%}, train mode {accuracies[1]:.2%}")
                answer = tuple(accuracies)
            """),
            lambda: (
                "with dropout on, every prediction drops a random share of the features, "
                "and accuracy falls ("
                + range_note(DROPOUT_EVAL_FULL, DROPOUT_EVAL_FAST)
                + " of accuracy lost): forget model.eval() and you report a worse model than "
                "you have."
            ),
        ),
        _exercise(
            "Freeze the convolutions",
            _check_frozen,
            "model[0] and model[2] are the convolutions; layer.requires_grad_(False) freezes "
            "a module's parameters. Count only those with p.requires_grad.",
            _code("""
                frozen = build_model()
                for layer in frozen[:4]:  # the two convolutions and their ReLUs
                    layer.requires_grad_(False)
                answer = sum(p.numel() for p in frozen.parameters() if p.requires_grad)
                print(f"{answer:,} of {sum(p.numel() for p in frozen.parameters()):,} trainable")
            """),
            "1,181,066 of 1,199,882 parameters still train: freezing the convolutions, as "
            "transfer learning does, saves little here, because the dense layer holds 98% of the "
            "weights (but it skips most of the arithmetic of the backward pass).",
        ),
    )


# ============================================================================= 04 · nn.Module

FORWARD_SHAPES = [(32, 26, 26), (64, 24, 24), (64, 12, 12), (9216,), (128,), (10,)]


def _check_forward_shapes(answer) -> str | None:
    shapes = [tuple(int(d) for d in shape) for shape in answer]
    if shapes and all(len(s) > 1 and s[0] == 1 for s in shapes):
        shapes = [s[1:] for s in shapes]  # a batch of one image
    if len(shapes) != len(FORWARD_SHAPES):
        return f"{len(shapes)} shapes recorded; forward has {len(FORWARD_SHAPES)} steps to record"
    for got, want in zip(shapes, FORWARD_SHAPES, strict=True):
        if got != want:
            return f"one step gives {got} where {want} (per image, channels first) is expected"
    return None


SHORTCUT_PARAMETERS = 1_201_994  # + 1 x 1 x 32 x 64 + 64 = 2,112


def _check_shortcut(answer) -> str | None:
    summary = as_summary(answer)
    if not has_weight(summary, (1, 1, 32, 64)):
        return "there is no 1 × 1 convolution from 32 to 64 channels for the shortcut"
    return parameters_off(summary, SHORTCUT_PARAMETERS) or _output_off(summary)


def _check_embedding_shape(answer) -> str | None:
    shape = tuple(int(d) for d in answer)
    if shape == (2000, 10):
        return "(2000, 10) are the logits; the features are the 128 values before fc2"
    if shape != (2000, 128):
        return f"the features have shape {shape}; fc1 gives 128 values per image, (2000, 128)"
    return None


def _notebook_04(**_) -> tuple[Exercise, ...]:
    return _numbered(
        _exercise(
            "Shapes inside forward",
            _check_forward_shapes,
            "Subclass Net, copy its forward, and after each step append tuple(x.shape) to a "
            "list (self.shapes); skip the dropouts, which keep the shape. Run one image.",
            _code("""
                class TracedNet(Net):
                    def forward(self, x):
                        self.shapes = []
                        x = F.relu(self.conv1(x))
                        self.shapes.append(tuple(x.shape))
                        x = F.relu(self.conv2(x))
                        self.shapes.append(tuple(x.shape))
                        x = F.max_pool2d(x, 2)
                        self.shapes.append(tuple(x.shape))
                        x = torch.flatten(F.dropout(x, 0.25, training=self.training), 1)
                        self.shapes.append(tuple(x.shape))
                        x = F.relu(self.fc1(x))
                        self.shapes.append(tuple(x.shape))
                        x = self.fc2(F.dropout(x, 0.5, training=self.training))
                        self.shapes.append(tuple(x.shape))
                        return x


                traced = TracedNet().eval()
                with torch.inference_mode():
                    traced(torch.zeros(1, 1, 28, 28))
                print(traced.shapes)
                answer = traced.shapes
            """),
            "(1, 32, 26, 26) → (1, 64, 24, 24) → (1, 64, 12, 12) → (1, 9216) → (1, 128) → "
            "(1, 10): forward is plain Python, so a print or a list append goes anywhere in it.",
        ),
        strided(
            _code("""
                class StridedNet(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.conv1 = nn.Conv2d(1, 32, kernel_size=3)
                        self.conv2 = nn.Conv2d(32, 64, kernel_size=4, stride=2)
                        self.fc1 = nn.Linear(9216, 128)
                        self.fc2 = nn.Linear(128, 10)

                    def forward(self, x):
                        x = F.relu(self.conv1(x))  # -> 26x26x32
                        x = F.relu(self.conv2(x))  # -> 12x12x64, no max pool
                        x = F.dropout(x, 0.25, training=self.training)
                        x = torch.flatten(x, 1)  # -> 9216
                        x = F.dropout(F.relu(self.fc1(x)), 0.5, training=self.training)
                        return self.fc2(x)


                answer = summarize(StridedNet().to(device))
            """)
        ),
        _exercise(
            "A projection shortcut",
            _check_shortcut,
            "conv2 maps 26 × 26 × 32 to 24 × 24 × 64. Cut the border off its input "
            "(x[:, :, 1:-1, 1:-1] is 24 × 24) and give it 64 channels with nn.Conv2d(32, 64, "
            "kernel_size=1); add that to conv2's output before the ReLU.",
            _code("""
                class ShortcutNet(Net):
                    def __init__(self):
                        super().__init__()
                        self.project = nn.Conv2d(32, 64, kernel_size=1)  # the shortcut's 1x1

                    def forward(self, x):
                        x = F.relu(self.conv1(x))  # 26x26x32
                        shortcut = self.project(x[:, :, 1:-1, 1:-1])  # 24x24x64
                        x = F.relu(self.conv2(x) + shortcut)  # 24x24x64
                        x = F.max_pool2d(x, 2)
                        x = torch.flatten(F.dropout(x, 0.25, training=self.training), 1)
                        x = F.dropout(F.relu(self.fc1(x)), 0.5, training=self.training)
                        return self.fc2(x)


                answer = summarize(ShortcutNet().to(device))
            """),
            "1,201,994 parameters, 2,112 for the 1 × 1 projection: the sizes of both paths "
            "must agree before they are added, which the slicing and the 1 × 1 convolution "
            "arrange. nn.Sequential cannot express this.",
        ),
        _exercise(
            "Two things from forward",
            _check_embedding_shape,
            "Give forward a keyword argument, e.g. forward(self, x, features=False), and return "
            "the 128 values after fc1 and its ReLU when it is True. Load the trained weights "
            "with load_state_dict(model.state_dict()).",
            _code("""
                class NetWithFeatures(Net):
                    def forward(self, x, features=False):
                        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
                        x = torch.flatten(F.dropout(x, 0.25, training=self.training), 1)
                        x = F.relu(self.fc1(x))
                        if features:
                            return x  # the 128 values the last layer classifies
                        return self.fc2(F.dropout(x, 0.5, training=self.training))


                with_features = NetWithFeatures().to(device, memory_format=torch.channels_last)
                with_features.load_state_dict(model.state_dict())  # same names, same weights
                with_features.eval()
                with torch.inference_mode():
                    answer = tuple(with_features(val_x, features=True).shape)
                print(answer)
            """),
            "(2000, 128): one module, two outputs chosen by an argument; the state_dict loads "
            "because the attribute names (conv1, conv2, fc1, fc2) did not change.",
        ),
    )


# ============================================================================= 05 · raw TensorFlow


def _check_clip(answer) -> str | None:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return "expected a pair: (global norm before clipping, global norm after)"
    before, after = (float(x) for x in answer)
    if before <= 1.0:
        return f"the norm before clipping is {before:.3g}, already below 1.0: use a fresh model"
    if abs(after - before) < 1e-6 * before:
        return f"the norm is {before:.3g} before and after: nothing was clipped"
    if abs(after - 1.0) > 1e-3:
        return f"after clipping the global norm is {after:.4g}; scaled to 1.0 it would be 1.0"
    return None


def _check_he(answer) -> str | None:
    kernel = np.asarray(answer, dtype=float)
    if kernel.shape != (3, 3, 32, 64):
        return f"expected conv2's kernel, shape (3, 3, 32, 64), got {kernel.shape}"
    he, glorot = math.sqrt(6 / 288), math.sqrt(6 / (288 + 576))
    largest = np.abs(kernel).max()
    if largest > he * 1.001:
        return f"the largest |weight| is {largest:.4f}, above the He limit √(6 / 288) = {he:.4f}"
    if largest < 0.95 * he:
        extra = " (that is Glorot's limit)" if abs(largest - glorot) < 0.05 * glorot else ""
        return f"the largest |weight| is {largest:.4f}{extra}; He uniform reaches ±{he:.4f}"
    return None


def _notebook_05(**_) -> tuple[Exercise, ...]:
    return _numbered(
        _exercise(
            "A custom gradient clip",
            _check_clip,
            "The global norm is √(sum of every gradient's squared entries); multiply every "
            "gradient by min(1, 1.0 / norm). tf.clip_by_global_norm does the same, to compare.",
            _code("""
                def clip_by_global_norm(gradients, clip_norm):
                    norm = tf.sqrt(sum(tf.reduce_sum(tf.square(g)) for g in gradients))
                    scale = tf.minimum(1.0, clip_norm / norm)
                    return [g * scale for g in gradients], norm


                fresh = CNN(seed=recipe.seed)  # a trained model's gradients are small
                x, y = next(iter(training_batches(data.normalize(train_digits, recipe), seed=0)))
                with tf.GradientTape() as tape:
                    logits = fresh(x, training=True)
                    loss = tf.reduce_mean(
                        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
                    )
                gradients = tape.gradient(loss, fresh.trainable_variables)
                clipped, norm = clip_by_global_norm(gradients, 1.0)
                reference, _ = tf.clip_by_global_norm(gradients, 1.0)
                assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(clipped, reference))
                answer = (float(norm), float(tf.linalg.global_norm(clipped)))
                print(answer)
            """),
            "the gradients are scaled down together to a global norm of 1.0, so their "
            "direction stays the same; in train_step it goes between tape.gradient and "
            "optimizer.apply.",
        ),
        strided(
            _code("""
                class StridedCNN(CNN):
                    def __init__(self, seed):
                        super().__init__(seed)
                        rng = tf.random.Generator.from_seed(seed + 1)
                        self.conv2_w = glorot_uniform(rng, [4, 4, 32, 64], "conv2_w")

                    def __call__(self, x, training=False):
                        x = tf.nn.relu(tf.nn.conv2d(x, self.conv1_w, 1, "VALID") + self.conv1_b)
                        x = tf.nn.relu(tf.nn.conv2d(x, self.conv2_w, 2, "VALID") + self.conv2_b)
                        if training:  # 12x12x64, no max pool
                            x = tf.nn.dropout(x, rate=0.25)
                        x = tf.nn.relu(tf.reshape(x, [-1, 9216]) @ self.dense1_w + self.dense1_b)
                        if training:
                            x = tf.nn.dropout(x, rate=0.5)
                        return x @ self.dense2_w + self.dense2_b


                answer = summarize(StridedCNN(seed=recipe.seed))
            """)
        ),
        _exercise(
            "He initialisation",
            _check_he,
            "Like glorot_uniform, but the limit is √(6 / fan_in), where fan_in = 3 × 3 × 32 "
            "for conv2's kernel.",
            _code("""
                def he_uniform(rng, shape, name):
                    fan_in = int(np.prod(shape[:-1]))  # 3 x 3 x 32 inputs per output
                    limit = np.sqrt(6 / fan_in)
                    return tf.Variable(rng.uniform(shape, -limit, limit), name=name)


                kernel = he_uniform(tf.random.Generator.from_seed(recipe.seed), [3, 3, 32, 64], "w")
                answer = kernel.numpy()
                print(f"largest |weight| {np.abs(answer).max():.4f}")
            """),
            "weights up to ±0.144 instead of Glorot's ±0.083: He initialisation keeps the "
            "variance of the signal steady through ReLUs, which zero half of it.",
        ),
        _exercise(
            "What Adam remembers",
            number(
                2 * 1_199_882,
                why="one m and one v per weight, 2 × 1,199,882; the steps counter and the "
                "learning rate are single numbers",
            ),
            "optimizer.m and optimizer.v are lists of variables, one per model variable; "
            "tf.size(v) counts a variable's numbers. optimizer.variables would count the "
            "model's own weights too.",
            _code("""
                answer = sum(int(tf.size(v)) for v in optimizer.m + optimizer.v)
                print(f"{answer:,} numbers of optimizer state for {parameters:,} parameters")
            """),
            "2,399,764 numbers, twice the model: a checkpoint meant to resume training must "
            "store them too, three times as many numbers as the weights alone.",
        ),
    )


# ============================================================================= 06 · fastai

LR_FIND_RANGE = (1e-4, 3e-2)
ONE_CYCLE_FULL, ONE_CYCLE_FAST = (0.985, 0.997), (0.80, 0.995)


def _check_lr_find(answer) -> str | None:
    lr = float(getattr(answer, "valley", answer))
    low, high = LR_FIND_RANGE
    if not low <= lr <= high:
        return (
            f"{lr:.2g} is outside {low:g}-{high:g}, where lr_find's valley lands for this "
            "model in both modes; was the Learner fresh (untrained)?"
        )
    return None


def _check_one_cycle(answer) -> str | None:
    return in_range(
        last_val_accuracy(answer), ONE_CYCLE_FULL, ONE_CYCLE_FAST, "the last validation accuracy"
    )


def _check_one_cycle_lrs(answer) -> str | None:
    lrs = np.asarray(answer, dtype=float)
    if lrs.ndim != 1 or len(lrs) < 10:
        return "expected the learning rate of every batch, e.g. one_cycle.recorder.lrs"
    peak = 3e-3
    if abs(lrs.max() - peak) > 0.02 * peak:
        return f"the highest learning rate is {lrs.max():.3g}; with lr_max=3e-3 it is 3e-3"
    if abs(lrs[0] - peak / 25) > 0.02 * peak / 25:
        return f"the first learning rate is {lrs[0]:.3g}; one-cycle starts at lr_max / 25 = 1.2e-4"
    if lrs[-1] > peak / 100:
        return f"the last learning rate is {lrs[-1]:.3g}; one-cycle anneals almost to zero"
    return None


def _notebook_06(**_) -> tuple[Exercise, ...]:
    return _numbered(
        _exercise(
            "Find a learning rate",
            _check_lr_find,
            "Build a fresh Learner like the one above (a new build_model(), no fit) and call "
            "lr_find(); it returns suggestions, of which .valley is the default. Pass "
            "path=config.models_dir() so its temporary file lands in a git-ignored folder.",
            _code("""
                torch.manual_seed(recipe.seed)
                finder = Learner(dls, build_model(), loss_func=CrossEntropyLossFlat(),
                                 opt_func=adam, cbs=ChannelsLast(), path=config.models_dir())
                with finder.no_bar():  # from 1e-5 to 1, the range that matters for Adam
                    suggestion = finder.lr_find(start_lr=1e-5, end_lr=1, num_it=50)
                print(f"lr_find suggests {suggestion.valley:.1e}; the recipe's peak is "
                      f"{recipe.peak_learning_rate}")
                answer = suggestion.valley
            """),
            "the valley lies within a factor of about ten of the recipe's 3e-3: lr_find raises "
            "the rate batch by batch and picks one where the loss still falls fast.",
        ),
        strided(
            _code("""
                strided_model = nn.Sequential(
                    nn.Conv2d(1, 32, kernel_size=3),  # -> 26x26x32
                    nn.ReLU(),
                    nn.Conv2d(32, 64, kernel_size=4, stride=2),  # -> 12x12x64
                    nn.ReLU(),
                    nn.Dropout(0.25),
                    nn.Flatten(),  # -> 9216
                    nn.Linear(9216, 128),
                    nn.ReLU(),
                    nn.Dropout(0.5),
                    nn.Linear(128, 10),
                )
                answer = summarize(strided_model)
            """)
        ),
        _exercise(
            "fastai's way",
            _check_one_cycle,
            "A fresh Learner, then fit_one_cycle(recipe.epochs, lr_max=recipe.peak_learning_rate, "
            "cbs=[EpochLog(), RandomShift()]) instead of fit with the course's schedule. "
            "EpochLog appends to the global list history: empty it first.",
            _code("""
                torch.manual_seed(recipe.seed)
                history = []  # EpochLog appends here; the course's run is saved above already
                one_cycle = Learner(dls, build_model(), loss_func=CrossEntropyLossFlat(),
                                    opt_func=adam, metrics=accuracy, cbs=ChannelsLast(),
                                    path=config.models_dir())
                one_cycle.logger = lambda values: None
                with one_cycle.no_bar():
                    one_cycle.fit_one_cycle(recipe.epochs, lr_max=recipe.peak_learning_rate,
                                            cbs=[EpochLog(), RandomShift()])
                answer = history
            """),
            lambda: (
                "fastai's one-cycle schedule trains this model about as well as the course's ("
                + range_note(ONE_CYCLE_FULL, ONE_CYCLE_FAST)
                + "); compare its epochs with the course's above."
            ),
        ),
        _exercise(
            "The one-cycle schedule",
            _check_one_cycle_lrs,
            "The Learner of the previous exercise recorded the learning rate of every batch "
            "in one_cycle.recorder.lrs.",
            _code("""
                answer = one_cycle.recorder.lrs
                print(f"first {answer[0]:.2e}, peak {max(answer):.2e}, last {answer[-1]:.2e}")
            """),
            "one-cycle starts at lr_max / 25, warms up along a cosine to lr_max over the first "
            "25% of the steps and anneals to almost zero; the course's schedule starts at 0, "
            "warms up linearly over 20% and ends at exactly 0.",
        ),
    )


# ============================================================================= 07 · comparison

SEED_RERUN_FULL, SEED_RERUN_FAST = (0.988, 0.997), (0.5, 1.0)


def _same_numbers(run) -> tuple:
    """What two identical runs share: the history without the seconds, test accuracy and loss."""
    history = [{k: v for k, v in row.items() if k != "seconds"} for row in run["history"]]
    return history, run["test_accuracy"], run["test_loss"]


def _notebook_07(runs=None, bench=None) -> tuple[Exercise, ...]:
    """The checks compare answers with ``runs`` (the results files) and ``bench``."""

    def by_name() -> dict[str, dict]:
        if not runs:
            raise ValueError("no runs to compare with: for_notebook(..., runs=runs)")
        return {run["notebook"]: run for run in runs}

    def check_spread(answer) -> str | None:
        correct = [round(run["test_accuracy"] * run["split"]["test_size"]) for run in runs or []]
        if not correct:
            raise ValueError("no runs to compare with: for_notebook(..., runs=runs)")
        return number(max(correct) - min(correct), why="count the correct images of each")(answer)

    def check_twins(answer) -> str | None:
        names = list(by_name())
        twins = [
            (a, b)
            for i, a in enumerate(names)
            for b in names[i + 1 :]
            if _same_numbers(by_name()[a]) == _same_numbers(by_name()[b])
        ]
        given = sorted(tuple(sorted(pair)) for pair in answer)
        wrong = [pair for pair in given if pair not in twins]
        if wrong:
            return f"{wrong[0][0]} and {wrong[0][1]} do not report the same numbers"
        missing = [pair for pair in twins if pair not in given]
        if missing:
            return (
                f"{len(missing)} pair{'s' if len(missing) > 1 else ''} missing, e.g. {missing[0]}"
            )
        return None

    def check_rerun(answer) -> str | None:
        path = Path(answer).resolve()
        committed = [config.project_root() / "results", getattr(report, "COMMITTED_RESULTS", None)]
        if any(folder and path.parent == Path(folder).resolve() for folder in committed):
            return (
                "that file is in results/ (or the copy shipped with the package), the committed "
                "full-run results: a re-run must write elsewhere (set FORCE_CNN_RESULTS_DIR)"
            )
        rerun = report.read_results(path)
        if rerun["recipe"]["seed"] == config.SEED:
            return (
                f"this run used the course's seed {config.SEED}: change the recipe's seed, which "
                "every random generator of the notebook reads"
            )
        full, fast = SEED_RERUN_FULL, SEED_RERUN_FAST
        low, high = fast if rerun["mode"] == "fast" else full
        accuracy = rerun["test_accuracy"]
        if not low <= accuracy <= high:
            mode = rerun["mode"]
            return (
                f"test accuracy {_pct(accuracy)} is outside {_pct(low)}-{_pct(high)} ({mode} mode)"
            )
        return None

    def check_ratios(answer) -> str | None:
        if bench is None:
            return "there is no bench file: run make bench first to write results/bench.json"
        bench_seconds = {row["backend"]: row["seconds_per_60k_epoch"] for row in bench["rows"]}
        if not isinstance(answer, dict) or not answer:
            return "expected a dict: notebook name -> table's s/epoch divided by the bench's"
        for name, ratio in answer.items():
            if name not in by_name() or name not in bench_seconds:
                return f"{name!r} is not a backend notebook in both the table and the bench"
            want = by_name()[name]["seconds_per_epoch"] / bench_seconds[name]
            if abs(ratio - want) > 0.01 * want:
                return f"for {name} the ratio is {want:.2f}, not {ratio:.2f}"
        if len(answer) < len(by_name()):
            return f"{len(by_name()) - len(answer)} backend(s) missing"
        return None

    return _numbered(
        _exercise(
            "Noise or difference?",
            check_rerun,
            "Every random choice of a backend notebook (initial weights, batch order, dropout, "
            "shifts) follows recipe.seed. In a copy of the notebook, replace 'recipe = "
            "config.recipe()' by 'recipe = dataclasses.replace(config.recipe(), seed=1)', set "
            "FORCE_CNN_RESULTS_DIR to a scratch folder so results/ stays as committed, and run "
            "the copy with nbclient. On Colab, where the other notebooks are not next to this "
            "one, make the same two changes in 03's own first cells instead.",
            _code("""
                import dataclasses  # noqa: F401  (the copy below uses it)
                import os

                import nbformat
                from nbclient import NotebookClient

                source = config.project_root() / "notebooks" / "03_pytorch_sequential.ipynb"
                rerun = nbformat.read(source, as_version=4)
                line = "recipe = config.recipe()"
                cells = [cell for cell in rerun.cells if line in cell.source]
                assert len(cells) == 1, "the notebook should make its recipe in one place"
                cells[0].source = "import dataclasses\\n" + cells[0].source.replace(
                    line, "recipe = dataclasses.replace(config.recipe(), seed=1)"
                )
                scratch = config.project_root() / "build" / "seed-1"  # never results/
                os.environ[config.RESULTS_ENV] = str(scratch)
                try:
                    NotebookClient(rerun, timeout=3600,
                                   resources={"metadata": {"path": str(source.parent)}}).execute()
                finally:
                    del os.environ[config.RESULTS_ENV]
                answer = scratch / "03_pytorch_sequential.json"
                committed = next(r for r in runs if r["notebook"] == "03_pytorch_sequential")
                moved = report.read_results(answer)["test_accuracy"] - committed["test_accuracy"]
                print(f"seed 1 moved the test accuracy by {100 * moved:+.2f} points")
            """),
            "a run with another seed, written outside results/; compare how far its test "
            "accuracy moved with the spread of the six in the table: in full mode a change of "
            "a tenth of a point or so is run-to-run noise, the same size as the differences "
            "between frameworks.",
        ),
        _exercise(
            "The spread in images",
            check_spread,
            "An accuracy is the share of correct images: multiply by the 8,000 test images to "
            "count them, for the best and the worst backend.",
            _code("""
                correct = [round(run["test_accuracy"] * run["split"]["test_size"]) for run in runs]
                answer = max(correct) - min(correct)
                print(f"{answer} test images between the best and the worst backend")
            """),
            "one image is 0.0125 points, so the table's differences are a handful of digits.",
        ),
        _exercise(
            "Identical twins",
            check_twins,
            "Compare each pair of runs' history (without the seconds), test accuracy and test "
            "loss; itertools.combinations(runs, 2) gives every pair once.",
            _code("""
                from itertools import combinations


                def numbers(run):
                    history = [{k: v for k, v in row.items() if k != "seconds"}
                               for row in run["history"]]
                    return history, run["test_accuracy"], run["test_loss"]


                answer = [(a["notebook"], b["notebook"]) for a, b in combinations(runs, 2)
                          if numbers(a) == numbers(b)]
                print(answer)
            """),
            "the two Keras notebooks, and the two PyTorch notebooks, agree to the last digit: "
            "each pair builds the same layers in the same order from the same seed, so the "
            "initial weights, the batches and every operation are the same. Only the way of "
            "writing the model differs, and it costs nothing.",
        ),
        _exercise(
            "Table against bench",
            check_ratios,
            "Divide each backend's seconds_per_epoch (the table) by its "
            "seconds_per_60k_epoch in bench['rows'] (the same notebook's code, timed by make "
            "bench).",
            _code("""
                bench_seconds = {row["backend"]: row["seconds_per_60k_epoch"]
                                 for row in bench["rows"]}
                answer = {run["notebook"]: run["seconds_per_epoch"] / bench_seconds[run["notebook"]]
                          for run in runs}
                for name, ratio in answer.items():
                    print(f"{name:<24} {ratio:.2f}x")
            """),
            "every full run took longer per epoch than the bench. Both time the notebook's "
            "own cells, loop and validation included; the bench keeps the fastest epoch after "
            "a warm-up one, in the better of two rounds, while the table averages every epoch "
            "of a six-minute run, warm-up included, on a machine shared with other work: the "
            "gap measures that machine's changing load more than any extra work in the loop.",
        ),
    )


def _questionnaire_07() -> list[Exercise]:
    epoch_tflop = concepts.flops_per_epoch() / 1e12
    items = [
        (
            "Notebooks 01 and 02 report the same losses and accuracies to the last digit. Why? a) "
            "they build the same layers in the same order from the same seed, b) chance, c) 02 "
            "reads 01's results",
            choice(
                "a",
                {
                    "a": "same layers in the same order, same seed: same weights, same arithmetic",
                    "b": "chance: with 8,000 images two runs often agree",
                    "c": "notebook 02 reads notebook 01's results",
                },
            ),
            "Would chance give the same loss to every printed digit, five epochs in a row?",
            _words("a: the Sequential and the Functional API build the same graph of layers."),
            "the API is only a way of writing the model.",
            "a",
        ),
        (
            "Besides the framework's API, what can make two runs of the same network and recipe "
            "end differently?",
            None,
            "List what draws random numbers or rounds differently between frameworks.",
            _words("""The initial weights (Glorot uniform in Keras and raw TensorFlow, a
                Kaiming-style uniform in PyTorch), the order of the shuffled batches, the
                dropout masks, and small numerical details such as where Adam adds its ε or
                in what order a kernel sums."""),
            "",
            None,
        ),
        (
            "How many percentage points of test accuracy is one of the 8,000 test images?",
            number(0.0125, tolerance=1e-6, unit=" points"),
            "100 / 8,000.",
            _words("0.0125 percentage points: a difference of 0.05 points is four images."),
            "0.0125 points.",
            0.0125,
        ),
        (
            "How does Keras initialise the weights of Conv2D and Dense: a) Glorot uniform, b) "
            "Kaiming-style uniform, c) zeros?",
            choice("a", {"a": "Glorot uniform", "b": "Kaiming-style uniform", "c": "zeros"}),
            "The discussion names both.",
            _words("a: Glorot uniform weights and zero biases, as raw TensorFlow does here."),
            "Glorot uniform.",
            "a",
        ),
        (
            "What does make bench time? a) a bare training step without the notebook's loop, b) "
            "the notebook's own cells up to its training loop, on 10,240 images, c) the epochs of "
            "the last full run",
            choice(
                "b",
                {
                    "a": "a bare training step, without the notebook's loop",
                    "b": "the notebook's own cells up to its training loop, on fewer images",
                    "c": "the epochs of the last full run",
                },
            ),
            "The bench runs the notebook's cells up to the one tagged 'train'.",
            _words("b: 10,240 images for 4 epochs, the fastest epoch after the first counting."),
            "the notebook's own code.",
            "b",
        ),
        (
            "Why does make bench keep each backend's fastest epoch instead of the average?",
            None,
            "What else runs on a shared machine during a measurement?",
            _words("""A slow epoch mostly measures the other programs on the machine; the
                fastest is the best estimate of what the code itself can do, as timeit
                reasons. The first epoch is left out because it pays for tracing and memory
                allocation."""),
            "",
            None,
        ),
        (
            "How many TFLOP does one training epoch of 60,000 images cost?",
            number(round(epoch_tflop, 2), tolerance=0.05, unit=" TFLOP"),
            "72 MFLOP per training image, 60,000 images.",
            _words(f"{epoch_tflop:.2f} TFLOP = 60,000 × 72 MFLOP."),
            f"{epoch_tflop:.2f} TFLOP.",
            round(epoch_tflop, 2),
        ),
        (
            "A backend trains 1,000 images per second. How many GFLOP/s is that?",
            number(72, tolerance=0.5, unit=" GFLOP/s"),
            "The table multiplies images per second by the cost of a training image.",
            _words("72 GFLOP/s: 1,000 × 72 MFLOP."),
            "72 GFLOP/s.",
            72,
        ),
        (
            "On the course's CPU, where does a training step spend most of its time: a) the second"
            " convolution, b) the dense layers, c) the optimizer?",
            choice(
                "a",
                {"a": "the second convolution", "b": "the dense layers", "c": "the optimizer"},
            ),
            "Which layer does 88% of the arithmetic?",
            _words("a: the second convolution and its gradients; all six hand it to oneDNN."),
            "the second convolution.",
            "a",
        ),
        (
            "What does the dashed line in the speed chart stand for, and why does no backend reach"
            " it?",
            None,
            "It comes from results/bench.json.",
            _words("""The time an epoch's 4.3 TFLOP would take at the speed of a large fp32
                matrix multiply on the same machine: a practical limit. Convolutions with small
                channel counts, ReLU, pooling and dropout all run below that speed, so no
                backend gets close."""),
            "",
            None,
        ),
        (
            "Why is a ranking of the frameworks by the table's seconds per epoch unreliable?",
            None,
            "How much did one notebook's identical epochs vary?",
            _words("""The table's epoch times come from whole runs on a machine shared with
                other work, so a ranking by that column says more about when each notebook ran
                than about the framework. Even the bench cannot rank them: notebooks 01 and 02,
                which compute exactly the same thing, bench about as far apart as the two
                farthest frameworks."""),
            "",
            None,
        ),
        (
            "What must be the same in all six runs for the comparison to mean something, and where"
            " does this notebook check it?",
            None,
            "See the 'Same experiment?' section.",
            _words("""The split (the same indices), the recipe, the mode (full) and the model
                (1,199,882 parameters). report.experiment_mismatches compares every run with
                the course's recipe and with the first run and names any that differs."""),
            "",
            None,
        ),
        (
            "Which speed lever made training faster on the course's 2-core CPU: a) XLA "
            "(jit_compile), b) torch.compile, c) tf.function, d) bfloat16 autocast?",
            choice(
                "c",
                {
                    "a": "XLA (jit_compile)",
                    "b": "torch.compile",
                    "c": "tf.function",
                    "d": "bfloat16 autocast",
                },
            ),
            "Three of them made training slower on the course's 2-core CPU.",
            _words(
                "c: tf.function about halved a raw TensorFlow step; XLA, torch.compile and "
                "bfloat16 autocast made it slower on that CPU (they are GPU or AMX levers)."
            ),
            "tf.function.",
            "c",
        ),
        (
            "How many parameters does each of the six networks have?",
            number(1_199_882),
            "Every backend notebook asserts it.",
            _words("1,199,882: 1,199,648 weights and 234 biases."),
            "1,199,882.",
            1_199_882,
        ),
    ]
    return [Exercise(f"quiz[{n}]", *item) for n, item in enumerate(items, 1)]


# ============================================================================= 08 · same network

LOGIT_TOLERANCE = 1e-4  # the tolerance notebook 08 allows between two ports


def _check_same_logits(answer) -> str | None:
    difference = float(answer)
    if difference > LOGIT_TOLERANCE:
        return (
            f"the logits differ by up to {difference:.2g}, more than the {LOGIT_TOLERANCE:g} "
            "allowed: some weights meet the wrong inputs (a kernel's axes, or the order of the "
            "dense rows)"
        )
    return None


def _check_scrambled(answer) -> str | None:
    difference = float(answer)
    if difference <= LOGIT_TOLERANCE:
        return (
            f"a difference of {difference:.2g} is within the tolerance: this port is right, so "
            "the first kernel was transposed, not reshaped"
        )
    return None


def _notebook_08(**_) -> tuple[Exercise, ...]:
    return _numbered(
        _exercise(
            "Where one input lands",
            number(64, why="Keras lines up all 64 channels of pixel (0, 0) before pixel (0, 1)"),
            "order[k] is the PyTorch input that Keras input k holds, so you are looking for the "
            "k with order[k] == 1; np.argsort(order) turns the question around.",
            _code("""
                answer = int(np.argsort(order)[1])  # the k with order[k] == 1
                print(f"PyTorch's input 1 (channel 0 of pixel (0, 1)) is Keras' input {answer}")
            """),
            "64: Keras reads all 64 channels of the top-left pixel first, so channel 0 of the "
            "next pixel comes 64th; np.argsort(order) is the reordering's inverse.",
        ),
        _exercise(
            "Reshape instead of transpose",
            _check_scrambled,
            "Copy keras_weights, put conv1_w.reshape(3, 3, 1, 32) in place of its first array, "
            "set it into a fresh build_keras_model() and predict.",
            _code("""
                scrambled = build_keras_model()
                scrambled.set_weights([conv1_w.reshape(3, 3, 1, 32), *keras_weights[1:]])
                scrambled_logits = scrambled.predict(images, batch_size=500, verbose=0)
                print(f"test accuracy {100 * accuracy(scrambled_logits):.2f}%")
                answer = np.abs(scrambled_logits - torch_logits).max()
            """),
            "the shapes fit, Keras accepts the weights without a word, and the logits move by "
            "whole units: a reshape keeps the numbers in their order and only redraws the axes.",
        ),
        _exercise(
            "Back to PyTorch",
            _check_same_logits,
            "Undo each step: kernels go back with transpose(3, 2, 0, 1), dense matrices with "
            ".T, and np.argsort(order) puts the first dense layer's rows back in PyTorch's "
            "order. The state_dict keys of the nn.Sequential are '0.weight', '2.weight', "
            "'7.weight' and '10.weight' (and their biases).",
            _code("""
                w1, b1, w2, b2, w3, b3, w4, b4 = keras_weights
                back = build_torch_model()
                back.load_state_dict(
                    {
                        name: torch.from_numpy(np.ascontiguousarray(array))
                        for name, array in {
                            "0.weight": w1.transpose(3, 2, 0, 1),
                            "0.bias": b1,
                            "2.weight": w2.transpose(3, 2, 0, 1),
                            "2.bias": b2,
                            "7.weight": w3[np.argsort(order)].T,  # rows back in PyTorch's order
                            "7.bias": b3,
                            "10.weight": w4.T,
                            "10.bias": b4,
                        }.items()
                    }
                )
                with torch.inference_mode():
                    back_logits = back.eval()(images_nchw).numpy()
                answer = np.abs(back_logits - keras_logits).max()
                print(f"largest difference {answer:.1e}")
            """),
            "the round trip gives Keras' logits back within the tolerance: every transpose and "
            "the reordering have an inverse.",
        ),
        _exercise(
            "Flatten like Keras",
            _check_same_logits,
            "A module whose forward returns x.permute(0, 2, 3, 1).flatten(1) flattens "
            "channels last; put it in place of model[6], the nn.Flatten, and give the first "
            "Linear the weight dense_kernel(fc1_w)[order].T.",
            _code("""
                class FlattenChannelsLast(nn.Module):
                    def forward(self, x):  # (N, C, H, W) -> (N, H, W, C) -> (N, 9216)
                        return x.permute(0, 2, 3, 1).flatten(1)


                like_keras = build_torch_model()
                like_keras[6] = FlattenChannelsLast()
                like_keras.load_state_dict(torch_model.state_dict())
                with torch.no_grad():  # the dense rows in Keras' order, as in keras_weights
                    like_keras[7].weight.copy_(torch.from_numpy(dense_kernel(fc1_w)[order].T.copy()))
                with torch.inference_mode():
                    like_keras_logits = like_keras.eval()(images_nchw).numpy()
                answer = np.abs(like_keras_logits - torch_logits).max()
                print(f"largest difference {answer:.1e}")
            """),
            "flattening channels last in PyTorch makes Keras' row order the right one: the "
            "trap is in the flatten, not in the dense layer.",
        ),
    )


_EXERCISES = {
    "00_cnn_concepts": _notebook_00,
    "01_keras_sequential": _notebook_01,
    "02_keras_functional": _notebook_02,
    "03_pytorch_sequential": _notebook_03,
    "04_pytorch_functional": _notebook_04,
    "05_tensorflow_raw": _notebook_05,
    "06_fastai": _notebook_06,
    "07_compare_backends": _notebook_07,
    "08_same_network": _notebook_08,
}
_QUESTIONNAIRES = {"00_cnn_concepts": _questionnaire_00, "07_compare_backends": _questionnaire_07}
