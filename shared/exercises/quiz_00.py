"""The questionnaire at the end of notebook 00."""

from __future__ import annotations

from .. import concepts, config
from .core import Exercise, choice, model_answer, number


def questionnaire() -> list[Exercise]:
    totals = concepts.model_totals()
    rows = concepts.layer_rows()
    conv2_share = 100 * rows[2]["flops"] / totals["forward_flops"]
    steps = config.FULL_RECIPE.epochs * config.steps_per_epoch(60_000, 128)
    items = [
        (
            "What does a convolution layer compute at one position of its input?",
            None,
            "Look at conv2d_multichannel's inner loop.",
            model_answer("""At each position it multiplies the window of the input under the
                        filter (all channels) element by element with the filter's weights and
                        adds everything up, plus the bias, into one number. Sliding the filter
                        over the image gives one output map per filter."""),
            "",
            None,
        ),
        (
            "How wide is the output of a 3 × 3 convolution, stride 1, no padding, on a 28-wide "
            "input?",
            number(26, why="O = (W + 2P - F) / S + 1 = (28 - 3) / 1 + 1"),
            "O = (W + 2P - F) / S + 1 with W = 28, F = 3, S = 1, P = 0.",
            model_answer("26: (28 + 0 - 3) / 1 + 1."),
            "26.",
            26,
        ),
        (
            "What padding keeps a 32-wide input 32 wide under a 5 × 5 kernel with stride 1?",
            number(2, why="'same' padding for stride 1 is (F - 1) / 2"),
            "Solve (32 + 2P - 5) / 1 + 1 = 32 for P.",
            model_answer("2, that is (F - 1) / 2 for a 5 × 5 kernel."),
            "(F - 1) / 2 = 2.",
            2,
        ),
        (
            "A 6 × 6 × 3 image goes through two 3 × 3 × 3 filters. The output is a) 4 × 4 × 3, b) "
            "4 × 4 × 2, c) 4 × 4 × 6 or d) 6 × 6 × 2?",
            choice(
                "b",
                {"a": "4 × 4 × 3", "b": "4 × 4 × 2", "c": "4 × 4 × 6", "d": "6 × 6 × 2"},
                {"a": "each filter spans all 3 input channels and gives one map"},
            ),
            "A filter spans all input channels; each filter gives one output channel.",
            model_answer(
                "b, 4 × 4 × 2: each 3 × 3 × 3 filter sums over the three channels and "
                "gives one 4 × 4 map."
            ),
            "one map per filter.",
            "b",
        ),
        (
            "Deep-learning libraries compute a cross-correlation and call it a convolution. Why "
            "does the missing flip not matter?",
            None,
            "What would flipping a kernel change when its numbers are learnt?",
            model_answer("""A true convolution flips the kernel first. Since the network
                        learns the kernel's numbers, it simply learns the flipped version; the
                        flip changes nothing about what the layer can do, so libraries skip it."""),
            "",
            None,
        ),
        (
            "Why does a CNN need a ReLU between two convolutions?",
            None,
            "What do two linear filters applied one after the other amount to?",
            model_answer("""Without a non-linearity between them, two convolutions are one
                        linear filter (a bigger kernel), however many you stack. ReLU, max(0, x),
                        keeps the positive answers of each filter and zeroes the rest, which lets
                        stacked layers build features no single filter can."""),
            "",
            None,
        ),
        (
            "Shift a digit one pixel to the right. Which changes least: a) the raw pixels, b) a 2 "
            "× 2 max pool, c) a 28 × 28 (global) max pool?",
            choice(
                "c",
                {
                    "a": "the raw pixels",
                    "b": "a 2 × 2 max pool",
                    "c": "a 28 × 28 (global) max pool",
                },
            ),
            "See the table of relative changes after a one-pixel shift.",
            model_answer(
                "c: the global max pool did not change at all (0%), the raw pixels "
                "changed by 56% and the 2 × 2 pool by 37%. The price is losing where a "
                "feature was."
            ),
            "the wider the pool, the less a shift matters.",
            "c",
        ),
        (
            "One value after the second convolution depends on a square of input pixels (its "
            "receptive field). How many pixels wide is it?",
            number(5, why="each 3 × 3 convolution widens the view by 2 pixels: 1 + 2 + 2"),
            "One value after conv1 sees 3 × 3 pixels; one after conv2 sees 3 × 3 values "
            "of conv1's output.",
            model_answer("""5: a value after the second convolution depends on a 5 × 5 square
                        of input pixels (its receptive field), because each 3 × 3 convolution adds
                        one pixel on every side. After the 2 × 2 pool it is 6 × 6."""),
            "a 5 × 5 receptive field.",
            5,
        ),
        (
            "How many values per image reach the flatten layer?",
            number(9216, why="12 × 12 × 64"),
            "28 → 26 → 24 → pool → 12, with 64 channels.",
            model_answer("9,216 = 12 × 12 × 64."),
            "12 × 12 × 64.",
            9216,
        ),
        (
            "How many weights, biases not counted, does the second convolution have?",
            number(18_432, why="3 × 3 × 32 × 64, without the 64 biases"),
            "Each of the 64 filters is 3 × 3 and spans 32 channels.",
            model_answer("18,432 = 3 × 3 × 32 × 64 (plus 64 biases)."),
            "3 × 3 × 32 × 64.",
            18_432,
        ),
        (
            "Which layer holds most of the parameters: a) conv 3×3×32, b) conv 3×3×64, c) dense "
            "128 or d) dense 10?",
            choice(
                "c",
                {"a": "conv 3×3×32", "b": "conv 3×3×64", "c": "dense 128", "d": "dense 10"},
            ),
            "concepts.layer_table(): compare the parameters column.",
            model_answer(
                "c: the first dense layer, 9,216 × 128 + 128 = 1,179,776 parameters, "
                "98% of the model."
            ),
            "98% of the parameters sit in the first dense layer.",
            "c",
        ),
        (
            "What share of a forward pass's FLOPs, in percent, does the second convolution do?",
            number(round(conv2_share, 1), tolerance=0.6, unit="%"),
            "Its FLOPs divided by the forward pass's, from concepts.layer_rows().",
            model_answer(
                f"{conv2_share:.1f}%: {rows[2]['flops']:,} of the "
                f"{totals['forward_flops']:,} FLOPs of a forward pass."
            ),
            f"{conv2_share:.1f}% of the forward pass.",
            round(conv2_share, 1),
        ),
        (
            "Why does the second convolution do most of the arithmetic with 1.5% of the weights?",
            None,
            "How many times is each weight of a convolution used per image?",
            model_answer("""Each of the second convolution's 18,432 weights is used at every
                        one of its 24 × 24 = 576 output positions, so the layer does
                        576 × 18,432 multiply-adds per image with 1.5% of the weights. A dense
                        weight is used once per image."""),
            "",
            None,
        ),
        (
            "About how many MFLOP does one training step cost per image?",
            number(72, tolerance=0.5, unit=" MFLOP"),
            "About three forward passes of 24 MFLOP each.",
            model_answer(
                "72 MFLOP: the forward pass (24) plus the gradients with respect to "
                "each layer's input and its weights, about as much again each."
            ),
            "about 3 × 24 MFLOP.",
            72,
        ),
        (
            "Training error 1%, dev error 15%, Bayes error about 0: a) high bias, b) high "
            "variance, c) both or d) a good fit?",
            choice(
                "b",
                {"a": "high bias", "b": "high variance", "c": "both", "d": "a good fit"},
            ),
            "Variance = dev error - training error.",
            model_answer(
                "b, high variance (overfitting): 14 points between training and dev, "
                "1 point of avoidable bias."
            ),
            "overfitting.",
            "b",
        ),
        (
            "How many optimizer steps does a full run of the recipe take (five epochs of 60,000 "
            "images in batches of 128)?",
            number(steps, why="5 epochs × ceil(60,000 / 128) batches"),
            "config.steps_per_epoch(60_000, 128) per epoch, five epochs.",
            model_answer(f"{steps:,} = 5 × 469: the last batch of each epoch is smaller."),
            f"{steps:,} steps.",
            steps,
        ),
        (
            "Why are the 10,000 test images split into validation and test, stratified and with a "
            "fixed seed?",
            None,
            "What would choosing settings by the test accuracy do to that number?",
            model_answer("""Settings (epochs, learning rate, model changes) are chosen by the
                        validation accuracy, so the test split stays unseen and its accuracy
                        stays an honest estimate. Stratified keeps every digit's share the same
                        in both; the fixed seed gives every notebook the same indices, so their
                        numbers can be compared."""),
            "",
            None,
        ),
    ]
    return [Exercise(f"quiz[{n}]", *item) for n, item in enumerate(items, 1)]
