"""The exercises of notebook 09."""

from __future__ import annotations

import math

from .. import config
from .core import Exercise, make_exercise, number, numbered, solution_code

SGD_RATE = 0.01  # the SGD rate on batches of 128 that exercise 1 scales
WORKERS = 4  # exercise 1's GPUs and exercise 3's ring
PARAMETERS = 1_199_882


def _pair(answer, what: str) -> tuple[float, float]:
    """Two finite numbers, or a ValueError that says what was expected."""
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__") or len(answer) != 2:
        raise ValueError(f"expected {what}, a pair of numbers, got {answer!r:.60}")
    values = []
    for item in answer:
        if isinstance(item, (bool, str, bytes)):
            raise ValueError(f"expected {what}, a pair of numbers, got {answer!r:.60}")
        value = float(item)  # a TypeError or ValueError here is reported by the check
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a learning rate or a weight: expected {what}")
        values.append(value)
    return values[0], values[1]


def _close(value: float, expected: float) -> bool:
    return abs(value - expected) <= 1e-6 * max(abs(expected), 1e-12)


def _check_rates(peak_rate: float):
    def check(answer) -> str | None:
        sgd, adam = _pair(answer, "(sgd_rate, adam_rate)")
        problems = []
        if not _close(sgd, WORKERS * SGD_RATE):
            ratio = sgd / SGD_RATE
            problems.append(
                f"the SGD rate is {ratio:.3g}× the rate for 128 images; linear scaling "
                f"multiplies it by the batch's growth, {WORKERS}"
            )
        if not _close(adam, math.sqrt(WORKERS) * peak_rate):
            ratio = adam / peak_rate
            problems.append(
                f"the Adam rate is {ratio:.3g}× the course's {peak_rate:g}; square-root "
                f"scaling multiplies it by √{WORKERS}"
            )
        return "; ".join(problems) or None

    return check


def _check_weights(answer) -> str | None:
    big, small = _pair(answer, "(weight_of_the_96, weight_of_the_32)")
    if _close(big, 0.75) and _close(small, 0.25):
        return None
    if _close(big, 0.5) and _close(small, 0.5):
        return (
            "a plain average gives the 32 images' mean as much say as the 96 images' mean: "
            "weigh each share by its part of the batch"
        )
    if _close(big, 96) and _close(small, 32):
        return "those are the image counts; divide them by the batch's 128"
    return (
        f"{big:g} × the 96 images' mean gradient + {small:g} × the 32 images' is not the "
        "mean over all 128: each mean stands for its images, so weigh it by their share"
    )


def _finite_count(expected: int, why: str):
    exact = number(expected, why=why)

    def check(answer) -> str | None:
        if isinstance(answer, (int, float)) and not math.isfinite(answer):
            return f"{answer} is not a number of values: count what one worker sends"
        return exact(answer)

    return check


def exercises(**_) -> tuple[Exercise, ...]:
    peak_rate = config.FULL_RECIPE.peak_learning_rate
    ring = 2 * (WORKERS - 1) * PARAMETERS // WORKERS
    return numbered(
        make_exercise(
            "A larger global batch",
            _check_rates(peak_rate),
            f"The batch grows {WORKERS} times (512 / 128). Linear scaling multiplies SGD's "
            f"rate by {WORKERS}; square-root scaling multiplies Adam's by √{WORKERS}.",
            solution_code("""
                recipe = config.FULL_RECIPE
                growth = 512 / recipe.batch_size
                answer = (0.01 * growth, recipe.peak_learning_rate * growth**0.5)
                print(f"SGD {answer[0]:g}, Adam {answer[1]:g}")
            """),
            "four times the batch, four times SGD's rate and twice Adam's; then measure, "
            "since neither rule holds for every batch size.",
        ),
        make_exercise(
            "Unequal shares",
            _check_weights,
            "The whole batch's loss is the sum of the 128 losses / 128. The 96 images' mean "
            "is their sum / 96, so their sum is 96 × that mean; likewise for the 32.",
            solution_code("""
                answer = (96 / 128, 32 / 128)
                big = gradients(images[:96], labels[:96])
                small = gradients(images[96:], labels[96:])
                combined = [answer[0] * a + answer[1] * b for a, b in zip(big, small)]
                difference = largest_difference(combined, whole)
                print(f"largest difference vs the whole batch: {difference:.1e}")
            """),
            "each share's mean gradient counts as much as its images: 96/128 and 32/128. This "
            "is also why frameworks give every worker the same share when they can.",
        ),
        make_exercise(
            "What the ring sends",
            _finite_count(ring, why=f"each worker sends 2 × ({WORKERS} - 1) chunks of 1/{WORKERS}"),
            f"In each of the 2 × ({WORKERS} - 1) rounds a worker sends one chunk, a "
            f"{WORKERS}th of the vector.",
            solution_code("""
                vectors = [np.ones(parameters, dtype=np.float32) for _ in range(4)]
                _, answer = ring_all_reduce(vectors)
                print(f"{answer:,} values, {answer / parameters:.2f} x the gradients")
            """),
            f"{ring:,} values, 1.5 times the gradients with four workers: 2 (k - 1) / k of "
            "them, never twice, however many workers.",
        ),
    )
