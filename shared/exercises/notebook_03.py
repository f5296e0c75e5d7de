"""The exercises of notebook 03."""

from __future__ import annotations

from .core import (
    Exercise,
    in_range,
    make_exercise,
    number,
    numbered,
    range_note,
    solution_code,
    strided,
)


def _check_slice_shape(answer) -> str | None:
    shape = tuple(int(d) for d in answer)
    if shape[-3:] == (12, 12, 64):
        return f"{shape} is channels-last order; PyTorch puts the channels first, (64, 12, 12)"
    if shape[-3:] != (64, 12, 12):
        return f"{shape} is not what reaches nn.Flatten: 64 maps of 12 × 12, (64, 12, 12)"
    return None


DROPOUT_EVAL_FULL, DROPOUT_EVAL_FAST = (0.0001, 0.05), (0.0001, 0.25)


def _check_dropout_at_eval(answer) -> str | None:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return "expected a pair: (accuracy with model.eval(), accuracy with model.train())"
    evaluated, training = (float(x) for x in answer)
    if evaluated == training:
        return "both numbers are the same: dropout was off both times; call model.train() first"
    drop = evaluated - training
    if drop < 0:
        return (
            f"dropout on was {-100 * drop:.2f} points *better*: the pair may be swapped, "
            "(eval accuracy, train-mode accuracy)"
        )
    return in_range(drop, DROPOUT_EVAL_FULL, DROPOUT_EVAL_FAST, "the drop")


def _check_frozen(answer) -> str | None:
    return number(
        1_181_066, why="1,199,882 minus the 320 + 18,496 parameters of the two convolutions"
    )(answer)


def exercises(**_) -> tuple[Exercise, ...]:
    return numbered(
        make_exercise(
            "Slice the stack",
            _check_slice_shape,
            "An nn.Sequential can be sliced like a list: model[:6] is a smaller nn.Sequential "
            "with the first six modules. Print model to count to nn.Flatten.",
            solution_code("""
                features = model[:6]  # conv, ReLU, conv, ReLU, max pool, dropout
                print(features)
                model.eval()
                with torch.inference_mode():
                    answer = tuple(features(test_x[:1]).shape[1:])
                print(answer)
            """),
            "(64, 12, 12): 64 maps of 12 × 12, channels first, 9,216 values per image.",
        ),
        strided(
            solution_code("""
                strided_model = nn.Sequential(
                    nn.Conv2d(1, 32, kernel_size=3),  # -> 26x26x32
                    nn.ReLU(),
                    nn.Conv2d(32, 64, kernel_size=4, stride=2),  # -> 12x12x64
                    nn.ReLU(),
                    nn.Dropout(0.25),
                    nn.Flatten(),  # -> 9216
                    nn.Linear(9216, 128),
                    nn.ReLU(),
                    nn.Dropout(0.5),
                    nn.Linear(128, 10),
                ).to(device)
                answer = summarize(strided_model)
            """)
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
