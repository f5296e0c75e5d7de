"""One set of weights in every framework: does each backend notebook compute the same function?

The six backend notebooks claim to build the same network. This module checks the claim
without training anything: it builds a notebook's network from the notebook's own ``model``
cell, loads one fixed set of weights into it, and compares what it computes with a plain NumPy
forward pass made of the course's by-hand layers (``shared.concepts``).

Weights travel in one **reference layout**, the one ``shared.concepts`` and Keras/TensorFlow
use: convolution kernels ``(kh, kw, in, out)``, dense matrices ``(in, out)``, and a flatten that
reads the 12×12×64 feature map row by row with the 64 channels of each pixel side by side
(channels last). PyTorch stores kernels ``(out, in, kh, kw)`` and ``Linear`` matrices
``(out, in)``, and its ``Flatten`` reads channel by channel (channels first), so moving the
weights there takes two transposes and a permutation of the first dense layer's 9,216 inputs
(``to_torch``).

When a framework disagrees, ``compare`` says where: it records the framework's activations
layer by layer (Keras sub-model, PyTorch hooks, the operations of TensorFlow's graph) and names
the first one that no longer matches a stage of the NumPy forward pass.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import os

import numpy as np

from shared import concepts, config

from . import notebooks

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

#: Largest |difference| allowed between a framework's float32 logits and the float64 NumPy
#: reference. Each logit ends a chain of sums over up to 9,216 products; float32 keeps about
#: seven significant digits, and each library sums in its own order (blocked matrix products,
#: direct or Winograd convolutions), so its logits carry rounding errors of a few 1e-6 for values
#: of a few units. With the seeded weights (logits from -7 to 5) the six notebooks measured
#: 3.5e-6 (Keras, TensorFlow) and 3.7e-6 (PyTorch) on an Intel Xeon CPU. 1e-4 leaves about 25
#: times that, and it is still over ten thousand times smaller than what a real change to the
#: network does (a missing ReLU or an average pooling moved the logits by 3 to 6). Activations
#: compared layer by layer get the same bound, scaled by their largest value where that
#: exceeds 1.
TOLERANCE = 1e-4


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


# ----------------------------------------------------------------------------- the frameworks


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # as the Keras notebooks do
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


def _torch():
    import torch

    return torch


def _tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


#: The names a model cell may use without defining them, and where they come from. PyTorch
#: models are built on the CPU, where float32 stays float32 (a GPU may round convolutions and
#: matrix products to TF32).
SUPPLIED_NAMES = {
    "keras": _keras,
    "layers": lambda: _keras().layers,
    "torch": _torch,
    "nn": lambda: _torch().nn,
    "F": lambda: _torch().nn.functional,
    "device": lambda: _torch().device("cpu"),
    "tf": _tensorflow,
    "np": lambda: np,
    "recipe": lambda: config.FULL_RECIPE,
}


def free_names(source: str) -> set[str]:
    """The names a cell reads but neither defines, imports nor gets from Python's builtins."""
    tree = ast.parse(source)
    read, defined = set(), set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return read - defined


def model_builder(name: str, root=notebooks.ROOT):
    """``build_model`` from the ``model`` cell of notebook ``name``, executed (not copied) with
    the names it needs (``SUPPLIED_NAMES``)."""
    path = notebooks.notebook_path(name, root)
    needed = free_names(notebooks.tagged_cell(path, "model"))
    unknown = sorted(needed - set(SUPPLIED_NAMES))
    if unknown:
        raise ValueError(
            f"The model cell of {name} uses {unknown}, which tools/same_network.py does not "
            f"know how to supply: add them to SUPPLIED_NAMES (it knows {sorted(SUPPLIED_NAMES)})."
        )
    namespace = {key: SUPPLIED_NAMES[key]() for key in sorted(needed)}
    return notebooks.run_model_cell(name, namespace, root)["build_model"]


def framework(model) -> str:
    """``keras``, ``torch`` or ``tensorflow``: the library the model object comes from."""
    modules = [cls.__module__.split(".")[0] for cls in type(model).__mro__]
    for name in ("keras", "torch", "tensorflow"):
        if name in modules:
            return name
    raise ValueError(
        f"{type(model).__name__} is neither a Keras model, a PyTorch module nor a tf.Module."
    )


def _variables(model) -> list:
    """The model's trainable variables as ``(name, shape, assign)``."""
    kind = framework(model)
    if kind == "torch":
        torch = _torch()

        def setter(parameter):
            def assign(array):
                with torch.no_grad():
                    parameter.copy_(torch.from_numpy(array))

            return assign

        return [(n, tuple(p.shape), setter(p)) for n, p in model.named_parameters()]
    found = model.trainable_weights if kind == "keras" else model.trainable_variables
    return [(v.path if kind == "keras" else v.name, tuple(v.shape), v.assign) for v in found]


def load(model, weights: dict, label: str = "the model") -> None:
    """Copy ``weights`` (reference layout) into ``model``, converted to its framework's layout.

    Every variable is matched by its shape, which is different for each of the network's eight
    tensors in either layout, so the order in which a framework lists its variables does not
    matter. Raises ``ValueError`` naming ``label`` when the model's variables are not exactly
    the course network's.
    """
    kind = framework(model)
    converted = to_torch(weights) if kind == "torch" else check_weights(weights)
    by_shape = {array.shape: (name, array) for name, array in converted.items()}
    variables = _variables(model)
    shapes = sorted(shape for _, shape, _ in variables)
    if shapes != sorted(by_shape):
        raise ValueError(
            f"{label} ({kind}) does not have the course network's weights: its variables have "
            f"the shapes {shapes}, the network's are {sorted(by_shape)} in {kind}'s layout."
        )
    for _, shape, assign in variables:
        assign(by_shape[shape][1])


def logits(model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """The model's logits for normalised ``(N, 28, 28, 1)`` images, in inference mode (dropout
    off), on the CPU, as a float32 NumPy array."""
    kind = framework(model)
    parts = []
    if kind == "torch":
        torch = _torch()
        model.eval()
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                batch = images[start : start + batch_size].transpose(0, 3, 1, 2)  # NCHW
                parts.append(model(torch.from_numpy(np.ascontiguousarray(batch))).numpy())
        return np.concatenate(parts)
    tf = _tensorflow()
    with tf.device("/CPU:0"):
        for start in range(0, len(images), batch_size):
            batch = tf.constant(images[start : start + batch_size])
            parts.append(np.asarray(model(batch, training=False)))
    return np.concatenate(parts)


def _channels_last(array: np.ndarray) -> np.ndarray:
    """A PyTorch activation in the reference layout: (N, C, H, W) maps to (N, H, W, C), and a
    channels-first flattening of the pooled map to the channels-last one."""
    if array.ndim == 4:
        return array.transpose(0, 2, 3, 1)
    if array.ndim == 2 and array.shape[1] == np.prod(POOLED_SHAPE):
        return array[:, flatten_permutation(*POOLED_SHAPE)]
    return array


def activations(model, images: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """What the model computes on the way to its logits, in order, in the reference layout:
    ``(label, array)`` for every Keras layer, every PyTorch module without children (its input
    too, where it is not the previous module's output), or every operation of TensorFlow's graph
    that yields a batch of float32 values."""
    kind = framework(model)
    if kind == "keras":
        keras = _keras()
        inner = [layer for layer in model.layers if layer.name != model.name]
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        probe = keras.Model(inputs, [layer.output for layer in inner])
        outputs = probe(images, training=False)
        return [
            (f"layer '{layer.name}' ({type(layer).__name__})", np.asarray(output))
            for layer, output in zip(inner, outputs, strict=True)
        ]
    if kind == "torch":
        return _torch_activations(model, images)
    return _tensorflow_activations(model, images)


def _torch_activations(model, images):
    torch = _torch()
    captured, last = [], [None]
    handles = []

    def before(label):
        def hook(module, inputs):
            if inputs and inputs[0] is not last[0]:
                captured.append((f"input of {label}", inputs[0].detach().numpy().copy()))

        return hook

    def after(label):
        def hook(module, inputs, output):
            last[0] = output
            captured.append((label, output.detach().numpy().copy()))

        return hook

    for name, module in model.named_modules():
        if name and not list(module.children()):
            label = f"module '{name}' ({type(module).__name__})"
            handles.append(module.register_forward_pre_hook(before(label)))
            handles.append(module.register_forward_hook(after(label)))
    try:
        model.eval()
        with torch.inference_mode():
            batch = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
            model(torch.from_numpy(batch))
    finally:
        for handle in handles:
            handle.remove()
    return [(label, _channels_last(array)) for label, array in captured]


def _tensorflow_activations(model, images):
    tf = _tensorflow()
    spec = tf.TensorSpec([None, *images.shape[1:]], tf.float32)
    graph_function = tf.compat.v1.wrap_function(lambda x: model(x, training=False), [spec])
    skip = {"Placeholder", "ReadVariableOp", "Const", "Identity"}
    operations = [
        op
        for op in graph_function.graph.get_operations()
        if op.type not in skip
        and op.outputs
        and op.outputs[0].dtype == tf.float32
        and op.outputs[0].shape.rank
        and op.outputs[0].shape[0] is None  # one value per image: an activation, not a weight
    ]
    fetch = graph_function.prune(
        feeds=graph_function.inputs[0], fetches=[op.outputs[0] for op in operations]
    )
    with tf.device("/CPU:0"):
        values = fetch(tf.constant(images))
    return [
        (f"operation '{op.name}' ({op.type})", np.asarray(v))
        for op, v in zip(operations, values, strict=True)
    ]


# ----------------------------------------------------------------------------- the comparison


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - b)))


def _bound(reference: np.ndarray, tolerance: float) -> float:
    return tolerance * max(1.0, float(np.max(np.abs(reference))))


def locate(captured, stages: dict, tolerance: float = TOLERANCE) -> str:
    """Where a framework's activations part from the reference stages, in readable lines.

    Walks the captured activations in order; each should equal (within the tolerance) a stage
    at or after the last one matched. An activation that matches nothing is allowed while a
    later one matches again (TensorFlow's graph holds each convolution before its bias is
    added, which no stage shows); the first one after the last match is where the network
    diverges. What the reference computes between the last match and that activation's
    nearest stage is where to look (a ReLU, a pooling, a flatten); a framework shows only what
    its modules or layers expose, so PyTorch's ``F.relu`` between two modules is not seen.
    """
    names = list(stages)
    position, walk = 0, []  # (label, matched stage or None, nearest stage, max |Δ|, shape)
    for label, array in captured:
        same_shape = [n for n in names[position:] if stages[n].shape == array.shape]
        gaps = {n: _difference(array, stages[n]) for n in same_shape}
        match = next((n for n in same_shape if gaps[n] <= _bound(stages[n], tolerance)), None)
        nearest = match or (min(gaps, key=gaps.get) if gaps else None)
        if match:
            position = names.index(match)
        walk.append((label, match, nearest, gaps.get(nearest), array.shape[1:]))
    lines = []
    for label, match, nearest, gap, shape in walk:
        if match:
            lines.append(f"  {label:<42} = {match}")
        elif nearest:
            lines.append(f"  {label:<42} ≠ {nearest} (max |Δ| {gap:.3g})")
        else:
            lines.append(f"  {label:<42} ≠ no stage has its shape {shape}")
    matched = [i for i, step in enumerate(walk) if step[1]]
    last = matched[-1] if matched else -1
    if last == len(walk) - 1:
        return "Every activation matches the reference, up to the logits.\n" + "\n".join(lines)
    label, _, nearest, gap, _ = walk[last + 1]
    if nearest:
        text = f"First divergence: {label}, which should equal '{nearest}' (max |Δ| {gap:.3g})."
    else:
        text = f"First divergence: {label}, whose shape no stage of the network has."
    if last >= 0:
        good = walk[last][1]
        text += f"\nLast match: {walk[last][0]} = '{good}'."
        if nearest:
            between = names[names.index(good) + 1 : names.index(nearest)]
            if not between:
                text += f"\nSo {label} itself computes something other than '{nearest}'."
            elif len(between) == 1 and between[0].endswith("+ ReLU"):
                layer = between[0].split(" + ")[0]
                text += f"\nIn between, the reference applies the ReLU of {layer}: is it missing?"
            else:
                steps = ", ".join(between)
                text += f"\nIn between, the reference computes {steps}, then '{nearest}'."
    return text + "\nLayer by layer:\n" + "\n".join(lines[: last + 3])


@dataclasses.dataclass
class Comparison:
    """How one notebook's network compares with the NumPy reference."""

    notebook: str
    framework: str
    max_difference: float  # largest |logit - reference logit|
    predictions_differ: int  # images whose predicted digit differs
    images: int
    tolerance: float
    where: str = ""  # the layer-by-layer diagnosis, when they disagree

    @property
    def ok(self) -> bool:
        return self.max_difference <= self.tolerance and self.predictions_differ == 0

    def message(self) -> str:
        verdict = "agrees with" if self.ok else "differs from"
        text = (
            f"{self.notebook} ({self.framework}) {verdict} the NumPy reference: max |Δ logit| "
            f"{self.max_difference:.2g} (tolerance {self.tolerance:.0e}), "
            f"{self.predictions_differ} of {self.images:,} predicted digits differ."
        )
        return text + ("\n" + self.where if self.where else "")


def compare(
    notebook: str,
    images: np.ndarray,
    weights: dict,
    reference: np.ndarray | None = None,
    tolerance: float = TOLERANCE,
    diagnose_images: int = 16,
    model=None,
) -> Comparison:
    """Build ``notebook``'s network from its ``model`` cell (or take ``model``), load
    ``weights``, and compare its logits on ``images`` with the NumPy ``reference`` logits
    (computed when not given). When they disagree, ``where`` locates the first layer at fault
    on the first ``diagnose_images`` images."""
    if model is None:
        model = model_builder(notebook)()
    kind = framework(model)
    load(model, weights, notebook)
    if reference is None:
        reference = reference_logits(images, weights)
    got = logits(model, images)
    result = Comparison(
        notebook=notebook,
        framework=kind,
        max_difference=_difference(got, reference),
        predictions_differ=int(np.sum(got.argmax(axis=1) != reference.argmax(axis=1))),
        images=len(images),
        tolerance=tolerance,
    )
    if not result.ok:
        sample = images[:diagnose_images]
        result.where = locate(activations(model, sample), reference_stages(sample, weights))
    return result
