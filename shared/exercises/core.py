"""The machinery of ``shared.exercises``: the ``Exercise`` and ``Questionnaire`` objects,
the answer checkers (numbers, choices, ranges) and the model summaries that checks compare."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import concepts, config


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


def solution_code(text: str) -> str:
    return "Solution:\n\n" + textwrap.dedent(text).strip() + "\n"


def model_answer(text: str) -> str:
    return "Model answer: " + " ".join(textwrap.dedent(text).split())


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
        f"{what} is {percent(value)}, outside the range expected in {config.mode()} mode, "
        f"{percent(low)} to {percent(high)} (full mode: {percent(full[0])}-{percent(full[1])}; "
        f"fast mode: {percent(fast[0])}-{percent(fast[1])})"
    )


def range_note(full: tuple[float, float], fast: tuple[float, float]) -> str:
    low, high = fast if config.is_fast_mode() else full
    return f"inside the {config.mode()}-mode range {percent(low)}-{percent(high)}"


def _fmt(x) -> str:
    return f"{x:,}" if float(x).is_integer() else f"{x:,.4g}"


def percent(fraction: float) -> str:
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


def same_dims(shape, dims) -> bool:
    """True when ``shape`` has the sizes ``dims`` in any order (channels first or last)."""
    return sorted(shape) == sorted(dims)


def has_weight(summary, dims) -> bool:
    return any(same_dims(shape, dims) for shape in _weight_shapes(summary))


def first_dense_inputs(summary) -> int | None:
    """How many values reach the first dense layer: the other side of its 2-D weight matrix."""
    for shape in _weight_shapes(summary):
        if len(shape) == 2:
            return shape[0] if shape[1] < shape[0] else shape[1]
    return None


def layer_kinds(summary) -> list[str]:
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


def output_off(summary) -> str | None:
    output = summary.get("output")
    if output is not None and tuple(output)[-1:] != (10,):
        return f"the model's output for one image has shape {tuple(output)}, not 10 logits"
    return None


STRIDE_PARAMETERS = 1_214_218  # conv2 becomes 4 x 4 x 32 x 64 + 64 = 32,832 parameters


def _check_strided(answer) -> str | None:
    summary = as_summary(answer)
    inputs = first_dense_inputs(summary)
    kinds = layer_kinds(summary)
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
    return off or output_off(summary)


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


def numbered(*makers) -> tuple[Exercise, ...]:
    return tuple(make(f"q{number}") for number, make in enumerate(makers, 1))


def make_exercise(title, checker, hint, solution, praise="", expected=None):
    """A maker: the notebook's numbering names the exercise (q1, q2, ...)."""
    return lambda name: Exercise(name, title, checker, hint, solution, praise, expected)
