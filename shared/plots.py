"""The course's pictures. Every function returns a matplotlib Figure and shows nothing itself:
a notebook displays the Figure it gets back, a test just inspects it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .metrics import HISTORY_KEYS, NUM_CLASSES, check_labels, confusion_counts

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
        raise ValueError("results must be a non-empty list of results dicts (see shared.results).")
    for r in results:
        if not isinstance(r, dict) or "backend" not in r or "history" not in r:
            raise ValueError("every result needs 'backend' and 'history' (see shared.results).")
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
    longest = max(len(r["history"]) for r in results)
    for ax in (acc_ax, loss_ax):
        ax.set_xlabel("epoch")
        ax.set_xticks(np.arange(1, longest + 1))  # one tick per epoch: there is nothing between
        ax.grid(alpha=0.3)
    acc_ax.legend(fontsize=8)
    fig.tight_layout()
    return _finish(fig)


def epoch_time_bars(results, limit_seconds: float | None = None):
    """Seconds per 60,000-image epoch for each backend, fastest at the top; with
    ``limit_seconds``, a line at the time the epoch would take at the rate of the fastest tuned
    kernel timed by ``make bench`` on the same machine: a limit no backend can beat."""
    results = _check_runs(results)
    ordered = sorted(results, key=lambda r: r["seconds_per_epoch"], reverse=True)
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(ordered) + 1.2))
    bars = ax.barh(
        [r["backend"] for r in ordered], [r["seconds_per_epoch"] for r in ordered], color="#4c72b0"
    )
    ax.bar_label(bars, fmt="%.0f s", fontsize=8, padding=3)
    if limit_seconds:
        ax.axvline(
            limit_seconds,
            color=WRONG,
            linestyle="--",
            label="at the fastest tuned kernel's rate (the limit)",
        )
        ax.legend(fontsize=8, loc="lower right")
    ax.set_xlabel("seconds per epoch")
    ax.set_title(f"Time per epoch ({ordered[0]['device']})", fontsize=10)
    fig.tight_layout()
    return _finish(fig)


def _check_maps(name: str, maps) -> np.ndarray:
    """A non-empty (count, H, W) stack of finite numbers as float64."""
    array = np.asarray(maps)
    if array.ndim != 3 or 0 in array.shape or not np.issubdtype(array.dtype, np.number):
        raise ValueError(
            f"{name} must be a non-empty numeric array of shape (count, height, width), got "
            f"{array.dtype} {array.shape}. For one image's PyTorch activations (1, C, H, W) pass "
            "activations[0]; for Keras/TensorFlow (1, H, W, C) pass activations[0] moved to "
            "(C, H, W) with np.moveaxis(activations[0], -1, 0)."
        )
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return array


def filter_grid(filters, columns: int = 8, title: str | None = None):
    """Trained convolution filters, one small square each: ``filters`` (count, K, K). Each
    filter has its own colour scale centred on 0: red weights add, blue weights subtract."""
    filters = _check_maps("filters", filters)
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be a positive integer, got {columns!r}.")
    rows = -(-len(filters) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns, 1.1 * rows + 0.4))
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, weights in zip(np.ravel(axes), filters, strict=False):
        limit = np.abs(weights).max() or 1.0
        ax.imshow(weights, cmap="RdBu_r", vmin=-limit, vmax=limit)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _finish(fig)


def feature_maps(stages: dict, count: int = 8, title: str | None = None):
    """One row per stage of a network: the first ``count`` feature maps one image produced.

    ``stages`` maps a row label to that stage's maps, shape (channels, H, W). Each map is drawn
    on its own grey scale (black = 0, white = its largest value)."""
    if not isinstance(stages, dict) or not stages:
        raise ValueError("stages must be a non-empty dict: label -> (channels, H, W) array.")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}.")
    checked = {
        str(label): _check_maps(f"stages[{label!r}]", maps) for label, maps in stages.items()
    }
    columns = min(count, max(len(maps) for maps in checked.values()))
    fig, axes = plt.subplots(
        len(checked), columns, figsize=(1.3 * columns, 1.45 * len(checked)), squeeze=False
    )
    for row, (label, maps) in zip(axes, checked.items(), strict=True):
        for ax in row:
            ax.axis("off")
        for ax, image in zip(row, maps[:columns], strict=False):
            ax.imshow(image, cmap="gray", vmin=min(0.0, image.min()), vmax=image.max() or 1.0)
        row[0].set_title(label, fontsize=9, loc="left")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _finish(fig)


def weight_rows(rows: dict, count: int = 8, title: str | None = None):
    """Weights side by side, one labelled row per version: ``rows`` maps a label to a
    (count, H, W) stack, such as a layer's filters read from two frameworks. Every square has
    its own colour scale centred on 0 (red adds, blue subtracts), so rows that show the same
    weights look the same."""
    if not isinstance(rows, dict) or not rows:
        raise ValueError("rows must be a non-empty dict: label -> (count, H, W) array.")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}.")
    checked = {str(label): _check_maps(f"rows[{label!r}]", maps) for label, maps in rows.items()}
    columns = min(count, max(len(maps) for maps in checked.values()))
    fig, axes = plt.subplots(
        len(checked), columns, figsize=(1.2 * columns, 1.45 * len(checked)), squeeze=False
    )
    for row, maps in zip(axes, checked.values(), strict=True):
        for ax in row:
            ax.axis("off")
        for ax, weights in zip(row, maps[:columns], strict=False):
            limit = np.abs(weights).max() or 1.0
            ax.imshow(weights, cmap="RdBu_r", vmin=-limit, vmax=limit)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(h_pad=2.2)
    for row, label in zip(axes, checked, strict=True):
        # written on the figure, not as a title: a label wider than its square would shrink it
        box = row[0].get_position()
        fig.text(box.x0, box.y1 + 0.02, label, fontsize=9, ha="left", va="bottom")
    return _finish(fig)


def flatten_order(height: int = 3, width: int = 3, channels: int = 2):
    """Where each value of a (height, width, channels) feature map lands when it is flattened
    channels first (PyTorch: channel by channel) and channels last (Keras, TensorFlow: pixel by
    pixel, each pixel's channels side by side). One panel per channel; the number in a cell is
    its position in the flat vector."""
    for name, value in (("height", height), ("width", width), ("channels", channels)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 8:
            raise ValueError(f"{name} must be an integer from 1 to 8 (it is drawn), got {value!r}.")
    size = height * width * channels
    first = np.arange(size).reshape(channels, height, width)
    last = np.arange(size).reshape(height, width, channels).transpose(2, 0, 1)
    orders = {"channels first (PyTorch)": first, "channels last (Keras, TensorFlow)": last}
    fig, axes = plt.subplots(
        2, channels, figsize=(0.55 * width * channels + 1.5, 1.2 * height + 1.4), squeeze=False
    )
    for row, (label, positions) in zip(axes, orders.items(), strict=True):
        for channel, ax in enumerate(row):
            ax.imshow(positions[channel], cmap="viridis", vmin=0, vmax=size - 1)
            for (r, c), position in np.ndenumerate(positions[channel]):
                shade = "black" if position > 0.6 * (size - 1) else "white"
                ax.text(c, r, str(position), ha="center", va="center", fontsize=9, color=shade)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(f"channel {channel}", fontsize=8)
        row[0].set_title(label, fontsize=9, loc="left")
    fig.suptitle("Position of each value in the flattened vector", fontsize=10)
    fig.tight_layout()
    return _finish(fig)
