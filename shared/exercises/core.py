"""The machinery of ``shared.exercises``: the ``Exercise`` and ``Questionnaire`` objects,
the answer checkers (numbers, choices, ranges) and the model summaries that checks compare."""

from __future__ import annotations

import dataclasses
import numbers
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import config
from .answers import LARGEST, UNREADABLE, Refusal, finite_number, sequence, short


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
        except Refusal as err:  # the answer's form is wrong: the message says which form to use
            problem = " ".join(str(err).split())
        except UNREADABLE as err:
            said = " ".join(str(err).split())  # one line, however the error was worded
            problem = f"this answer cannot be read ({type(err).__name__}: {said[:120]})"
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
        answer = finite_number(answer)
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
        letter = answer.strip().lower().rstrip(")").strip() if isinstance(answer, str) else None
        if letter not in options:
            return (
                f"answer with one letter of {', '.join(options)}, as a string, not {short(answer)}"
            )
        if letter == expected:
            return None
        return (why or {}).get(letter, f"'{letter}' ({options[letter]}) is not it")

    return check


def in_range(value: float, full: tuple[float, float], fast: tuple[float, float], what: str):
    """``None`` when ``value`` lies in the range for the current mode, else what is off. The
    fast range is for one epoch on 4,096 images; both are stated in the message."""
    value = finite_number(value, what)
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
    x = float(x)
    return f"{int(x):,}" if x.is_integer() and abs(x) < LARGEST else f"{x:,.4g}"


def percent(fraction: float) -> str:
    return f"{100 * fraction:.2g}%" if abs(fraction) < 0.01 else f"{100 * fraction:.1f}%"


def val_accuracies(history) -> list[float]:
    """The validation accuracy of every epoch of a history: Keras' ``fit(...).history`` (or the
    ``History`` object ``fit`` returns), or the course's list of epoch dicts."""
    history = getattr(history, "history", history)  # keras.callbacks.History
    if isinstance(history, dict) and "val_accuracy" in history:
        values = sequence(history["val_accuracy"], "a list of validation accuracies")
    elif (
        isinstance(history, (list, tuple))
        and history
        and all(isinstance(row, dict) and "val_accuracy" in row for row in history)
    ):
        values = [row["val_accuracy"] for row in history]
    elif isinstance(history, (numbers.Number, np.number)):
        raise Refusal(
            "a number is not a training run: give the history the training filled in (Keras' "
            "fit(...).history, or the list of epoch dicts), so the check sees every epoch"
        )
    else:
        raise Refusal(
            "expected a history: Keras' fit(...).history (a dict with 'val_accuracy'), or the "
            f"course's list of epoch dicts; got {short(history)}"
        )
    if not values:
        raise Refusal("the history is empty: did the training run?")
    accuracies = [finite_number(v, "a validation accuracy") for v in values]
    if not all(0 <= a <= 1 for a in accuracies):
        raise Refusal(f"an accuracy is a fraction between 0 and 1, got {max(accuracies):g}")
    return accuracies


def own_run(history) -> tuple[float, ...] | None:
    """The validation accuracies of the notebook's own run, copied when the exercises are made,
    so that a learner who empties that history and trains into it again has a new run."""
    if history is None:
        return None
    try:
        return tuple(val_accuracies(history))
    except (Refusal, *UNREADABLE):
        return None


def fresh_run_accuracy(history, own: tuple[float, ...] | None = None) -> float:
    """The last validation accuracy of a run the learner trained: a history covering the
    recipe's epochs, whose accuracies are not ``own``'s, those of the notebook's own run."""
    accuracies = val_accuracies(history)
    epochs = config.recipe().epochs
    if len(accuracies) != epochs:
        raise Refusal(
            f"the history covers {len(accuracies)} epoch(s); this exercise trains for the "
            f"recipe's {epochs} ({config.mode()} mode), in one run"
        )
    if own is not None and tuple(accuracies) == own:
        raise Refusal(
            "these are the numbers of the notebook's own training run, not of a new one: train "
            "the new model (into a new history, or the old one emptied) and give that run's"
        )
    return accuracies[-1]


def numbered(*makers) -> tuple[Exercise, ...]:
    return tuple(make(f"q{number}") for number, make in enumerate(makers, 1))


def make_exercise(title, checker, hint, solution, praise="", expected=None):
    """A maker: the notebook's numbering names the exercise (q1, q2, ...)."""
    return lambda name: Exercise(name, title, checker, hint, solution, praise, expected)
