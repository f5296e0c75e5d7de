"""Model summaries: what the checks compare, filled in by each notebook's ``summarize(model)``
or made from notebook 00's list of layer dicts."""

from __future__ import annotations

from .. import concepts
from .answers import Refusal, sequence, shape_of, short, whole_number

#: The keys a layer dict of notebook 00 may have, by kind (concepts.MODEL shows them).
LAYER_KEYS = {
    "conv": {"kind", "filters", "kernel", "stride", "padding", "activation"},
    "maxpool": {"kind", "pool", "stride"},
    "dropout": {"kind", "rate"},
    "flatten": {"kind"},
    "dense": {"kind", "units", "activation"},
}

#: The keys that hold a size (a count of filters or units, a kernel, pool or stride width), and
#: the largest size a check reads: beyond it an answer is a slip, not a network.
SIZE_KEYS = {"filters", "kernel", "stride", "pool", "units"}
LARGEST_SIZE = 100_000


def _check_layer_dicts(layers) -> None:
    for i, layer in enumerate(layers):
        kind = layer.get("kind")
        if kind not in LAYER_KEYS:
            raise Refusal(f"layer {i} has kind {kind!r}; the kinds are {', '.join(LAYER_KEYS)}")
        unknown = sorted(set(map(str, layer)) - LAYER_KEYS[kind])
        if unknown:
            raise Refusal(
                f"layer {i} ({kind}) has the unknown key(s) {unknown}; a {kind} layer takes "
                f"{sorted(LAYER_KEYS[kind])}, as in concepts.MODEL"
            )
        for key in SIZE_KEYS & set(layer):
            size = whole_number(layer[key], f"layer {i}'s {key!r}")
            if not 1 <= size <= LARGEST_SIZE:
                raise Refusal(
                    f"layer {i} ({kind}) has {key!r} {size:,}: a size from 1 to "
                    f"{LARGEST_SIZE:,} is expected (concepts.MODEL uses 2 to 128)"
                )


def summary_from_layers(layers, input_shape=concepts.INPUT_SHAPE) -> dict:
    """A list of layer dicts, as in ``concepts.MODEL``, summarised like a framework's model."""
    rows = concepts.layer_rows(layers, input_shape)
    weights = []
    for spec, row in zip(layers, rows[1:], strict=True):
        if spec["kind"] == "conv":
            k = spec["kernel"]
            weights.append((row["layer"], (k, k, row["input_shape"][-1], spec["filters"])))
        elif spec["kind"] == "dense":
            weights.append((row["layer"], (row["input_shape"][0], spec["units"])))
    return {
        "parameters": sum(row["parameters"] for row in rows),
        "weights": weights,
        "layers": [(row["layer"], tuple(row["output_shape"])) for row in rows[1:]],
        "output": tuple(rows[-1]["output_shape"]),
    }


def as_summary(answer) -> dict:
    """A model summary, checked and cleaned, or a list of layer dicts (notebook 00) turned into
    one."""
    if isinstance(answer, (list, tuple)) and answer and all(isinstance(x, dict) for x in answer):
        _check_layer_dicts(answer)
        return summary_from_layers(answer)
    if not isinstance(answer, dict) or "parameters" not in answer or "weights" not in answer:
        raise Refusal(
            "expected summarize(model), a dict with 'parameters' and 'weights' (or, in notebook "
            f"00, a list of layer dicts); got {short(answer)}"
        )
    weights = [_named_shape(item, "weights") for item in sequence(answer["weights"], "weights")]
    layers = answer.get("layers")
    layers = None if layers is None else [_named_shape(x, "layers") for x in sequence(layers, "")]
    output = answer.get("output")
    return {
        "parameters": whole_number(answer["parameters"], "the parameter count"),
        "weights": weights,
        "layers": layers,
        "output": None if output is None else shape_of(output, "the output shape"),
    }


def _named_shape(item, key: str) -> tuple[str, tuple[int, ...]]:
    if not isinstance(item, (list, tuple)) or len(item) != 2:
        raise Refusal(
            f"each entry of the summary's {key!r} is a pair (name, shape), not {short(item)}"
        )
    return str(item[0]), shape_of(item[1], f"a shape in the summary's {key!r}")


def _weight_shapes(summary) -> list[tuple[int, ...]]:
    return [tuple(int(d) for d in shape) for _, shape in summary["weights"]]


def same_dims(shape, dims) -> bool:
    """True when ``shape`` has the sizes ``dims`` in any order (channels first or last)."""
    return sorted(shape) == sorted(dims)


def has_weight(summary, dims) -> bool:
    return any(same_dims(shape, dims) for shape in _weight_shapes(summary))


def first_dense_inputs(summary) -> int | None:
    """How many values reach the first dense layer: the other side of its 2-D weight matrix."""
    for shape in _weight_shapes(summary):
        if len(shape) == 2:
            return shape[0] if shape[1] < shape[0] else shape[1]
    return None


def layer_kinds(summary) -> list[str]:
    return [str(kind).lower() for kind, _ in summary.get("layers") or []]


def parameters_off(summary, expected: int, why: str = "") -> str | None:
    got = int(summary["parameters"])
    if got == expected:
        return None
    course = " (the course model's own count)" if got == 1_199_882 else ""
    return (
        f"your model has {got:,} parameters{course}, {abs(got - expected):,} "
        f"{'more' if got > expected else 'fewer'} than the {expected:,} expected" + why
    )


def output_off(summary) -> str | None:
    output = summary.get("output")
    if output is not None and tuple(output)[-1:] != (10,):
        return f"the model's output for one image has shape {tuple(output)}, not 10 logits"
    return None
