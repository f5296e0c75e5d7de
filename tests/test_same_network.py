"""The six backend notebooks compute the same function: one set of weights, the same logits.

For every backend in the catalogue, the network is built by executing the notebook's own
``model`` cell, given one fixed set of seeded weights, and run in inference mode on the first
1,000 images of the course's test split. Its logits must equal those of a float64 NumPy forward
pass made of the course's by-hand layers (``tools.numpy_network``) within
``same_network.TOLERANCE`` (1e-4; the module says why), and every predicted digit must be the
same. Nothing is trained.
"""

import numpy as np
import pytest

from shared import catalogue, concepts, data
from tools import notebooks, numpy_network, same_network

IMAGES = 1000


@pytest.fixture(scope="module")
def images(mnist_dir):
    return data.normalize(data.load_splits().test_x[:IMAGES])


@pytest.fixture(scope="module")
def weights():
    return numpy_network.seeded_weights()


@pytest.fixture(scope="module")
def reference(images, weights):
    return numpy_network.reference_logits(images, weights)


def test_the_reference_is_the_course_by_hand_layers(images, weights):
    """The batched layers of the reference give what ``shared.concepts`` gives image by image."""
    stages = numpy_network.reference_stages(images[:2], weights)
    w = {name: array.astype(np.float64) for name, array in weights.items()}
    for n in range(2):
        x = concepts.relu(
            concepts.conv2d_multichannel(
                stages["input"][n], w["conv1_kernel"], bias=w["conv1_bias"]
            )
        )
        np.testing.assert_allclose(stages["conv 1 + ReLU"][n], x, rtol=0, atol=1e-12)
        x = concepts.relu(concepts.conv2d_multichannel(x, w["conv2_kernel"], bias=w["conv2_bias"]))
        np.testing.assert_allclose(stages["conv 2 + ReLU"][n], x, rtol=0, atol=1e-12)
        x = concepts.pool2d(x, 2, mode="max")
        np.testing.assert_allclose(stages["max-pool 2×2"][n], x, rtol=0, atol=1e-12)
        x = concepts.relu(x.reshape(-1) @ w["dense1_kernel"] + w["dense1_bias"])
        logits = x @ w["dense2_kernel"] + w["dense2_bias"]
        np.testing.assert_allclose(stages["logits"][n], logits, rtol=0, atol=1e-12)


def test_the_seeded_weights_make_a_fair_test(weights, reference):
    """No prediction is a near tie (so identical predictions follow from the tolerance), the
    logits spread over several units, and the ReLUs and the pooling change the result."""
    top_two = np.sort(reference, axis=1)[:, -2:]
    margin = (top_two[:, 1] - top_two[:, 0]).min()
    assert margin > 2 * same_network.TOLERANCE, f"image with a near tie: margin {margin:.2g}"
    assert reference.std() > 1
    assert len(np.unique(reference.argmax(axis=1))) >= 5


def test_the_relus_and_the_pooling_matter(images, weights):
    stages = numpy_network.reference_stages(images[:50], weights)
    for name in ("conv 1 before its ReLU", "conv 2 before its ReLU", "dense 1 before its ReLU"):
        negative = (stages[name] < 0).mean()
        assert 0.2 < negative < 0.8, f"{name}: {negative:.0%} negative"
    windows = stages["conv 2 + ReLU"].reshape(50, 12, 2, 12, 2, 64)
    assert np.abs(windows.max(axis=(2, 4)) - windows.mean(axis=(2, 4))).max() > 0.5


def test_flatten_permutation_reads_a_map_channels_last():
    feature_map = np.arange(2 * 3 * 4).reshape(2, 3, 4)  # channels first: (C, H, W)
    order = numpy_network.flatten_permutation(height=3, width=4, channels=2)
    np.testing.assert_array_equal(
        feature_map.reshape(-1)[order], feature_map.transpose(1, 2, 0).reshape(-1)
    )


@pytest.mark.slow
@pytest.mark.parametrize("notebook", catalogue.backends(), ids=lambda nb: nb.name)
def test_same_logits_as_numpy(notebook, images, weights, reference):
    result = same_network.compare(notebook.name, images, weights, reference)
    if not result.ok:
        pytest.fail(result.message(), pytrace=False)


@pytest.mark.slow
def test_a_drifted_network_is_caught_and_located(images, weights, reference):
    """A PyTorch backend with its first ReLU module taken out: the comparison fails, names the
    notebook, and points at the missing ReLU."""
    from torch import nn

    name = next(
        nb.name
        for nb in catalogue.backends()
        if "nn.ReLU()" in notebooks.tagged_cell(notebooks.notebook_path(nb.name), "model")
    )
    model = notebooks.model_builder(name)()
    parent, child = next(
        (parent, child)
        for parent in model.modules()
        for child, module in parent.named_children()
        if isinstance(module, nn.ReLU)
    )
    setattr(parent, child, nn.Identity())
    result = same_network.compare(name, images, weights, reference, model=model)
    assert not result.ok
    message = result.message()
    assert f"{name} (torch) differs from the NumPy reference" in message
    assert "First divergence: module" in message, message
    assert "the reference applies the ReLU of conv 1: is it missing?" in message, message


def test_from_torch_undoes_to_torch(weights):
    back = numpy_network.from_torch(numpy_network.to_torch(weights))
    for name, array in weights.items():
        np.testing.assert_array_equal(back[name], array)
