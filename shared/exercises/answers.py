"""Reading a learner's answer: numbers, shapes and arrays in any reasonable form (int or float,
list, tuple, NumPy array, a framework's shape or scalar), refused with one clear sentence when
they cannot be right (NaN, infinities, absurd sizes, the wrong type)."""

from __future__ import annotations

import math
import numbers
import reprlib

import numpy as np


class Refusal(ValueError):
    """An answer in a form the check cannot use; the message says what form to give."""


#: What reading an odd answer can raise; the learner gets one sentence instead of a traceback.
UNREADABLE = (
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    ZeroDivisionError,
)

#: Larger than any count or shape an exercise asks for: bigger numbers are refused, not printed.
LARGEST = 1e15


def short(answer) -> str:
    """A short repr of any answer, even a huge array or a very long list."""
    text = (
        reprlib.repr(answer) if not isinstance(answer, np.ndarray) else f"an array {answer.shape}"
    )
    return text if len(text) <= 60 else text[:57] + "..."


def _scalar(answer):
    """A plain Python number from an int, a float, a NumPy scalar or a one-element array
    (a framework's scalar tensor converts the same way)."""
    if isinstance(answer, (bool, np.bool_)):
        raise Refusal(f"expected a number, got {answer!r}: True and False are not numbers here")
    if isinstance(answer, numbers.Number):
        return answer
    if isinstance(answer, (str, bytes, dict, list, tuple, set)):
        raise Refusal(f"expected one number, got {short(answer)}")
    if hasattr(answer, "numpy") and not isinstance(answer, np.ndarray):
        answer = answer.numpy()  # a TensorFlow tensor
    try:
        array = np.asarray(answer)
    except UNREADABLE:
        raise Refusal(f"expected one number, got {short(answer)}") from None
    if array.size != 1 or array.dtype.kind not in "iuf":
        raise Refusal(f"expected one number, got {short(answer)}")
    return array.item()


def finite_number(answer, what: str = "the answer") -> float:
    """``answer`` as a float; NaN, infinities and absurdly large numbers are refused."""
    value = _scalar(answer)
    if isinstance(value, complex):
        raise Refusal(f"{what} is a complex number, {value}: expected a real one")
    if isinstance(value, numbers.Integral) and abs(value) > LARGEST:
        raise Refusal(f"{what} is a number with {len(str(abs(int(value))))} digits: far too large")
    value = float(value)
    if math.isnan(value):
        raise Refusal(f"{what} is NaN (not a number): something in the computation went wrong")
    if math.isinf(value) or abs(value) > LARGEST:
        raise Refusal(
            f"{what} is {value:g}: far too large, something in the computation overflowed"
        )
    return value


def whole_number(answer, what: str = "the answer") -> int:
    value = finite_number(answer, what)
    if not value.is_integer():
        raise Refusal(f"{what} should be a whole number, got {value:g}")
    return int(value)


def sequence(answer, what: str) -> list:
    """The items of a list, tuple, NumPy array or framework shape (``torch.Size``)."""
    if isinstance(answer, (str, bytes, dict, set)) or not hasattr(answer, "__len__"):
        raise Refusal(f"expected {what}, got {short(answer)}")
    if hasattr(answer, "numpy") and not isinstance(answer, np.ndarray):
        answer = answer.numpy()
    if isinstance(answer, np.ndarray) and answer.ndim != 1:
        raise Refusal(f"expected {what}, got an array of shape {answer.shape}")
    return list(answer)


def numbers_of(answer, count: int, what: str) -> list[float]:
    """Exactly ``count`` finite numbers, as a tuple, list or 1-D array."""
    items = sequence(answer, what)
    if len(items) != count:
        raise Refusal(f"expected {what}: {count} numbers, got {len(items)}")
    return [finite_number(item, f"number {i} of the answer") for i, item in enumerate(items, 1)]


def shape_of(answer, what: str = "a shape, a tuple of whole numbers") -> tuple[int, ...]:
    """A shape: a tuple, list, 1-D array or ``torch.Size`` of positive whole numbers."""
    if (
        isinstance(answer, np.ndarray)
        and answer.ndim != 1
        or (
            hasattr(answer, "shape")
            and not isinstance(answer, np.ndarray)
            and answer.shape != ()
            and not isinstance(answer, tuple)
            and hasattr(answer, "dtype")
        )
    ):
        raise Refusal(f"that is an array of shape {tuple(answer.shape)}: give its shape, not it")
    items = sequence(answer, what)
    if not 1 <= len(items) <= 8:
        raise Refusal(f"expected {what}, got {len(items)} numbers")
    dims = tuple(whole_number(d, "a size in the shape") for d in items)
    if min(dims) < 1:
        raise Refusal(f"the shape {dims} has a size below 1")
    return dims


def finite_array(answer, what: str, largest: int = 10**7) -> np.ndarray:
    """A float array with only finite values (a list of lists, an array, a tensor's .numpy())."""
    if isinstance(answer, (str, bytes, dict, set)) or answer is None:
        raise Refusal(f"expected {what}, got {short(answer)}")
    if hasattr(answer, "numpy") and not isinstance(answer, np.ndarray):
        answer = answer.numpy()
    try:
        array = np.asarray(answer, dtype=float)
    except UNREADABLE:
        raise Refusal(f"expected {what} of numbers, got {short(answer)}") from None
    if array.size > largest:
        raise Refusal(f"expected {what}, got {array.size:,} values, far more than it holds")
    if not np.isfinite(array).all():
        raise Refusal(
            f"{what} holds NaN or infinite values: something went wrong in the computation"
        )
    return array
