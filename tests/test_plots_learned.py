"""The pictures of what a network learned: trained filters and feature maps."""

import numpy as np
import pytest

from shared import plots


def test_filter_grid_draws_one_square_per_filter():
    fig = plots.filter_grid(np.random.default_rng(0).normal(size=(32, 3, 3)), title="conv1")
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 32 and len(fig.axes) == 32  # 4 rows of 8
    assert fig._suptitle.get_text() == "conv1"


def test_filter_grid_pads_a_short_last_row_and_survives_zero_filters():
    fig = plots.filter_grid(np.zeros((5, 3, 3)), columns=4)
    assert len(fig.axes) == 8 and len([ax for ax in fig.axes if ax.images]) == 5


@pytest.mark.parametrize(
    "filters, message",
    [
        (np.zeros((3, 3)), "shape \\(count, height, width\\)"),
        (np.zeros((0, 3, 3)), "non-empty"),
        (np.array([[["a"]]]), "numeric"),
        (np.full((2, 3, 3), np.nan), "NaN"),
    ],
)
def test_filter_grid_rejects_bad_input(filters, message):
    with pytest.raises(ValueError, match=message):
        plots.filter_grid(filters)


def test_filter_grid_rejects_bad_columns():
    with pytest.raises(ValueError, match="columns"):
        plots.filter_grid(np.zeros((2, 3, 3)), columns=0)


def test_feature_maps_one_row_per_stage():
    rng = np.random.default_rng(0)
    stages = {
        "conv1": rng.random((32, 26, 26)),
        "conv2": rng.random((64, 24, 24)),
        "pool": rng.random((64, 12, 12)),
    }
    fig = plots.feature_maps(stages, count=8)
    assert len(fig.axes) == 24 and all(ax.images for ax in fig.axes)
    assert [fig.axes[i].get_title(loc="left") for i in (0, 8, 16)] == ["conv1", "conv2", "pool"]


def test_feature_maps_with_fewer_maps_than_count():
    fig = plots.feature_maps({"only": np.zeros((3, 5, 5))}, count=8)
    assert len(fig.axes) == 3


@pytest.mark.parametrize(
    "stages, count, message",
    [
        ({}, 8, "non-empty dict"),
        ([np.zeros((1, 2, 2))], 8, "non-empty dict"),
        ({"x": np.zeros((1, 2, 2))}, 0, "count"),
        ({"x": np.zeros((1, 1, 2, 2))}, 8, "activations\\[0\\]"),
    ],
)
def test_feature_maps_rejects_bad_input(stages, count, message):
    with pytest.raises(ValueError, match=message):
        plots.feature_maps(stages, count=count)
