"""The exercises of notebook 00 and its questionnaire."""

from __future__ import annotations

import numpy as np

from .. import concepts
from .answers import Refusal, finite_array, numbers_of, short, whole_number
from .core import Exercise, choice, make_exercise, numbered, solution_code
from .summaries import (
    as_summary,
    first_dense_inputs,
    has_weight,
    layer_kinds,
    output_off,
    parameters_off,
)

STRIDE_PARAMETERS = 1_214_218  # conv2 becomes 4 x 4 x 32 x 64 + 64 = 32,832 parameters


def _check_strided(answer) -> str | None:
    if not (isinstance(answer, (list, tuple)) and answer and isinstance(answer[0], dict)):
        raise Refusal(
            "expected a list of layer dicts like concepts.MODEL, e.g. [{'kind': 'conv', "
            f"'filters': 32, 'kernel': 3, 'activation': 'relu'}}, ...]; got {short(answer)}"
        )
    summary = as_summary(answer)
    inputs = first_dense_inputs(summary)
    kinds = layer_kinds(summary)
    if any("pool" in kind for kind in kinds):
        return "there is still a pooling layer: the strided convolution replaces it"
    if inputs == 2304:
        return (
            "the first dense layer gets 2,304 = 6 × 6 × 64 values: the max pool is still there "
            "and halves the 12 × 12 map again"
        )
    if inputs == 10816:
        return (
            "the first dense layer gets 10,816 = 13 × 13 × 64 values: a 3 × 3 kernel with "
            "stride 2 and 'same' padding gives 13 × 13 (frameworks floor (26 + 2 - 3) / 2 + 1 = "
            "13.5); use a 4 × 4 kernel without padding"
        )
    off = parameters_off(summary, STRIDE_PARAMETERS)
    if off and inputs and inputs != 9216:
        return f"{off}; its first dense layer takes {inputs:,} inputs, not 9,216 (12 × 12 × 64)"
    if off and not has_weight(summary, (4, 4, 32, 64)):
        return f"{off}; there is no 4 × 4 kernel from 32 to 64 channels"
    return off or output_off(summary)


STRIDE_TITLE = "Stride instead of pooling"


STRIDE_PRAISE = (
    "1,214,218 parameters, 14,336 more than the course model, and the dense layers still get "
    "9,216 = 12 × 12 × 64 values, now without a max pool."
)


STRIDE_HINT = (
    "Only the second convolution and the pool change: the pool goes, and the convolution gets "
    "kernel 4 and stride 2 ((26 - 4) / 2 + 1 = 12). The flatten layer and the dense layers "
    "stay exactly as they are."
)


def _check_kernel(answer) -> str | None:
    kernel = finite_array(answer, "a kernel, a small 2-D array of numbers", largest=49)
    if kernel.ndim != 2 or min(kernel.shape) < 2:
        return f"a kernel is a small 2-D array such as 3 × 3, got shape {kernel.shape}"
    if not kernel.any():
        return "a kernel of zeros answers nothing at all"
    size = 12
    rows, cols = np.indices((size, size))
    horizontal_edge = (rows >= size // 2).astype(float)  # dark top, bright bottom
    vertical_edge = (cols >= size // 2).astype(float)
    flat = np.ones((size, size))
    answers = {
        name: np.abs(concepts.apply_kernel(image, kernel)).max()
        for name, image in (("h", horizontal_edge), ("v", vertical_edge), ("flat", flat))
    }
    if answers["h"] < 1e-9:
        kind = "it answers vertical edges instead" if answers["v"] > 1e-9 else "nor anything else"
        return f"your kernel does not answer a horizontal edge at all: {kind}"
    if answers["flat"] > 0.1 * answers["h"]:
        return (
            f"your kernel answers a flat grey area with {answers['flat']:.3g}: an edge filter's "
            "weights add up to 0"
        )
    if answers["v"] > 0.1 * answers["h"]:
        return (
            f"your kernel answers a vertical edge with {answers['v']:.3g}, "
            f"{answers['v'] / answers['h']:.0%} of its answer to a horizontal one: it should "
            "ignore vertical edges"
        )
    return None


def _check_sizes(answer) -> str | None:
    what = "three numbers, (size with 4 × 4, with 5 × 5 in a framework, rows left)"
    four, five, left = (int(x) if x.is_integer() else x for x in numbers_of(answer, 3, what))
    if four != 14:
        return (
            f"a 4 × 4 kernel, stride 2, padding 1 on 28 gives (28 + 2 - 4) / 2 + 1 = 14, not {four}"
        )
    if five == 13.5:
        return "13.5 is what the formula says; a framework keeps whole windows only and rounds down"
    if five != 13:
        return f"with 5 × 5 a framework gives floor((28 + 2 - 5) / 2) + 1 = 13, not {five}"
    if left != 1:
        return (
            f"{left} is not the leftover: 13 windows with stride 2 cover 12 × 2 + 5 = 29 of the "
            "30 padded rows"
        )
    return None


def _check_weights_left(answer) -> str | None:
    what = "two parameter counts, (dense layer of 64 units, a second max pool)"
    dense64, second_pool = (
        whole_number(x, "a parameter count") for x in numbers_of(answer, 2, what)
    )
    if dense64 != 609_354:
        return f"with 64 hidden units the model has 609,354 parameters, not {dense64:,}" + (
            " (did you change the last dense layer's inputs too?)" if dense64 == 1_199_882 else ""
        )
    if second_pool != 315_146:
        return (
            f"with a second max pool the model has 315,146 parameters, not {second_pool:,}: the "
            "map shrinks to 6 × 6 × 64, so the first dense layer gets 2,304 inputs"
        )
    return None


def exercises(**_) -> tuple[Exercise, ...]:
    return numbered(
        make_exercise(
            "Your own kernel",
            _check_kernel,
            "A vertical-edge filter compares the columns left and right of a pixel; a "
            "horizontal one compares the rows above and below. Transposing a 3 × 3 array swaps "
            "its rows and columns: vertical_edges.T.",
            solution_code("""
                horizontal_edges = vertical_edges.T  # [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]
                fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
                axes[0].imshow(np.abs(concepts.apply_kernel(photo, horizontal_edges)), cmap="gray")
                axes[1].imshow(concepts.apply_kernel(digit, horizontal_edges), cmap="RdBu_r")
                for ax in axes:
                    ax.axis("off")
                plt.show()
                answer = horizontal_edges
            """),
            "it answers horizontal edges and ignores vertical ones and flat areas: on the "
            "digit the top bar and the horizontal strokes light up.",
        ),
        make_exercise(
            "Sizes by hand",
            _check_sizes,
            "(28 + 2 × 1 - 4) / 2 + 1 is a whole number; with F = 5 it is 13.5. A framework "
            "slides whole windows only: count how far the 13th window reaches in the 30 padded "
            "rows.",
            solution_code("""
                print(concepts.conv_output_size(28, 4, stride=2, padding=1))  # 14
                print(concepts.conv2d_multichannel(np.zeros((28, 28, 1)), np.zeros((4, 4, 1, 1)),
                                                   stride=2, padding=1).shape)  # (14, 14, 1)
                try:
                    concepts.conv_output_size(28, 5, stride=2, padding=1)
                except ValueError as err:
                    print(err)
                padded = 28 + 2 * 1
                windows = (padded - 5) // 2 + 1  # what a framework gives: 13
                reach = (windows - 1) * 2 + 5  # the last window ends after row 29
                answer = (14, windows, padded - reach)
            """),
            "14 with 4 × 4; with 5 × 5 the formula gives 13.5, a framework keeps 13 windows and "
            "silently ignores the last padded row, which is why conv_output_size refuses it.",
        ),
        make_exercise(
            STRIDE_TITLE,
            _check_strided,
            STRIDE_HINT,
            solution_code("""
                no_pool = [dict(layer) for layer in concepts.MODEL if layer["kind"] != "maxpool"]
                no_pool[1] = {"kind": "conv", "filters": 64, "kernel": 4, "stride": 2,
                              "activation": "relu"}
                table = concepts.layer_table(no_pool)
                print(table[["layer", "output_shape", "parameters", "flops"]])
                print(concepts.model_totals(no_pool)["forward_flops"] / concepts.flops_per_image())
                answer = no_pool
            """),
            STRIDE_PRAISE,
        ),
        make_exercise(
            "Where the weights are",
            _check_weights_left,
            "The first dense layer has (flattened size) × (units) weights plus one bias per "
            "unit, and the last one (units) × 10 + 10. A second 2 × 2 pool halves 12 × 12.",
            solution_code("""
                dense64 = [dict(layer) for layer in concepts.MODEL]
                dense64[5]["units"] = 64
                second_pool = list(concepts.MODEL)
                second_pool.insert(3, {"kind": "maxpool", "pool": 2})
                answer = (concepts.model_totals(dense64)["parameters"],
                          concepts.model_totals(second_pool)["parameters"])
                print(answer)
            """),
            "609,354 with 64 hidden units and 315,146 with a second pool: the first dense layer "
            "holds nearly all the weights, so whatever shrinks its input or output shrinks the "
            "model.",
        ),
        make_exercise(
            "Bayes error",
            choice(
                "b",
                {"a": "the avoidable bias", "b": "the variance"},
                {
                    "a": "the avoidable bias is 3.5% - 3% = 0.5 points; the variance, 8% - 3.5%, "
                    "is 4.5 points"
                },
            ),
            "Avoidable bias = training error - Bayes error; variance = dev error - training "
            "error. metrics.diagnose(0.035, 0.08, 0.03) does the arithmetic.",
            solution_code("""
                print(metrics.diagnose(0.035, 0.08, 0.03))
                answer = "b"  # variance: 4.5 points against 0.5 of avoidable bias
            """),
            "4.5 points of variance against 0.5 of avoidable bias: more data, augmentation or "
            "regularisation first.",
        ),
    )
