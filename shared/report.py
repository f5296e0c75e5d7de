"""Turning predictions into numbers: per-class accuracy, bias/variance, results JSON files."""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
import tempfile
from pathlib import Path

import numpy as np

NUM_CLASSES = 10
SCHEMA_VERSION = 1


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
    """Bias/variance from training, dev and Bayes error (fractions, e.g. 0.01 for 1%)."""

    train_error: float
    dev_error: float
    bayes_error: float
    avoidable_bias: float
    variance: float
    verdict: str
    advice: str

    def __str__(self) -> str:
        pct = lambda x: f"{100 * x:.2f}%"  # noqa: E731
        return (
            f"training error {pct(self.train_error)}, dev error {pct(self.dev_error)}, "
            f"Bayes error {pct(self.bayes_error)}\n"
            f"avoidable bias {pct(self.avoidable_bias)}, variance {pct(self.variance)}\n"
            f"verdict: {self.verdict}. {self.advice}"
        )


def diagnose(
    train_error: float, dev_error: float, bayes_error: float = 0.0, tolerance: float = 0.02
) -> Diagnosis:
    """Bias/variance diagnosis.

    Avoidable bias = training error - Bayes error; variance = dev error - training error. Either
    counts as high when it exceeds ``tolerance`` (2 percentage points by default).
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
    if train_error < bayes_error:
        raise ValueError(
            f"train_error ({train_error}) is below the Bayes error ({bayes_error}): the Bayes "
            "error is the lowest error any model can reach, so one of them is wrong."
        )
    avoidable_bias = train_error - bayes_error
    variance = dev_error - train_error
    high_bias = avoidable_bias > tolerance
    high_variance = variance > tolerance
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
        if variance > avoidable_bias:
            advice = "Both gaps are small; the larger one is variance, so more data, augmentation "
            advice += "or regularisation would help most."
        else:
            advice = "Both gaps are small; the larger one is bias, so a bigger model or longer "
            advice += "training would help most."
    return Diagnosis(train_error, dev_error, bayes_error, avoidable_bias, variance, verdict, advice)


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


# ----------------------------------------------------------------------------- results JSON

#: Required keys of a results file and their types. ``history`` is a list of per-epoch dicts
#: with the keys in HISTORY_KEYS; ``per_class_accuracy`` maps "0".."9" to a fraction.
RESULTS_SCHEMA = {
    "schema": int,  # SCHEMA_VERSION
    "notebook": str,  # e.g. "03_pytorch_sequential"
    "backend": str,  # e.g. "PyTorch (nn.Sequential)"
    "mode": str,  # "full", "fast" or "bench" (see shared.config.mode)
    "versions": dict,  # package -> version
    "device": str,  # e.g. "CPU: AMD EPYC, 2 cores"
    "recipe": dict,  # shared.config.Recipe.to_dict()
    "split": dict,  # shared.data.Splits.split_info()
    "parameters": int,
    "history": list,
    "seconds_per_epoch": float,  # mean wall time of a training epoch
    "images_per_second": float,  # training images per second
    "test_loss": float,
    "test_accuracy": float,  # fraction
    "per_class_accuracy": dict,
}
HISTORY_KEYS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")


def validate_results(results: dict, source: str = "results") -> dict:
    """Check ``results`` against RESULTS_SCHEMA; raise ValueError naming what is wrong."""
    if not isinstance(results, dict):
        raise ValueError(f"{source}: expected a JSON object, got {type(results).__name__}.")
    missing = [key for key in RESULTS_SCHEMA if key not in results]
    if missing:
        raise ValueError(
            f"{source}: missing keys {missing}. Re-run the notebook that wrote it in full mode."
        )
    for key, kind in RESULTS_SCHEMA.items():
        value = results[key]
        expected = {float: numbers.Real, int: numbers.Integral}.get(kind, kind)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ValueError(f"{source}: '{key}' should be {kind.__name__}, got {value!r:.60}.")
    if results["schema"] != SCHEMA_VERSION:
        raise ValueError(f"{source}: schema {results['schema']}, this code reads {SCHEMA_VERSION}.")
    if not results["history"]:
        raise ValueError(f"{source}: 'history' is empty.")
    for row in results["history"]:
        if not isinstance(row, dict) or any(k not in row for k in HISTORY_KEYS):
            raise ValueError(f"{source}: every history row needs {HISTORY_KEYS}, got {row!r:.80}.")
    if not 0 <= results["test_accuracy"] <= 1:
        raise ValueError(
            f"{source}: test_accuracy must be a fraction, got {results['test_accuracy']}."
        )
    return results


def collect_results(
    *,
    notebook,
    backend,
    versions,
    device,
    recipe,
    splits,
    parameters,
    history,
    test_loss,
    test_accuracy,
    y_true,
    y_pred,
    mode,
) -> dict:
    """Everything a results file records, from what a notebook has at its end.

    ``recipe`` is a ``shared.config.Recipe``, ``splits`` a ``shared.data.Splits``; the training
    set size is the number of images actually trained on (``recipe.train_limit`` in fast mode).
    """
    per_class = per_class_accuracy(y_true, y_pred)["accuracy %"] / 100
    train_images = recipe.train_limit or len(splits.train_y)
    seconds = [row["seconds"] for row in history]
    split = splits.split_info()
    split["train_size"] = int(train_images)
    results = {
        "schema": SCHEMA_VERSION,
        "notebook": notebook,
        "backend": backend,
        "mode": mode,
        "versions": {name: str(v) for name, v in versions.items()},
        "device": device,
        "recipe": recipe.to_dict(),
        "split": split,
        "parameters": int(parameters),
        "history": [
            {k: float(v) if k != "epoch" else int(v) for k, v in r.items()} for r in history
        ],
        "seconds_per_epoch": float(np.mean(seconds)) if seconds else 0.0,
        "images_per_second": float(train_images / np.mean(seconds)) if seconds else 0.0,
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "per_class_accuracy": {str(d): float(a) for d, a in per_class.items()},
    }
    return validate_results(results, notebook)


def write_results(path: str | Path, results: dict) -> Path:
    """Validate and write ``results`` as JSON, atomically (temp file + rename)."""
    path = Path(path)
    validate_results(results, str(path))
    text = json.dumps(results, indent=2, sort_keys=True, default=_to_builtin) + "\n"
    return write_text_atomic(path, text)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``:
    readers see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_results(results: dict) -> Path:
    """Write ``results`` to ``<results dir>/<notebook>.json`` (see shared.config.results_dir)."""
    from . import config

    return write_results(config.results_dir() / f"{results['notebook']}.json", results)


def read_results(path: str | Path) -> dict:
    """Read and validate a results file; a clear error when it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist. Run the notebook that writes it in full mode (make run)."
        )
    try:
        results = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}). Re-run its notebook.") from err
    return validate_results(results, str(path))


def load_all_results(folder: str | Path, notebooks=None) -> list[dict]:
    """The results file of every backend notebook in ``folder``, in course order.

    ``notebooks`` defaults to the backends listed in ``shared.catalogue``.

    Raises one error listing every file that is missing or malformed, and what to do.
    """
    from . import catalogue

    notebooks = catalogue.backend_names() if notebooks is None else tuple(notebooks)
    folder = Path(folder)
    loaded, problems = [], []
    for name in notebooks:
        try:
            loaded.append(read_results(folder / f"{name}.json"))
        except (FileNotFoundError, ValueError) as err:
            problems.append(str(err))
    if problems:
        raise RuntimeError(
            f"{len(problems)} of {len(notebooks)} results files in {folder} cannot be used:\n  "
            + "\n  ".join(problems)
            + "\nRun those notebooks in full mode (make run) to write them."
        )
    return loaded


def experiment_mismatches(results: list[dict], reference: dict | None = None) -> list[str]:
    """Where runs did not share one experiment: recipe, split, mode or model size.

    ``reference`` defaults to the first run. Returns readable lines, empty when all agree.
    """
    if not results:
        raise ValueError("no results to compare.")
    reference = reference or results[0]
    problems = []
    for r in results:
        for key in ("recipe", "split", "mode", "parameters"):
            if r[key] != reference[key]:
                if isinstance(r[key], dict):
                    keys = sorted(
                        k
                        for k in set(r[key]) | set(reference[key])
                        if r[key].get(k) != reference[key].get(k)
                    )
                    detail = ", ".join(
                        f"{k}={r[key].get(k)!r} (expected {reference[key].get(k)!r})" for k in keys
                    )
                else:
                    detail = f"{r[key]!r} (expected {reference[key]!r})"
                problems.append(f"{r['notebook']}: {key} differs: {detail}")
    return problems


def _to_builtin(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a results file")
