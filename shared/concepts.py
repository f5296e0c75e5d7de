"""The ideas behind a CNN in plain NumPy: output sizes, convolution and pooling by hand, and the
course model's layer-by-layer shapes, parameters, activations and FLOPs.

Nothing here needs a deep-learning framework; SciPy is imported only inside the one function that
uses it.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

#: The course's model, layer by layer (the six backend notebooks build exactly this).
#: A ReLU is written as the ``activation`` of the conv or dense layer it follows.
INPUT_SHAPE = (28, 28, 1)
MODEL = (
    {"kind": "conv", "filters": 32, "kernel": 3, "activation": "relu"},
    {"kind": "conv", "filters": 64, "kernel": 3, "activation": "relu"},
    {"kind": "maxpool", "pool": 2},
    {"kind": "dropout", "rate": 0.25},
    {"kind": "flatten"},
    {"kind": "dense", "units": 128, "activation": "relu"},
    {"kind": "dropout", "rate": 0.5},
    {"kind": "dense", "units": 10},
)

#: A training step costs about three forward passes: the forward pass itself, then the
#: gradients with respect to the layer inputs and with respect to the weights.
TRAINING_FACTOR = 3
BYTES_PER_FLOAT32 = 4


# ----------------------------------------------------------------------------- output sizes


def _check_int(name: str, value, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def conv_output_size(width: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Output size of a convolution or pooling along one dimension: O = (W + 2P - F) / S + 1.

    ``width`` W is the input size, ``kernel`` F the filter size, ``stride`` S the step and
    ``padding`` P the zeros added on each side. Settings that do not tile the input exactly are
    refused (frameworks silently drop the leftover rows), with a padding or stride that works.
    """
    width = _check_int("width", width, 1)
    kernel = _check_int("kernel", kernel, 1)
    stride = _check_int("stride", stride, 1)
    padding = _check_int("padding", padding, 0)
    padded = width + 2 * padding
    if kernel > padded:
        need = math.ceil((kernel - width) / 2)
        raise ValueError(
            f"kernel {kernel} is larger than the padded input {padded} (width {width} + 2 × "
            f"padding {padding}): use a kernel of at most {padded} or padding of at least {need}."
        )
    span = padded - kernel
    if span % stride:
        fixes = []
        for better in range(padding + 1, padding + stride + 1):
            if (width + 2 * better - kernel) % stride == 0:
                size = (width + 2 * better - kernel) // stride + 1
                fixes.append(f"padding={better} (output {size})")
                break
        else:  # no padding helps (e.g. an odd span and an even stride): change the kernel
            for step in range(1, stride):
                sizes = [k for k in (kernel + step, kernel - step) if 1 <= k <= padded]
                fits = [k for k in sizes if (padded - k) % stride == 0]
                if fits:
                    fixes.append(f"kernel={fits[0]} (output {(padded - fits[0]) // stride + 1})")
                    break
        better = max(s for s in range(1, stride) if span % s == 0)
        fixes.append(f"stride={better} (output {span // better + 1})")
        raise ValueError(
            f"(W + 2P - F) = ({width} + 2×{padding} - {kernel}) = {span} is not divisible by "
            f"the stride {stride}, so the filter does not fit the input a whole number of times "
            f"({span}/{stride} + 1 = {span / stride + 1:g}). Use {' or '.join(fixes)} instead."
        )
    return span // stride + 1


def pool_output_size(width: int, pool: int = 2, stride: int | None = None) -> int:
    """Output size of a pooling window ``pool`` wide; the stride defaults to the window size."""
    return conv_output_size(width, pool, pool if stride is None else stride, 0)


# ----------------------------------------------------------------------------- by-hand layers


def _numeric(name: str, value, ndims: tuple[int, ...], layout: str) -> np.ndarray:
    array = np.asarray(value)
    if (
        array.ndim not in ndims
        or array.size == 0
        or not np.issubdtype(array.dtype, np.number)
        or np.issubdtype(array.dtype, np.complexfloating)
    ):
        raise ValueError(
            f"{name} must be a non-empty real array of shape {layout}, got {array.dtype} "
            f"{array.shape}."
        )
    return array


def conv2d_multichannel(image, filters, stride: int = 1, padding: int = 0, bias=None):
    """A convolution layer by hand: ``image`` (H, W, C) and ``filters`` (K, K, C, N) -> (H', W', N).

    Each filter spans all C input channels; at every position it multiplies the window under it
    element by element and sums the lot into one number. This is cross-correlation (the filter
    is not flipped), which is what deep-learning libraries call convolution. ``padding`` adds
    that many rows and columns of zeros on every side; ``bias`` holds one number per filter.
    """
    image = _numeric("image", image, (3,), "(height, width, channels)").astype(np.float64)
    filters = _numeric("filters", filters, (4,), "(kernel, kernel, channels, filters)")
    filters = filters.astype(np.float64)
    kh, kw, channels, count = filters.shape
    if channels != image.shape[2]:
        raise ValueError(
            f"the image has {image.shape[2]} channels but the filters expect {channels}: a "
            "filter must span every input channel (filters shape (K, K, C, N))."
        )
    out_h = conv_output_size(image.shape[0], kh, stride, padding)
    out_w = conv_output_size(image.shape[1], kw, stride, padding)
    if bias is None:
        bias = np.zeros(count)
    bias = np.asarray(bias, dtype=np.float64)
    if bias.shape != (count,):
        raise ValueError(
            f"bias must hold one number per filter, shape ({count},), got {bias.shape}."
        )
    padded = np.pad(image, ((padding, padding), (padding, padding), (0, 0)))
    out = np.empty((out_h, out_w, count))
    for i in range(out_h):
        for j in range(out_w):
            top, left = i * stride, j * stride
            window = padded[top : top + kh, left : left + kw, :]  # kh × kw × C
            out[i, j, :] = np.tensordot(window, filters, axes=3) + bias  # one value per filter
    return out


def relu(x) -> np.ndarray:
    """max(0, x), element by element."""
    return np.maximum(_numeric("x", x, (0, 1, 2, 3, 4), "(...)"), 0)


def pool2d(x, size: int = 2, stride: int | None = None, mode: str = "max") -> np.ndarray:
    """Max or average pooling of a (H, W) map or (H, W, C) maps, each channel on its own."""
    x = _numeric("x", x, (2, 3), "(height, width) or (height, width, channels)")
    if mode not in ("max", "average"):
        raise ValueError(f"mode must be 'max' or 'average', got {mode!r}.")
    stride = size if stride is None else stride
    pool_output_size(x.shape[0], size, stride)  # refuses windows that do not tile the map
    pool_output_size(x.shape[1], size, stride)
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(0, 1))
    windows = windows[::stride, ::stride]  # (H', W', [C,] size, size)
    reduce = np.max if mode == "max" else np.mean
    return reduce(windows, axis=(-2, -1))


def global_pool(x, mode: str = "average"):
    """One number per channel: the max or mean over a whole (H, W) or (H, W, C) map."""
    x = _numeric("x", x, (2, 3), "(height, width) or (height, width, channels)")
    if mode not in ("max", "average"):
        raise ValueError(f"mode must be 'max' or 'average', got {mode!r}.")
    return x.max(axis=(0, 1)) if mode == "max" else x.mean(axis=(0, 1))


def grayscale(image) -> np.ndarray:
    """A photo as a float (H, W) array in [0, 1]: RGB or RGBA is weighted by luminance
    (0.299 R + 0.587 G + 0.114 B); uint8 values are divided by 255."""
    image = _numeric("image", image, (2, 3), "(height, width) or (height, width, 3 or 4)")
    if image.ndim == 3 and image.shape[2] not in (3, 4):
        raise ValueError(f"a colour image needs 3 (RGB) or 4 (RGBA) channels, got {image.shape}.")
    scale = 255.0 if image.dtype == np.uint8 else 1.0
    image = image.astype(np.float64) / scale
    if image.ndim == 3:
        image = image[..., :3] @ np.array([0.299, 0.587, 0.114])
    return image


def apply_kernel(image, kernel) -> np.ndarray:
    """Slide a small ``kernel`` over a grayscale ``image`` (SciPy's cross-correlation).

    The output has the image's size: the border is padded by mirroring the image.
    """
    from scipy.signal import correlate2d

    image = _numeric("image", image, (2,), "(height, width); use grayscale() for colour")
    kernel = _numeric("kernel", kernel, (2,), "(height, width)")
    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise ValueError(f"kernel {kernel.shape} is larger than the image {image.shape}.")
    return correlate2d(image.astype(np.float64), kernel, mode="same", boundary="symm")


# ----------------------------------------------------------------------------- the model


def _layer(spec) -> dict:
    if not isinstance(spec, dict) or "kind" not in spec:
        raise ValueError(f"each layer must be a dict with a 'kind', got {spec!r}.")
    needs = {
        "conv": ("filters", "kernel"),
        "maxpool": ("pool",),
        "dropout": ("rate",),
        "flatten": (),
        "dense": ("units",),
    }
    kind = spec["kind"]
    if kind not in needs:
        raise ValueError(f"unknown layer kind {kind!r}; use one of {sorted(needs)}.")
    missing = [key for key in needs[kind] if key not in spec]
    if missing:
        raise ValueError(f"a {kind} layer needs {list(needs[kind])}; {missing} missing in {spec}.")
    if spec.get("activation") not in (None, "relu"):
        raise ValueError(f"activation must be None or 'relu', got {spec['activation']!r}.")
    return spec


def _suffix(spec) -> str:
    return " + ReLU" if spec.get("activation") == "relu" else ""


def _feature_map(shape, spec) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ValueError(
            f"a {spec['kind']} layer needs a (height, width, channels) input, got {shape}: put "
            "it before the flatten layer."
        )
    return shape


def layer_rows(layers=MODEL, input_shape=INPUT_SHAPE) -> list[dict]:
    """The model walked layer by layer: one dict per layer (the input first) with its input and
    output shape, activations, weights, biases, parameters and FLOPs for one image.

    Every shape comes from ``conv_output_size``/``pool_output_size``, nothing is typed in.

    Conventions:

    * **Activations** are the values each row outputs for one image, the input included. A
      ReLU works in place on the output of its conv or dense layer (Keras' ``activation="relu"``,
      the CS231n VGG table), so it adds no values of its own; pooling, dropout and flatten each
      count their output, as in Keras' ``model.summary()``. For the course model this gives
      784 + 21,632 + 36,864 + 3 × 9,216 + 2 × 128 + 10 = 87,194 values, about 0.35 MB in
      float32. (The distinct buffers an inference engine needs are fewer, 68,634, because
      dropout is the identity at inference and flatten is only a view.)
    * **FLOPs** count each multiply-add of a conv or dense layer as 2. Bias additions, ReLU,
      pooling and dropout are left out: together they add under 1 %.
    """
    shape = tuple(_check_int("input_shape", d, 1) for d in input_shape)
    if len(shape) not in (1, 3):
        raise ValueError(
            f"input_shape must be (height, width, channels) or (features,), got {shape}."
        )
    rows = [dict(layer="Input", input_shape=None, output_shape=shape, weights=0, biases=0, flops=0)]
    for spec in map(_layer, layers):
        kind = spec["kind"]
        weights = biases = flops = 0
        if kind == "conv":
            height, width, channels = _feature_map(shape, spec)
            kernel = _check_int("kernel", spec["kernel"], 1)
            filters = _check_int("filters", spec["filters"], 1)
            stride, padding = spec.get("stride", 1), spec.get("padding", 0)
            out = (
                conv_output_size(height, kernel, stride, padding),
                conv_output_size(width, kernel, stride, padding),
                filters,
            )
            weights, biases = kernel * kernel * channels * filters, filters
            flops = 2 * math.prod(out) * kernel * kernel * channels
            name = f"Conv {kernel}×{kernel}×{filters}{_suffix(spec)}"
        elif kind == "maxpool":
            height, width, channels = _feature_map(shape, spec)
            pool = _check_int("pool", spec["pool"], 1)
            stride = spec.get("stride")
            out = (pool_output_size(height, pool, stride), pool_output_size(width, pool, stride))
            out += (channels,)
            name = f"MaxPool {pool}×{pool}"
        elif kind == "dropout":
            rate = spec["rate"]
            if not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
                raise ValueError(f"dropout rate must be a number in [0, 1), got {rate!r}.")
            out, name = shape, f"Dropout {rate:g}"
        elif kind == "flatten":
            out, name = (math.prod(shape),), "Flatten"
        else:  # dense
            if len(shape) != 1:
                raise ValueError(
                    f"a dense layer needs a flat input, got {shape}: add {{'kind': 'flatten'}} "
                    "before it."
                )
            units = _check_int("units", spec["units"], 1)
            out = (units,)
            weights, biases = shape[0] * units, units
            flops = 2 * shape[0] * units
            name = f"Dense {units}{_suffix(spec)}"
        rows.append(
            dict(
                layer=name,
                input_shape=shape,
                output_shape=out,
                weights=weights,
                biases=biases,
                flops=flops,
            )
        )
        shape = out
    for row in rows:
        row["activations"] = math.prod(row["output_shape"])
        row["parameters"] = row["weights"] + row["biases"]
    return rows


def layer_table(layers=MODEL, input_shape=INPUT_SHAPE):
    """``layer_rows`` as a pandas DataFrame, one row per layer; see ``layer_rows`` for the
    conventions behind the activation and FLOP counts."""
    import pandas as pd

    columns = [
        "layer",
        "input_shape",
        "output_shape",
        "activations",
        "weights",
        "biases",
        "parameters",
        "flops",
    ]
    return pd.DataFrame(layer_rows(layers, input_shape), columns=columns)


def model_totals(layers=MODEL, input_shape=INPUT_SHAPE) -> dict:
    """The sums over ``layer_rows``: activations (and their float32 bytes), weights, biases,
    parameters, and FLOPs per image for a forward pass and for a training step."""
    rows = layer_rows(layers, input_shape)
    totals = {
        key: sum(row[key] for row in rows)
        for key in ("activations", "weights", "biases", "parameters")
    }
    forward = sum(row["flops"] for row in rows)
    totals["activation_bytes"] = BYTES_PER_FLOAT32 * totals["activations"]
    totals["forward_flops"] = forward
    totals["training_flops"] = TRAINING_FACTOR * forward
    return totals


def flops_per_image(training: bool = False, layers=MODEL, input_shape=INPUT_SHAPE) -> int:
    """FLOPs for one image: a forward pass, or a training step (about 3 × forward)."""
    totals = model_totals(layers, input_shape)
    return totals["training_flops" if training else "forward_flops"]


def flops_per_epoch(
    num_images: int = 60_000, training: bool = True, layers=MODEL, input_shape=INPUT_SHAPE
) -> int:
    """FLOPs for one pass over ``num_images`` images (training steps by default)."""
    num_images = _check_int("num_images", num_images, 1)
    return num_images * flops_per_image(training, layers, input_shape)
