"""Turning predictions into numbers: per-class accuracy, bias/variance, results JSON files."""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
import stat
import tempfile
from pathlib import Path

import numpy as np

NUM_CLASSES = 10
SCHEMA_VERSION = 2  # 2: a run records its precision


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


# ----------------------------------------------------------------------------- results JSON

#: Required keys of a results file and their types. ``history`` is a list of per-epoch dicts
#: with the keys in HISTORY_KEYS; ``per_class_accuracy`` maps "0".."9" to a fraction.
RESULTS_SCHEMA = {
    "schema": int,  # SCHEMA_VERSION
    "notebook": str,  # e.g. "03_pytorch_sequential", the file's name without .json
    "backend": str,  # e.g. "PyTorch (nn.Sequential)"
    "mode": str,  # "full", "fast" or "bench" (see shared.config.mode)
    "precision": str,  # the arithmetic of the forward pass: one of PRECISIONS
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
MODES = ("full", "fast", "bench")
#: float32 is the recipe; the others mean an autocast (mixed precision) run.
PRECISIONS = ("float32", "bfloat16", "float16")


def _number(value, low=0.0, high=math.inf, above_low=False) -> bool:
    """True for a finite real number in [low, high] (in (low, high] with ``above_low``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return False
    return (value > low if above_low else value >= low) and value <= high


def _value_problems(r: dict) -> list[str]:
    """What is out of range in a results record whose keys and types are right."""
    fraction = "a fraction from 0 to 1"
    problems = []

    def check(ok: bool, what: str, value, expected: str) -> None:
        if not ok:
            problems.append(f"{what} is {value!r:.60}, expected {expected}")

    for key in ("notebook", "backend", "device"):
        check(r[key].strip() != "", key, r[key], "a name")
    check(r["mode"] in MODES, "mode", r["mode"], f"one of {MODES}")
    check(r["precision"] in PRECISIONS, "precision", r["precision"], f"one of {PRECISIONS}")
    check(
        all(isinstance(k, str) and isinstance(v, str) for k, v in r["versions"].items()),
        "versions",
        r["versions"],
        "package names mapped to version strings",
    )
    check(r["parameters"] > 0, "parameters", r["parameters"], "a positive count")
    for key in ("seconds_per_epoch", "images_per_second"):
        check(_number(r[key], above_low=True), key, r[key], "a positive number")
    check(_number(r["test_loss"]), "test_loss", r["test_loss"], "a number of at least 0")
    check(_number(r["test_accuracy"], high=1), "test_accuracy", r["test_accuracy"], fraction)
    per_class = r["per_class_accuracy"]
    check(
        set(per_class) == {str(d) for d in range(NUM_CLASSES)}
        and all(_number(v, high=1) for v in per_class.values()),
        "per_class_accuracy",
        per_class,
        f"digits '0'..'9', each mapped to {fraction}",
    )
    for key in ("train_size", "val_size", "test_size"):
        size = r["split"].get(key)
        check(isinstance(size, int) and size > 0, f"split[{key!r}]", size, "a positive count")
    epochs = r["recipe"].get("epochs")
    check(isinstance(epochs, int) and epochs > 0, "recipe['epochs']", epochs, "a positive count")
    if not r["history"]:
        problems.append("'history' is empty")
    for number, row in enumerate(r["history"], 1):
        if not isinstance(row, dict) or any(k not in row for k in HISTORY_KEYS):
            problems.append(f"every history row needs {HISTORY_KEYS}, got {row!r:.80}")
            break
        where = f"history row {number}: "
        check(row["epoch"] == number, where + "epoch", row["epoch"], str(number))
        for key in ("train_loss", "val_loss"):
            check(_number(row[key]), where + key, row[key], "a number of at least 0")
        for key in ("train_accuracy", "val_accuracy"):
            check(_number(row[key], high=1), where + key, row[key], fraction)
        check(_number(row["seconds"], above_low=True), where + "seconds", row["seconds"], "> 0")
    if problems == [] and len(r["history"]) != epochs:
        problems.append(f"'history' has {len(r['history'])} epochs but the recipe {epochs}")
    return problems


def validate_results(results: dict, source: str = "results") -> dict:
    """Check ``results`` against RESULTS_SCHEMA: every key present, of its type, and in its
    range (fractions in [0, 1], finite numbers, positive times and counts, a known mode and
    precision). Raises one ValueError naming the source and everything that is wrong."""
    if not isinstance(results, dict):
        raise ValueError(f"{source}: expected a JSON object, got {type(results).__name__}.")
    missing = [key for key in RESULTS_SCHEMA if key not in results]
    if "schema" in results and results["schema"] != SCHEMA_VERSION:
        raise ValueError(
            f"{source}: schema {results['schema']}, this code reads {SCHEMA_VERSION}. "
            "Re-run the notebook that wrote it (make run) to write it anew."
        )
    if missing:
        raise ValueError(
            f"{source}: missing keys {missing}. Re-run the notebook that wrote it in full mode."
        )
    for key, kind in RESULTS_SCHEMA.items():
        value = results[key]
        expected = {float: numbers.Real, int: numbers.Integral}.get(kind, kind)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise ValueError(f"{source}: '{key}' should be {kind.__name__}, got {value!r:.60}.")
    problems = _value_problems(results)
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems) + ".")
    return results


def _check_name(path: Path, results: dict) -> None:
    """A results file is named after the notebook that wrote it."""
    if results["notebook"] != path.stem:
        raise ValueError(
            f"{path}: written by notebook {results['notebook']!r}, but named {path.name}. "
            f"Re-run {path.stem} to write its own results (or delete this copy)."
        )


def collect_results(
    *,
    notebook,
    backend,
    versions,
    device,
    precision,
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

    ``precision`` is ``"float32"``, or the autocast type of a mixed-precision run
    (``"bfloat16"``): every notebook states it, because a bfloat16 run is another experiment.
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
        "precision": precision,
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
    from . import config

    path = Path(path)
    validate_results(results, str(path))
    _check_name(path, results)
    text = json.dumps(results, indent=2, sort_keys=True, default=_to_builtin, allow_nan=False)
    return write_atomic(path, text + "\n", advice=f", or set {config.RESULTS_ENV}")


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically: see ``write_atomic``."""
    return write_atomic(path, text)


def write_atomic(path: str | Path, content: str | bytes, advice: str = "") -> Path:
    """Write ``content`` to a temporary file beside ``path``, then rename it over ``path``:
    readers see the old file or the new one, never half of one. The new file keeps the old
    one's permissions (a new file gets the usual ones for this user's umask, e.g. rw-r--r--).

    A folder that cannot be written gives one clear error; ``advice`` is added to it (for
    example ``", or set FORCE_CNN_RESULTS_DIR"``).
    """
    path = Path(path)
    mode = _file_mode(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise RuntimeError(
            f"Cannot write {path} ({err.strerror or err}): make {path.parent} writable{advice}."
        ) from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _file_mode(path: Path) -> int:
    """The permission bits of ``path``, or those a new file gets under the current umask.
    (A temporary file is created owner-only, so they are set explicitly.)"""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)  # reading the umask means setting it; put it straight back
        os.umask(umask)
        return 0o666 & ~umask


def save_results(results: dict) -> Path:
    """Write ``results`` to ``<results dir>/<notebook>.json`` (see shared.config.results_dir)."""
    from . import config

    return write_results(config.results_dir() / f"{results['notebook']}.json", results)


def check_results_writable(folder: str | Path | None = None) -> Path:
    """Make sure results can be saved in ``folder`` (default: ``config.results_dir()``) before
    a long training run starts, rather than fail after it. Returns the folder."""
    from . import config

    folder = Path(folder) if folder is not None else config.results_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise RuntimeError(
            f"Cannot save results in {folder} ({err.strerror or err}): make it writable or set "
            f"{config.RESULTS_ENV} to a folder you can write to, before training starts."
        ) from None
    return folder


def read_results(path: str | Path) -> dict:
    """Read and validate a results file; a clear error when it is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist. Run the notebook that writes it in full mode (make run)."
        )
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON ({err}). Re-run its notebook.") from None
    except OSError as err:
        raise ValueError(f"Cannot read {path} ({err.strerror or err}).") from None
    validate_results(results, str(path))
    _check_name(path, results)
    return results


def read_measurement(path: str | Path, keys=()) -> dict | None:
    """A measurement file that ``make bench`` or ``make levers`` wrote (``results/bench.json``,
    ``results/levers.json``): None when there is none yet, a ValueError that names the file
    and says what to do when it is damaged or lacks one of ``keys``."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        problem = str(err)
    else:
        missing = [k for k in keys if k not in record] if isinstance(record, dict) else None
        if missing is None:
            problem = f"a JSON object was expected, got {type(record).__name__}"
        elif missing:
            problem = f"{', '.join(missing)} missing"
        else:
            return record
    raise ValueError(f"{path} is damaged ({problem}): run `make {path.stem}` to measure again.")


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


#: The course's committed full-run results (``results/*.json``), shipped inside this package so
#: that notebook 07 has them where no ``results/`` folder is next to it, as on Colab.
COMMITTED_RESULTS = Path(__file__).resolve().parent / "course-results"


def has_all_results(folder: str | Path, notebooks=None) -> bool:
    """True when ``folder`` holds a results file for every backend notebook."""
    from . import catalogue

    notebooks = catalogue.backend_names() if notebooks is None else tuple(notebooks)
    return all((Path(folder) / f"{name}.json").is_file() for name in notebooks)


def runs_from_this_runtime(folder: str | Path, notebooks=None) -> list[dict]:
    """The backend results files that runs in this runtime wrote to ``folder`` (any number of
    them, in course order), each with `` (this runtime)`` added to its backend's name."""
    from . import catalogue

    notebooks = catalogue.backend_names() if notebooks is None else tuple(notebooks)
    found = [Path(folder) / f"{name}.json" for name in notebooks]
    return [
        {**run, "backend": f"{run['backend']} (this runtime)"}
        for run in (read_results(path) for path in found if path.is_file())
    ]


def experiment_mismatches(results: list[dict], reference: dict | None = None) -> list[str]:
    """Where runs did not share one experiment: recipe, split, mode, precision or model size.

    ``reference`` defaults to the first run. Returns readable lines, empty when all agree.
    """
    if not results:
        raise ValueError("no results to compare.")
    reference = reference or results[0]
    problems = []
    for r in results:
        for key in ("recipe", "split", "mode", "precision", "parameters"):
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
