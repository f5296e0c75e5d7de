"""The course's pictures. Every function returns a matplotlib Figure and shows nothing itself:
a notebook displays the Figure it gets back, a test just inspects it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .report import HISTORY_KEYS, NUM_CLASSES, check_labels, confusion_counts

RIGHT, WRONG = "#1a7f37", "#cf222e"


def _as_images(images) -> np.ndarray:
    """(N, 28, 28), (N, 28, 28, 1) or (N, 1, 28, 28) numbers -> (N, H, W)."""
    array = np.asarray(images)
    if array.ndim == 4 and 1 in (array.shape[1], array.shape[-1]):
        array = array.reshape(array.shape[0], *[d for d in array.shape[1:] if d != 1][-2:])
    if array.ndim != 3 or array.shape[0] == 0 or not np.issubdtype(array.dtype, np.number):
        raise ValueError(
            "images must be a non-empty numeric array of shape (N, H, W), (N, H, W, 1) or "
            f"(N, 1, H, W), got {array.dtype} {array.shape}."
        )
    return array


def _finish(fig):
    plt.close(fig)  # the notebook shows the returned Figure once; pyplot keeps no copy
    return fig


def digit_grid(images, labels, predictions=None, columns: int = 10, title: str | None = None):
    """A grid of digits titled by their label; with ``predictions``, titled
    ``predicted (true)`` in green when right and red when wrong."""
    images = _as_images(images)
    labels = check_labels("labels", labels)
    if len(labels) != len(images):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels.")
    if predictions is not None:
        predictions = check_labels("predictions", predictions)
        if len(predictions) != len(images):
            raise ValueError(f"got {len(images)} images but {len(predictions)} predictions.")
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}.")
    columns = min(columns, len(images))
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns, 1.3 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        ax.imshow(images[i], cmap="gray_r")
        if predictions is None:
            ax.set_title(str(labels[i]), fontsize=10)
        else:
            right = predictions[i] == labels[i]
            ax.set_title(
                f"{predictions[i]} ({labels[i]})", fontsize=10, color=RIGHT if right else WRONG
            )
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _finish(fig)


def digit_pixels(image, label=None):
    """One digit, large, with every pixel's value written on it."""
    image = _as_images(np.asarray(image)[None])[0]
    fig, ax = plt.subplots(figsize=(9, 9))
    ax.imshow(image, cmap="gray_r")
    threshold = (image.max() + image.min()) / 2
    for (row, col), value in np.ndenumerate(image):
        text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
        ax.text(
            col,
            row,
            text,
            ha="center",
            va="center",
            fontsize=5.5,
            color="white" if value > threshold else "black",
        )
    ax.set_xticks([])
    ax.set_yticks([])
    if label is not None:
        ax.set_title(f"label: {label}")
    return _finish(fig)


def _history_columns(history) -> dict:
    if isinstance(history, dict):
        columns = {k: list(v) for k, v in history.items()}
    elif isinstance(history, (list, tuple)) and all(isinstance(r, dict) for r in history):
        columns = {k: [row.get(k) for row in history] for k in HISTORY_KEYS}
    else:
        raise ValueError("history must be a list of per-epoch dicts or a dict of lists.")
    needed = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")
    missing = [k for k in needed if k not in columns or not columns[k]]
    if missing:
        raise ValueError(f"history lacks {missing}; it needs {needed}.")
    if len({len(columns[k]) for k in needed}) != 1:
        raise ValueError("history columns have different lengths.")
    return columns


def learning_curves(history, title: str | None = None):
    """Accuracy and loss per epoch, training vs validation."""
    columns = _history_columns(history)
    epochs = np.arange(1, len(columns["train_loss"]) + 1)
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, metric in ((acc_ax, "accuracy"), (loss_ax, "loss")):
        ax.plot(epochs, columns[f"train_{metric}"], "o-", label="training")
        ax.plot(epochs, columns[f"val_{metric}"], "s-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _finish(fig)


def confusion_matrix(y_true, y_pred, title: str | None = None):
    """Counts of (true, predicted) pairs; the diagonal is what the model got right."""
    counts = confusion_counts(y_true, y_pred)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    image = ax.imshow(np.log1p(counts), cmap="Blues")
    for (row, col), value in np.ndenumerate(counts):
        if value:
            ax.text(
                col,
                row,
                str(value),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if row == col else "black",
            )
    ax.set_xticks(range(NUM_CLASSES))
    ax.set_yticks(range(NUM_CLASSES))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title or "Confusion matrix")
    fig.colorbar(image, ax=ax, label="log(1 + count)")
    fig.tight_layout()
    return _finish(fig)


def per_class_bars(accuracies, title: str | None = None):
    """Accuracy per digit as bars; ``accuracies`` are one fraction or percentage per class."""
    values = np.asarray(accuracies, dtype=float)
    shape_ok = values.shape == (NUM_CLASSES,)
    if not shape_ok or np.isnan(values).any() or values.min() < 0 or values.max() > 100:
        raise ValueError(
            f"accuracies must be {NUM_CLASSES} numbers in [0, 1] or [0, 100], got {values!r}."
        )
    if values.max() <= 1:
        values = values * 100
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bars = ax.bar(range(NUM_CLASSES), values, color="#4c72b0")
    ax.bar_label(bars, fmt="%.1f", fontsize=8)
    ax.set_xticks(range(NUM_CLASSES))
    ax.set_xlabel("digit")
    ax.set_ylabel("accuracy %")
    ax.set_ylim(max(0.0, values.min() - 3), 100.5)
    ax.set_title(title or "Accuracy per digit")
    fig.tight_layout()
    return _finish(fig)


def _check_runs(results) -> list:
    if not isinstance(results, (list, tuple)) or not results:
        raise ValueError("results must be a non-empty list of results dicts (see shared.report).")
    for r in results:
        if not isinstance(r, dict) or "backend" not in r or "history" not in r:
            raise ValueError("every result needs 'backend' and 'history' (see shared.report).")
    return list(results)


def compare_learning_curves(results):
    """Validation accuracy and training loss per epoch, one line per backend."""
    results = _check_runs(results)
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(12, 4))
    for r in results:
        columns = _history_columns(r["history"])
        epochs = np.arange(1, len(columns["val_accuracy"]) + 1)
        acc_ax.plot(epochs, 100 * np.asarray(columns["val_accuracy"]), "o-", label=r["backend"])
        loss_ax.plot(epochs, columns["train_loss"], "o-", label=r["backend"])
    acc_ax.set_ylabel("validation accuracy %")
    loss_ax.set_ylabel("training loss")
    loss_ax.set_yscale("log")
    for ax in (acc_ax, loss_ax):
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    acc_ax.legend(fontsize=8)
    fig.tight_layout()
    return _finish(fig)


def epoch_time_bars(results, limit_seconds: float | None = None):
    """Seconds per 60,000-image epoch for each backend, fastest at the top; with
    ``limit_seconds``, a line at what the hardware could do at best."""
    results = _check_runs(results)
    ordered = sorted(results, key=lambda r: r["seconds_per_epoch"], reverse=True)
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(ordered) + 1.2))
    bars = ax.barh(
        [r["backend"] for r in ordered], [r["seconds_per_epoch"] for r in ordered], color="#4c72b0"
    )
    ax.bar_label(bars, fmt="%.0f s", fontsize=8, padding=3)
    if limit_seconds:
        ax.axvline(limit_seconds, color=WRONG, linestyle="--", label="hardware limit (fp32)")
        ax.legend(fontsize=8, loc="lower right")
    ax.set_xlabel("seconds per epoch")
    ax.set_title(f"Time per epoch ({ordered[0]['device']})", fontsize=10)
    fig.tight_layout()
    return _finish(fig)
