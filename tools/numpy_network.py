"""The course network in plain NumPy, a batch at a time: the reference that every framework's
network is compared with (``tools.same_network``).

Weights travel in one **reference layout**, the one ``shared.concepts`` and Keras/TensorFlow
use: convolution kernels ``(kh, kw, in, out)``, dense matrices ``(in, out)``, and a flatten that
reads the 12×12×64 feature map row by row with the 64 channels of each pixel side by side
(channels last). PyTorch stores kernels ``(out, in, kh, kw)`` and ``Linear`` matrices
``(out, in)``, and its ``Flatten`` reads channel by channel (channels first), so moving the
weights there takes two transposes and a permutation of the first dense layer's 9,216 inputs
(``to_torch``).

The layers are the course's by-hand ones (``shared.concepts``), applied to a whole batch: the
same arithmetic in float64, kept stage by stage so that a disagreement can be located.
"""

from __future__ import annotations

import numpy as np

from shared import concepts, config

#: The course network's weights in the reference layout, in the order the forward pass uses them.
SHAPES = {
    "conv1_kernel": (3, 3, 1, 32),
    "conv1_bias": (32,),
    "conv2_kernel": (3, 3, 32, 64),
    "conv2_bias": (64,),
    "dense1_kernel": (9216, 128),
    "dense1_bias": (128,),
    "dense2_kernel": (128, 10),
    "dense2_bias": (10,),
}
#: The feature map that the flatten layer reads: (height, width, channels).
POOLED_SHAPE = (12, 12, 64)

# ----------------------------------------------------------------------------- the weights


def _torch_shape(name: str, shape: tuple) -> tuple:
    if name.endswith("_kernel") and len(shape) == 4:
        return (shape[3], shape[2], shape[0], shape[1])  # (out, in, kh, kw)
    if name.endswith("_kernel"):
        return (shape[1], shape[0])  # (out, in)
    return shape


def seeded_weights(seed: int = config.SEED) -> dict[str, np.ndarray]:
    """One fixed set of float32 weights in the reference layout, drawn from ``seed``.

    They are drawn the way notebook 08 draws its stand-in weights: in PyTorch's layout, one
    parameter after the other in the order ``model.parameters()`` lists them, kernels
    He-uniform (uniform in ±sqrt(6 / fan_in), which keeps activations of order 1 through ReLU
    layers, so the logits spread over several units and no prediction is a near tie) and
    biases uniform in ±0.1 rather than zero, so that their layout is tested too. Then they are
    moved to the reference layout with ``from_torch``.
    """
    rng = np.random.default_rng(seed)
    drawn = {}
    for name, shape in SHAPES.items():
        torch_shape = _torch_shape(name, shape)
        limit = np.sqrt(6 / np.prod(torch_shape[1:])) if len(torch_shape) > 1 else 0.1
        drawn[name] = rng.uniform(-limit, limit, size=torch_shape).astype(np.float32)
    return from_torch(drawn)


def check_weights(weights: dict) -> dict[str, np.ndarray]:
    """``weights`` as float32 arrays, after checking that the names and shapes are ``SHAPES``."""
    if not isinstance(weights, dict) or set(weights) != set(SHAPES):
        got = sorted(weights) if isinstance(weights, dict) else type(weights).__name__
        raise ValueError(f"weights must be a dict with the keys {list(SHAPES)}, got {got}.")
    checked = {}
    for name, shape in SHAPES.items():
        array = np.asarray(weights[name], dtype=np.float32)
        if array.shape != shape:
            raise ValueError(f"weights[{name!r}] must have shape {shape}, got {array.shape}.")
        checked[name] = array
    return checked


def flatten_permutation(height: int, width: int, channels: int) -> np.ndarray:
    """``order`` such that ``channels_first_flat[..., order]`` is the channels-last flattening.

    Position ``(h, w, c)`` is number ``(h * width + w) * channels + c`` when the map is read
    channels last and ``(c * height + h) * width + w`` when it is read channels first.
    """
    channels_first_index = np.arange(channels * height * width).reshape(channels, height, width)
    return channels_first_index.transpose(1, 2, 0).reshape(-1)


def to_torch(weights: dict) -> dict[str, np.ndarray]:
    """The reference weights in PyTorch's layout, under the same names.

    Kernels ``(kh, kw, in, out)`` -> ``(out, in, kh, kw)``; dense ``(in, out)`` -> ``(out, in)``;
    and the first dense layer's inputs reordered from channels-last to channels-first
    flattening, so that input ``(c, h, w)`` meets the weight that input ``(h, w, c)`` had.
    """
    weights = check_weights(weights)
    order = flatten_permutation(*POOLED_SHAPE)
    converted = {}
    for name, array in weights.items():
        if name.startswith("conv") and name.endswith("_kernel"):
            array = array.transpose(3, 2, 0, 1)
        elif name == "dense1_kernel":
            # row k (channels last) must become row order[k] (channels first)
            array = array[np.argsort(order)].T
        elif name.endswith("_kernel"):
            array = array.T
        converted[name] = np.ascontiguousarray(array)
    return converted


def from_torch(weights: dict) -> dict[str, np.ndarray]:
    """PyTorch-layout weights (the names of ``SHAPES``) in the reference layout: the inverse of
    ``to_torch``."""
    if not isinstance(weights, dict) or set(weights) != set(SHAPES):
        raise ValueError(f"weights must be a dict with the keys {list(SHAPES)}.")
    order = flatten_permutation(*POOLED_SHAPE)
    converted = {}
    for name, shape in SHAPES.items():
        array = np.asarray(weights[name], dtype=np.float32)
        if array.shape != _torch_shape(name, shape):
            raise ValueError(
                f"weights[{name!r}] must have PyTorch's shape {_torch_shape(name, shape)}, got "
                f"{array.shape}."
            )
        if array.ndim == 4:
            array = array.transpose(2, 3, 1, 0)
        elif name == "dense1_kernel":
            array = array.T[order]  # channels-last input k is channels-first input order[k]
        elif array.ndim == 2:
            array = array.T
        converted[name] = np.ascontiguousarray(array)
    return converted


# ----------------------------------------------------------------------------- the NumPy reference


def conv2d_batch(images: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``concepts.conv2d_multichannel`` (stride 1, no padding) for a batch ``(N, H, W, C)``.

    The same cross-correlation, written as one matrix product per kernel position instead of a
    Python loop over output pixels: out[n, i, j] = sum over (di, dj, c) of
    image[n, i + di, j + dj, c] * kernel[di, dj, c] + bias. ``tests/test_same_network.py``
    checks it against the by-hand layer.
    """
    kh, kw = kernel.shape[:2]
    out_h = concepts.conv_output_size(images.shape[1], kh)
    out_w = concepts.conv_output_size(images.shape[2], kw)
    out = np.zeros((images.shape[0], out_h, out_w, kernel.shape[3]))
    for di in range(kh):
        for dj in range(kw):
            out += images[:, di : di + out_h, dj : dj + out_w, :] @ kernel[di, dj]
    return out + bias


def max_pool_batch(maps: np.ndarray, size: int = 2) -> np.ndarray:
    """``concepts.pool2d`` for a batch ``(N, H, W, C)``: every map of every image is pooled on
    its own, so the batch's channels are handed to the by-hand layer side by side."""
    count, height, width, channels = maps.shape
    side_by_side = maps.transpose(1, 2, 0, 3).reshape(height, width, count * channels)
    pooled = concepts.pool2d(side_by_side, size, mode="max")
    return pooled.reshape(pooled.shape[0], pooled.shape[1], count, channels).transpose(2, 0, 1, 3)


#: The stages of the reference forward pass, in order; a framework's activations are matched
#: against them. Dropout is the identity in inference mode, so it has no stage of its own.
STAGES = (
    "input",
    "conv 1 before its ReLU",
    "conv 1 + ReLU",
    "conv 2 before its ReLU",
    "conv 2 + ReLU",
    "max-pool 2×2",
    "flatten (channels last)",
    "dense 1 before its ReLU",
    "dense 1 + ReLU",
    "logits",
)


def reference_stages(images: np.ndarray, weights: dict) -> dict[str, np.ndarray]:
    """The forward pass in float64 NumPy, every stage kept: ``images`` are normalised
    ``(N, 28, 28, 1)``, ``weights`` in the reference layout. Inference mode: no dropout."""
    w = {name: array.astype(np.float64) for name, array in check_weights(weights).items()}
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 4 or x.shape[1:] != concepts.INPUT_SHAPE:
        raise ValueError(f"images must have shape (N, 28, 28, 1), got {x.shape}.")
    stages = {"input": x}
    stages["conv 1 before its ReLU"] = x = conv2d_batch(x, w["conv1_kernel"], w["conv1_bias"])
    stages["conv 1 + ReLU"] = x = concepts.relu(x)
    stages["conv 2 before its ReLU"] = x = conv2d_batch(x, w["conv2_kernel"], w["conv2_bias"])
    stages["conv 2 + ReLU"] = x = concepts.relu(x)
    stages["max-pool 2×2"] = x = max_pool_batch(x, 2)
    stages["flatten (channels last)"] = x = x.reshape(len(x), -1)
    stages["dense 1 before its ReLU"] = x = x @ w["dense1_kernel"] + w["dense1_bias"]
    stages["dense 1 + ReLU"] = x = concepts.relu(x)
    stages["logits"] = x @ w["dense2_kernel"] + w["dense2_bias"]
    return stages


def reference_logits(images: np.ndarray, weights: dict, batch_size: int = 100) -> np.ndarray:
    """The NumPy network's logits, ``batch_size`` images at a time (float64, ``(N, 10)``)."""
    parts = [
        reference_stages(images[start : start + batch_size], weights)["logits"]
        for start in range(0, len(images), batch_size)
    ]
    return np.concatenate(parts)
