"""Turning predictions into numbers: per-class accuracy, the confusion counts, the bias/variance
diagnosis, softmax, the most confident mistakes, and the one line printed per epoch.

Plain NumPy in, plain values out (``per_class_accuracy`` returns a pandas table); the notebooks
01-06 call these after training, 00 explains the diagnosis.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

NUM_CLASSES = 10
#: The keys of one epoch's row of a training history, as every notebook records it.
HISTORY_KEYS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")


def check_labels(name: str, values, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """``values`` as a 1-D int array of class ids in [0, num_classes), or a clear ValueError."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class ids, got shape {array.shape}.")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"{name} must hold integer class ids, got dtype {array.dtype} "
            "(use argmax over the logits to turn scores into classes)."
        )
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(
            f"{name} must lie in [0, {num_classes - 1}], got {array.min()}..{array.max()}."
        )
    return array.astype(np.int64)


def check_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = check_labels("y_true", y_true)
    y_pred = check_labels("y_pred", y_pred)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(
            f"y_true and y_pred must be non-empty and of equal length, got {y_true.size} "
            f"and {y_pred.size}."
        )
    return y_true, y_pred


def confusion_counts(y_true, y_pred, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Confusion matrix: row = true class, column = predicted class."""
    y_true, y_pred = check_pair(y_true, y_pred)
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def per_class_accuracy(y_true, y_pred):
    """A table (pandas DataFrame) with, per digit: images, correct, errors and accuracy in %."""
    import pandas as pd

    counts = confusion_counts(y_true, y_pred)
    images = counts.sum(axis=1)
    correct = np.diag(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(images > 0, 100.0 * correct / np.maximum(images, 1), np.nan)
    table = pd.DataFrame(
        {
            "images": images,
            "correct": correct,
            "errors": images - correct,
            "accuracy %": np.round(accuracy, 2),
        },
        index=pd.Index(range(NUM_CLASSES), name="digit"),
    )
    return table


@dataclasses.dataclass(frozen=True)
class Diagnosis:
    """Bias/variance from training, dev and Bayes error (fractions, e.g. 0.01 for 1%).

    ``standard_error`` is the standard error of the variance (the dev - training gap) when the
    numbers of images behind the two errors are known, else None.
    """

    train_error: float
    dev_error: float
    bayes_error: float
    avoidable_bias: float
    variance: float
    verdict: str
    advice: str
    tolerance: float = 0.02
    standard_error: float | None = None
    train_images: int | None = None
    dev_images: int | None = None

    def __str__(self) -> str:
        pct = lambda x: f"{100 * x:.2f}%"  # noqa: E731
        lines = [
            f"training error {pct(self.train_error)}, dev error {pct(self.dev_error)}, "
            f"Bayes error {pct(self.bayes_error)}",
            f"avoidable bias {pct(self.avoidable_bias)}, variance {pct(self.variance)}",
        ]
        if self.standard_error is None:
            lines.append(f"verdict: {self.verdict}. {self.advice}")
            return "\n".join(lines)
        lines[1] += (
            f" ± {pct(self.standard_error)} (one standard error: {self.train_images:,} training "
            f"and {self.dev_images:,} dev images)"
        )
        if self.variance < 0:
            lines.append(
                "The variance is negative: the dev error came out below the training error. "
                "Nothing makes a model better on images it has not trained on, so a gap like "
                "this is measurement noise (or a dev set that happens to be easier)."
            )
        lines.append(
            f"verdict (a gap counts as high above {100 * self.tolerance:.1f} points and above two "
            f"standard errors): {self.verdict}. {self.advice}"
        )
        return "\n".join(lines)


def _count(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive whole number of images, got {value!r}.")
    return value


def diagnose(
    train_error: float,
    dev_error: float,
    bayes_error: float = 0.0,
    tolerance: float = 0.02,
    train_images: int | None = None,
    dev_images: int | None = None,
) -> Diagnosis:
    """Bias/variance diagnosis.

    Avoidable bias = training error - Bayes error; variance = dev error - training error. Either
    counts as high when it exceeds ``tolerance`` (2 percentage points by default).

    Give ``train_images`` and ``dev_images``, the numbers of images each error was measured on,
    and the diagnosis also reports the standard error of the variance,
    sqrt(p_t (1 - p_t) / n_t + p_d (1 - p_d) / n_d), counts the variance as high only when it
    exceeds two standard errors as well, and draws no advice from a gap within that noise.
    """
    for name, value in (
        ("train_error", train_error),
        ("dev_error", dev_error),
        ("bayes_error", bayes_error),
        ("tolerance", tolerance),
    ):
        if not isinstance(value, (int, float)) or math.isnan(value) or not 0 <= value <= 1:
            raise ValueError(
                f"{name} must be a fraction between 0 and 1 (e.g. 0.05 for 5%), got {value!r}."
            )
    train_images = _count("train_images", train_images)
    dev_images = _count("dev_images", dev_images)
    if (train_images is None) != (dev_images is None):
        raise ValueError("give both train_images and dev_images, or neither.")
    if train_error < bayes_error:
        raise ValueError(
            f"train_error ({train_error}) is below the Bayes error ({bayes_error}): the Bayes "
            "error is the lowest error any model can reach, so one of them is wrong."
        )
    standard_error = None
    noise = 0.0
    if train_images is not None:
        standard_error = math.sqrt(
            train_error * (1 - train_error) / train_images
            + dev_error * (1 - dev_error) / dev_images
        )
        noise = 2 * standard_error
    avoidable_bias = train_error - bayes_error
    variance = dev_error - train_error
    high_bias = avoidable_bias > tolerance
    high_variance = variance > max(tolerance, noise)
    if high_bias and high_variance:
        verdict = "high bias and high variance (underfits and overfits)"
        advice = "Fix the bias first (bigger model, train longer), then the variance."
    elif high_bias:
        verdict = "high bias (underfitting)"
        advice = "Try a bigger model, longer training or a better optimizer."
    elif high_variance:
        verdict = "high variance (overfitting)"
        advice = "Try more data, augmentation or stronger regularisation (dropout, weight decay)."
    else:
        verdict = "good fit: low bias and low variance"
        if standard_error is not None and abs(variance) <= noise:
            advice = "The dev - training gap is within two standard errors of zero, so these "
            advice += "images cannot tell whether there is any variance: no advice follows from it."
        elif variance > avoidable_bias:
            advice = "Both gaps are small; the larger one is variance, so more data, augmentation "
            advice += "or regularisation would help most."
        else:
            advice = "Both gaps are small; the larger one is bias, so a bigger model or longer "
            advice += "training would help most."
    return Diagnosis(
        train_error,
        dev_error,
        bayes_error,
        avoidable_bias,
        variance,
        verdict,
        advice,
        tolerance,
        standard_error,
        train_images,
        dev_images,
    )


def softmax(logits) -> np.ndarray:
    """Row-wise softmax of (N, classes) scores, computed stably in float64."""
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2 or logits.shape[0] == 0:
        raise ValueError(f"logits must be a non-empty (N, classes) array, got {logits.shape}.")
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def most_confident_mistakes(logits, y_true, count: int = 10) -> np.ndarray:
    """Indices of the wrong predictions the model was most sure of, surest first."""
    probabilities = softmax(logits)
    y_true = check_labels("y_true", y_true, probabilities.shape[1])
    if len(y_true) != len(probabilities):
        raise ValueError(f"got {len(probabilities)} rows of logits but {len(y_true)} labels.")
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:count]


def epoch_line(row: dict, epochs: int) -> str:
    """One readable line per epoch, the same in every notebook."""
    missing = [k for k in HISTORY_KEYS if k not in row]
    if missing:
        raise ValueError(f"an epoch row needs {HISTORY_KEYS}; {missing} missing.")
    return (
        f"epoch {row['epoch']}/{epochs}  "
        f"train loss {row['train_loss']:.4f} acc {100 * row['train_accuracy']:.2f}%  |  "
        f"val loss {row['val_loss']:.4f} acc {100 * row['val_accuracy']:.2f}%  |  "
        f"{row['seconds']:.1f} s"
    )
