import subprocess
import sys

import numpy as np
import pytest
from scipy import signal

from shared import concepts


def test_importing_concepts_pulls_in_no_framework_and_no_scipy():
    code = (
        "import sys, shared.concepts; "
        "print([m for m in ('torch', 'tensorflow', 'keras', 'scipy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "width, kernel, stride, padding, expected",
    [
        (6, 3, 1, 0, 4),
        (32, 5, 1, 0, 28),
        (32, 5, 1, 2, 32),  # "same" padding
        (7, 3, 2, 0, 3),
        (7, 3, 2, 1, 4),
        (28, 3, 1, 0, 26),
        (26, 3, 1, 0, 24),
        (5, 5, 1, 0, 1),
        (1, 3, 1, 1, 1),
        (np.int64(28), np.int32(3), 1, 0, 26),  # NumPy integers are fine
    ],
)
def test_conv_output_size(width, kernel, stride, padding, expected):
    assert concepts.conv_output_size(width, kernel, stride, padding) == expected


def test_pool_output_size_defaults_the_stride_to_the_window():
    assert concepts.pool_output_size(24) == 12
    assert concepts.pool_output_size(24, 3) == 8
    assert concepts.pool_output_size(5, 3, stride=1) == 3
    with pytest.raises(ValueError, match="not divisible"):
        concepts.pool_output_size(25, 2)


@pytest.mark.parametrize(
    "width, kernel, stride, padding, message",
    [
        (0, 3, 1, 0, "width must be an integer >= 1"),
        (28, 0, 1, 0, "kernel must be an integer >= 1"),
        (28, 3, 0, 0, "stride must be an integer >= 1"),
        (28, 3, 1, -1, "padding must be an integer >= 0"),
        (28.0, 3, 1, 0, "width must be an integer"),
        (True, 3, 1, 0, "width must be an integer"),
        (3, 5, 1, 0, "larger than the padded input 3.*padding of at least 1"),
        (28, 3, 3, 0, r"= 25 is not divisible by the stride 3.*padding=1 \(output 10\)"),
        (26, 3, 2, 0, r"kernel=4 \(output 12\) or stride=1 \(output 24\)"),
        (10, 3, 2, 0, r"7/2 \+ 1 = 4.5"),
    ],
)
def test_conv_output_size_refuses_impossible_settings(width, kernel, stride, padding, message):
    with pytest.raises(ValueError, match=message):
        concepts.conv_output_size(width, kernel, stride, padding)


@pytest.mark.parametrize("width, kernel, stride, padding", [(26, 3, 2, 0), (28, 3, 4, 0)])
def test_the_suggested_fixes_work(width, kernel, stride, padding):
    with pytest.raises(ValueError) as err:
        concepts.conv_output_size(width, kernel, stride, padding)
    message = str(err.value)
    fixed = message.split("Use ", 1)[1]
    for fix in fixed.removesuffix(" instead.").split(" or "):
        name, rest = fix.split("=", 1)
        value, size = int(rest.split(" ")[0]), int(rest.split("output ")[1].rstrip(")"))
        settings = dict(width=width, kernel=kernel, stride=stride, padding=padding)
        settings[name] = value
        assert concepts.conv_output_size(**settings) == size


def scipy_conv(image, filters, stride, padding):
    padded = np.pad(image, ((padding, padding), (padding, padding), (0, 0)))
    channels, count = filters.shape[2:]
    out = np.stack(
        [
            sum(
                signal.correlate2d(padded[:, :, c], filters[:, :, c, n], mode="valid")
                for c in range(channels)
            )
            for n in range(count)
        ],
        axis=-1,
    )
    return out[::stride, ::stride]


@pytest.mark.parametrize(
    "shape, filters_shape, stride, padding",
    [
        ((6, 6, 3), (3, 3, 3, 1), 1, 0),
        ((6, 6, 3), (3, 3, 3, 2), 1, 0),
        ((9, 9, 3), (3, 3, 3, 4), 2, 1),
        ((8, 10, 2), (3, 5, 2, 3), 1, 2),  # rectangular image and kernel
    ],
)
def test_conv2d_multichannel_matches_scipy(shape, filters_shape, stride, padding):
    rng = np.random.default_rng(1)
    image, filters = rng.normal(size=shape), rng.normal(size=filters_shape)
    out = concepts.conv2d_multichannel(image, filters, stride, padding)
    expected = scipy_conv(image, filters, stride, padding)
    assert out.shape == expected.shape
    assert np.allclose(out, expected)


def test_conv2d_multichannel_adds_one_bias_per_filter():
    image = np.ones((4, 4, 2), dtype=np.uint8)
    filters = np.ones((3, 3, 2, 2))
    out = concepts.conv2d_multichannel(image, filters, bias=[0.5, -1])
    assert out.shape == (2, 2, 2)
    assert np.all(out[..., 0] == 18.5) and np.all(out[..., 1] == 17)


@pytest.mark.parametrize(
    "image, filters, kwargs, message",
    [
        (
            np.ones((6, 6)),
            np.ones((3, 3, 1, 1)),
            {},
            r"image must be .*\(height, width, channels\)",
        ),
        (np.ones((6, 6, 1)), np.ones((3, 3, 1)), {}, "filters must be"),
        (np.ones((6, 6, 3)), np.ones((3, 3, 1, 2)), {}, "3 channels but the filters expect 1"),
        (np.ones((6, 6, 1)), np.ones((7, 7, 1, 1)), {}, "larger than the padded input"),
        (np.ones((6, 6, 1)), np.ones((3, 3, 1, 2)), {"bias": [1.0]}, r"one number per filter"),
        (np.ones((6, 6, 1)), np.ones((3, 3, 1, 1)), {"stride": 2}, "not divisible"),
        (np.array([["a"]]), np.ones((3, 3, 1, 1)), {}, "real array"),
        (np.ones((6, 6, 1)) * 1j, np.ones((3, 3, 1, 1)), {}, "real array"),
        (np.ones((0, 6, 1)), np.ones((3, 3, 1, 1)), {}, "non-empty"),
    ],
)
def test_conv2d_multichannel_refuses_bad_input(image, filters, kwargs, message):
    with pytest.raises(ValueError, match=message):
        concepts.conv2d_multichannel(image, filters, **kwargs)


def test_relu():
    assert concepts.relu([-2, 0, 3]).tolist() == [0, 0, 3]
    assert concepts.relu(-1.5) == 0


def test_pooling():
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])
    assert concepts.pool2d(x).tolist() == [[6, 8], [3, 4]]
    assert concepts.pool2d(x, mode="average").tolist() == [[3.25, 5.25], [2, 2]]
    assert concepts.pool2d(x, 3, stride=1).tolist() == [[7, 8], [7, 8]]
    stacked = np.stack([x, -x], axis=-1)
    assert concepts.pool2d(stacked).shape == (2, 2, 2)
    assert concepts.pool2d(stacked)[..., 1].tolist() == [[-1, -2], [-1, 0]]
    assert concepts.global_pool(x, "max") == 8 and concepts.global_pool(x) == 3.125
    assert concepts.global_pool(stacked, "max").tolist() == [8, 0]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: concepts.pool2d(np.ones((4, 4)), mode="min"), "'max' or 'average'"),
        (lambda: concepts.pool2d(np.ones((5, 5)), 2), "not divisible"),
        (lambda: concepts.pool2d(np.ones(4)), "height, width"),
        (lambda: concepts.global_pool(np.ones((4, 4)), mode="sum"), "'max' or 'average'"),
        (lambda: concepts.global_pool(np.ones((1, 4, 4, 1))), "height, width"),
    ],
)
def test_pooling_refuses_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_grayscale():
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[..., 1] = 255
    assert np.allclose(concepts.grayscale(rgb), 0.587)
    rgba = np.concatenate([np.ones((2, 2, 3)), np.zeros((2, 2, 1))], axis=-1)
    assert np.allclose(concepts.grayscale(rgba), 1.0)
    assert concepts.grayscale(np.full((2, 2), 0.25)).tolist() == [[0.25, 0.25], [0.25, 0.25]]
    with pytest.raises(ValueError, match="3 \\(RGB\\) or 4 \\(RGBA\\)"):
        concepts.grayscale(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="image must be"):
        concepts.grayscale(np.ones(5))


def test_apply_kernel_keeps_the_size_and_correlates():
    image = np.arange(36, dtype=float).reshape(6, 6)
    identity = np.zeros((3, 3))
    identity[1, 1] = 1
    assert np.array_equal(concepts.apply_kernel(image, identity), image)
    shift = np.zeros((3, 3))
    shift[1, 2] = 1  # correlation reads the right-hand neighbour; convolution would read the left
    out = concepts.apply_kernel(image, shift)
    assert out.shape == image.shape and np.array_equal(out[:, :-1], image[:, 1:])


@pytest.mark.parametrize(
    "image, kernel, message",
    [
        (np.ones((4, 4, 3)), np.ones((3, 3)), "use grayscale"),
        (np.ones((4, 4)), np.ones(3), "kernel must be"),
        (np.ones((2, 4)), np.ones((3, 3)), "larger than the image"),
    ],
)
def test_apply_kernel_refuses_bad_input(image, kernel, message):
    with pytest.raises(ValueError, match=message):
        concepts.apply_kernel(image, kernel)


def test_layer_table_of_the_course_model():
    table = concepts.layer_table()
    assert list(table["layer"]) == [
        "Input",
        "Conv 3×3×32 + ReLU",
        "Conv 3×3×64 + ReLU",
        "MaxPool 2×2",
        "Dropout 0.25",
        "Flatten",
        "Dense 128 + ReLU",
        "Dropout 0.5",
        "Dense 10",
    ]
    assert list(table["output_shape"]) == [
        (28, 28, 1),
        (26, 26, 32),
        (24, 24, 64),
        (12, 12, 64),
        (12, 12, 64),
        (9216,),
        (128,),
        (128,),
        (10,),
    ]
    assert table["input_shape"][0] is None and table["input_shape"][1] == (28, 28, 1)
    assert list(table["weights"]) == [0, 288, 18432, 0, 0, 0, 1179648, 0, 1280]
    assert list(table["biases"]) == [0, 32, 64, 0, 0, 0, 128, 0, 10]
    assert list(table["flops"]) == [0, 389376, 21233664, 0, 0, 0, 2359296, 0, 2560]
    assert table["activations"].sum() == 87_194


def test_model_totals_match_the_design():
    totals = concepts.model_totals()
    assert totals == {
        "activations": 87_194,
        "weights": 1_199_648,
        "biases": 234,
        "parameters": 1_199_882,
        "activation_bytes": 348_776,  # ≈ 0.35 MB in float32
        "forward_flops": 23_984_896,  # ≈ 24 MFLOP
        "training_flops": 71_954_688,  # ≈ 72 MFLOP
    }
    assert concepts.flops_per_image() == 23_984_896
    assert concepts.flops_per_image(training=True) == 3 * 23_984_896
    assert concepts.flops_per_epoch() == 60_000 * 71_954_688  # ≈ 4.3 TFLOP
    assert concepts.flops_per_epoch(10, training=False) == 10 * 23_984_896


def test_layer_table_of_another_model():
    layers = [
        {"kind": "conv", "filters": 8, "kernel": 4, "stride": 2, "padding": 1},
        {"kind": "maxpool", "pool": 3, "stride": 1},
        {"kind": "flatten"},
        {"kind": "flatten"},
        {"kind": "dense", "units": 5, "activation": "relu"},
    ]
    rows = concepts.layer_rows(layers, (10, 10, 3))
    assert [row["output_shape"] for row in rows] == [
        (10, 10, 3),
        (5, 5, 8),
        (3, 3, 8),
        (72,),
        (72,),
        (5,),
    ]
    assert rows[1]["layer"] == "Conv 4×4×8" and rows[1]["parameters"] == 4 * 4 * 3 * 8 + 8
    assert rows[1]["flops"] == 2 * 5 * 5 * 8 * 4 * 4 * 3
    assert rows[-1]["layer"] == "Dense 5 + ReLU" and rows[-1]["parameters"] == 72 * 5 + 5
    assert concepts.model_totals([{"kind": "dense", "units": 2}], (3,))["parameters"] == 8


@pytest.mark.parametrize(
    "layers, input_shape, message",
    [
        ([{"filters": 8}], (28, 28, 1), "dict with a 'kind'"),
        (["conv"], (28, 28, 1), "dict with a 'kind'"),
        ([{"kind": "lstm"}], (28, 28, 1), "unknown layer kind 'lstm'"),
        ([{"kind": "conv", "filters": 8}], (28, 28, 1), r"\['kernel'\] missing"),
        ([{"kind": "dense", "units": 8, "activation": "tanh"}], (8,), "None or 'relu'"),
        ([{"kind": "dense", "units": 10}], (28, 28, 1), "add {'kind': 'flatten'} before it"),
        (
            [{"kind": "flatten"}, {"kind": "conv", "filters": 8, "kernel": 3}],
            (28, 28, 1),
            "before the flatten layer",
        ),
        ([{"kind": "maxpool", "pool": 2}], (9,), "before the flatten layer"),
        ([{"kind": "dropout", "rate": 1.0}], (9,), r"rate must be a number in \[0, 1\)"),
        ([{"kind": "dropout", "rate": "half"}], (9,), "rate must be a number"),
        ([{"kind": "conv", "filters": 0, "kernel": 3}], (28, 28, 1), "filters must be"),
        ([{"kind": "conv", "filters": 8, "kernel": 3, "stride": 2}], (28, 28, 1), "not divisible"),
        ([{"kind": "maxpool", "pool": 2}], (25, 25, 1), "not divisible"),
        ([], (28, 28), r"\(height, width, channels\) or \(features,\)"),
        ([], (28, 0, 1), "input_shape must be an integer >= 1"),
    ],
)
def test_layer_rows_refuse_bad_models(layers, input_shape, message):
    with pytest.raises(ValueError, match=message):
        concepts.layer_rows(layers, input_shape)


def test_flops_per_epoch_needs_images():
    with pytest.raises(ValueError, match="num_images"):
        concepts.flops_per_epoch(0)
