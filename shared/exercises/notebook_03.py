"""The exercises of notebook 03."""

from __future__ import annotations

from .answers import Refusal, finite_number, numbers_of, sequence
from .core import Exercise, in_range, make_exercise, number, numbered, range_note, solution_code
from .features import dense_stack, features_off

#: Rounding to bfloat16 (8 significant bits) moves logits by far more than float32 rounding
#: (about 1e-6) and by far less than a wrong model would.
BF16_DIFFERENCE = (1e-4, 2.0)


def _check_autocast(answer) -> str | None:
    what = "a pair, (str(logits.dtype), largest difference from the float32 logits)"
    items = sequence(answer, what)
    if len(items) != 2 or not isinstance(items[0], str):
        raise Refusal(f"expected {what}, e.g. ('torch.bfloat16', 0.01)")
    dtype, difference = items[0], finite_number(items[1], "the largest difference")
    if "bfloat16" not in dtype:
        return f"the logits are {dtype}: were they computed inside torch.autocast(..., bfloat16)?"
    low, high = BF16_DIFFERENCE
    if difference < 0:
        return f"a largest absolute difference cannot be negative ({difference:g}): take .abs()"
    if difference < low:
        return f"a difference of {difference:.2g} is float32 rounding: compare with float32 logits"
    if difference > high:
        return f"the logits differ by {difference:.3g}, more than rounding: the same model in both?"
    return None


DROPOUT_EVAL_FULL, DROPOUT_EVAL_FAST = (0.0001, 0.05), (0.0001, 0.25)
#: The trained model's own validation accuracy in eval mode (an untrained one is far below).
EVAL_FULL, EVAL_FAST = (0.985, 0.997), (0.80, 0.995)


def _check_dropout_at_eval(answer) -> str | None:
    what = "a pair, (accuracy with model.eval(), accuracy with model.train()), as fractions"
    evaluated, training = numbers_of(answer, 2, what)
    if not (0 <= evaluated <= 1 and 0 <= training <= 1):
        return "accuracies are fractions between 0 and 1: divide a percentage by 100"
    if evaluated == training:
        return "both numbers are the same: dropout was off both times; call model.train() first"
    drop = evaluated - training
    if drop < 0:
        return (
            f"dropout on was {-100 * drop:.2f} points *better*: the pair may be swapped, "
            "(eval accuracy, train-mode accuracy)"
        )
    return in_range(evaluated, EVAL_FULL, EVAL_FAST, "the eval-mode accuracy") or in_range(
        drop, DROPOUT_EVAL_FULL, DROPOUT_EVAL_FAST, "the drop"
    )


def _check_frozen(answer) -> str | None:
    return number(
        1_181_066, why="1,199,882 minus the 320 + 18,496 parameters of the two convolutions"
    )(answer)


def exercises(dense=None, **_) -> tuple[Exercise, ...]:
    """``dense``: the trained model's dense kernels and biases, kernels as (inputs, outputs)."""
    stack = None if dense is None else dense_stack(dense)

    def check_features(answer) -> str | None:
        return features_off(answer, stack, (64, 12, 12), 100, "model[:6]")

    return numbered(
        make_exercise(
            "Slice the stack",
            check_features,
            "An nn.Sequential can be sliced like a list: model[:6] is a smaller nn.Sequential "
            "with the first six modules. Print model to count to nn.Flatten. Give (features, "
            "model(test_x[:100])) as NumPy arrays, both in eval mode.",
            solution_code("""
                features = model[:6]  # conv, ReLU, conv, ReLU, max pool, dropout
                print(features)
                model.eval()
                with torch.inference_mode():
                    images = test_x[:100]
                    answer = (features(images).cpu().numpy(), model(images).cpu().numpy())
                print(answer[0].shape)  # 64 maps of 12 x 12 per image, channels first
            """),
            "the check flattened your (100, 64, 12, 12) features channels first, as nn.Flatten "
            "does, ran the two Linear layers on them in NumPy and got the model's logits: a "
            "slice of an nn.Sequential shares the trained modules.",
        ),
        make_exercise(
            "bfloat16 autocast",
            _check_autocast,
            "Inside `with torch.autocast(device_type=device.type, dtype=torch.bfloat16):` the "
            "convolutions and matrix products run in bfloat16 while the weights stay float32. "
            "Run val_x[:500] through the trained model with and without it, in eval mode.",
            solution_code("""
                model.eval()
                with torch.inference_mode():
                    exact = model(val_x[:500])
                    with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
                        rounded = model(val_x[:500])
                print(rounded.dtype, "changed predictions:",
                      (rounded.argmax(dim=1) != exact.argmax(dim=1)).sum().item())
                answer = (str(rounded.dtype), (rounded.float() - exact).abs().max().item())
                print(answer)
            """),
            "autocast leaves the model and its float32 weights alone and rounds what the big "
            "operations compute to bfloat16: logits move in their second or third digit, "
            "predictions hardly at all. A processor with bfloat16 units runs it faster; one "
            "without emulates it, slower.",
        ),
        make_exercise(
            "Dropout left on",
            _check_dropout_at_eval,
            "Run the 2,000 validation images through the trained model twice, once after "
            "model.eval() and once after model.train(), inside torch.inference_mode(), and "
            "compare logits.argmax(dim=1) with val_y. Seed with torch.manual_seed first.",
            solution_code("""
                torch.manual_seed(recipe.seed)
                accuracies = []
                for switch in (model.eval, model.train):
                    switch()
                    with torch.inference_mode():
                        predictions = model(val_x).argmax(dim=1)
                    accuracies.append((predictions == val_y).float().mean().item())
                model.eval()
                print(f"eval mode {accuracies[0]:.2%}, train mode {accuracies[1]:.2%}")
                answer = tuple(accuracies)
            """),
            lambda: (
                "with dropout on, every prediction drops a random share of the features, "
                "and accuracy falls ("
                + range_note(DROPOUT_EVAL_FULL, DROPOUT_EVAL_FAST)
                + " of accuracy lost): forget model.eval() and you report a worse model than "
                "you have."
            ),
        ),
        make_exercise(
            "Freeze the convolutions",
            _check_frozen,
            "model[0] and model[2] are the convolutions; layer.requires_grad_(False) freezes "
            "a module's parameters. Count only those with p.requires_grad.",
            solution_code("""
                frozen = build_model()
                for layer in frozen[:4]:  # the two convolutions and their ReLUs
                    layer.requires_grad_(False)
                answer = sum(p.numel() for p in frozen.parameters() if p.requires_grad)
                print(f"{answer:,} of {sum(p.numel() for p in frozen.parameters()):,} trainable")
            """),
            "1,181,066 of 1,199,882 parameters still train: freezing the convolutions, as "
            "transfer learning does, saves little here, because the dense layer holds 98% of the "
            "weights (but it skips most of the arithmetic of the backward pass).",
        ),
    )
