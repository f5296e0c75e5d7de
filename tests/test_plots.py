import numpy as np
import pytest
from matplotlib.figure import Figure

from shared import plots

rng = np.random.default_rng(0)
IMAGES = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
LABELS = np.arange(12) % 10
HISTORY = [
    {
        "epoch": e,
        "train_loss": 1 / e,
        "train_accuracy": 1 - 0.1 / e,
        "val_loss": 1.1 / e,
        "val_accuracy": 1 - 0.11 / e,
        "seconds": 1.0,
    }
    for e in (1, 2, 3)
]


def titles(fig):
    return [ax.get_title() for ax in fig.axes if ax.get_title()]


@pytest.mark.parametrize("shape", [(12, 28, 28), (12, 28, 28, 1), (12, 1, 28, 28)])
def test_digit_grid_accepts_common_layouts(shape):
    fig = plots.digit_grid(IMAGES.reshape(shape).astype(np.float32), LABELS, columns=6, title="t")
    assert isinstance(fig, Figure)
    assert titles(fig)[:3] == ["0", "1", "2"]


def test_prediction_grid_colours_right_and_wrong():
    predictions = LABELS.copy()
    predictions[1] = 7
    fig = plots.digit_grid(IMAGES, LABELS, predictions)
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert axes[0].get_title() == "0 (0)" and axes[0].title.get_color() == plots.RIGHT
    assert axes[1].get_title() == "7 (1)" and axes[1].title.get_color() == plots.WRONG


@pytest.mark.parametrize(
    "images, labels, predictions, message",
    [
        (IMAGES[0], LABELS, None, "images must be"),
        (IMAGES.astype(str), LABELS, None, "images must be"),
        (IMAGES, LABELS[:3], None, "12 images but 3 labels"),
        (IMAGES, LABELS.astype(float), None, "integer"),
        (IMAGES, LABELS, LABELS[:2], "12 images but 2 predictions"),
    ],
)
def test_digit_grid_rejects_bad_input(images, labels, predictions, message):
    with pytest.raises(ValueError, match=message):
        plots.digit_grid(images, labels, predictions)


def test_digit_grid_rejects_zero_columns():
    with pytest.raises(ValueError, match="columns"):
        plots.digit_grid(IMAGES, LABELS, columns=0)


def test_digit_pixels_writes_every_value():
    fig = plots.digit_pixels(IMAGES[0], label=5)
    assert len(fig.axes[0].texts) == 28 * 28
    assert fig.axes[0].get_title() == "label: 5"
    assert len(plots.digit_pixels(IMAGES[0] / 255.0).axes[0].texts) == 784


def test_learning_curves_from_rows_and_columns():
    fig = plots.learning_curves(HISTORY, title="curves")
    assert [ax.get_ylabel() for ax in fig.axes] == ["accuracy", "loss"]
    columns = {k: [row[k] for row in HISTORY] for k in HISTORY[0]}
    assert len(plots.learning_curves(columns).axes) == 2


@pytest.mark.parametrize(
    "history, message",
    [
        ("nope", "list of per-epoch dicts"),
        ({"train_loss": [1.0]}, "lacks"),
        (
            {"train_loss": [1, 2], "train_accuracy": [1], "val_loss": [1], "val_accuracy": [1]},
            "different lengths",
        ),
    ],
)
def test_learning_curves_rejects_bad_history(history, message):
    with pytest.raises(ValueError, match=message):
        plots.learning_curves(history)


def test_confusion_matrix_figure():
    fig = plots.confusion_matrix(LABELS, LABELS)
    assert fig.axes[0].get_xlabel() == "predicted digit"
    with pytest.raises(ValueError, match="equal length"):
        plots.confusion_matrix(LABELS, LABELS[:2])


def test_per_class_bars_accepts_fractions_and_percent():
    fig = plots.per_class_bars(np.full(10, 0.99))
    assert fig.axes[0].patches[0].get_height() == pytest.approx(99.0)
    assert plots.per_class_bars(np.full(10, 99.0), title="x").axes[0].get_title() == "x"
    for bad in (np.ones(9), np.full(10, 120.0), np.full(10, np.nan)):
        with pytest.raises(ValueError, match="10 numbers"):
            plots.per_class_bars(bad)


RUNS = [
    {"backend": name, "history": HISTORY, "seconds_per_epoch": s, "device": "CPU"}
    for name, s in (("Keras", 40.0), ("PyTorch", 30.0))
]


def test_compare_learning_curves():
    fig = plots.compare_learning_curves(RUNS)
    assert len(fig.axes[0].lines) == 2
    assert fig.axes[1].get_yscale() == "log"


def test_epoch_time_bars_fastest_on_top_with_limit():
    fig = plots.epoch_time_bars(RUNS, limit_seconds=16)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["Keras", "PyTorch"]  # barh draws the first at the bottom
    assert fig.axes[0].get_legend() is not None


@pytest.mark.parametrize("runs", [[], "x", [{"backend": "x"}]])
def test_comparison_plots_reject_bad_runs(runs):
    with pytest.raises(ValueError, match="result"):
        plots.compare_learning_curves(runs)


def test_weight_rows_draw_one_labelled_row_per_version():
    filters = rng.standard_normal((10, 3, 3))
    fig = plots.weight_rows({"PyTorch": filters, "Keras": filters}, count=6, title="t")
    assert len(fig.axes) == 12
    assert [text.get_text() for text in fig.texts][-2:] == ["PyTorch", "Keras"]


@pytest.mark.parametrize("rows", [{}, {"a": np.zeros((3, 3))}, {"a": np.full((2, 3, 3), np.nan)}])
def test_weight_rows_refuse_bad_input(rows):
    with pytest.raises(ValueError):
        plots.weight_rows(rows)


def test_flatten_order_numbers_every_position_once_per_reading():
    fig = plots.flatten_order(height=2, width=3, channels=2)
    numbers = [int(t.get_text()) for ax in fig.axes for t in ax.texts]
    assert sorted(numbers) == sorted(2 * list(range(12)))
    assert [t.get_text() for t in fig.axes[0].texts[:3]] == ["0", "1", "2"]  # channels first
    assert [t.get_text() for t in fig.axes[2].texts[:3]] == ["0", "2", "4"]  # channels last


@pytest.mark.parametrize("sizes", [(0, 3, 2), (3, 3, 9), (3.0, 3, 2), (True, 3, 2)])
def test_flatten_order_refuses_sizes_it_cannot_draw(sizes):
    with pytest.raises(ValueError):
        plots.flatten_order(*sizes)
