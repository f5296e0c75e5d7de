"""One set of weights in every framework: does each backend notebook compute the same function?

The six backend notebooks claim to build the same network. This module checks the claim
without training anything: it builds a notebook's network from the notebook's own ``model``
cell (``tools.notebooks.model_builder``), loads one fixed set of weights into it, and compares
what it computes with the plain NumPy forward pass of ``tools.numpy_network``, made of the
course's by-hand layers. Weights travel in that module's reference layout; ``load`` converts
them to each framework's.

When a framework disagrees, ``compare`` says where: it records the framework's activations
layer by layer (Keras sub-model, PyTorch hooks, the operations of TensorFlow's graph) and names
the first one that no longer matches a stage of the NumPy forward pass.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import notebooks
from .numpy_network import (
    POOLED_SHAPE,
    check_weights,
    flatten_permutation,
    reference_logits,
    reference_stages,
    to_torch,
)

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


# ----------------------------------------------------------------------------- the frameworks


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
        torch = notebooks.torch_module()

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
        torch = notebooks.torch_module()
        model.eval()
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                batch = images[start : start + batch_size].transpose(0, 3, 1, 2)  # NCHW
                parts.append(model(torch.from_numpy(np.ascontiguousarray(batch))).numpy())
        return np.concatenate(parts)
    tf = notebooks.tensorflow_module()
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
        keras = notebooks.keras_module()
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
    torch = notebooks.torch_module()
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
    tf = notebooks.tensorflow_module()
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
        model = notebooks.model_builder(notebook)()
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
