"""The exercises of notebook 06."""

from __future__ import annotations

import numpy as np

from .core import (
    Exercise,
    in_range,
    last_val_accuracy,
    make_exercise,
    numbered,
    range_note,
    solution_code,
    strided,
)

LR_FIND_RANGE = (1e-4, 3e-2)


ONE_CYCLE_FULL, ONE_CYCLE_FAST = (0.985, 0.997), (0.80, 0.995)


def _check_lr_find(answer) -> str | None:
    lr = float(getattr(answer, "valley", answer))
    low, high = LR_FIND_RANGE
    if not low <= lr <= high:
        return (
            f"{lr:.2g} is outside {low:g}-{high:g}, where lr_find's valley lands for this "
            "model in both modes; was the Learner fresh (untrained)?"
        )
    return None


def _check_one_cycle(answer) -> str | None:
    return in_range(
        last_val_accuracy(answer), ONE_CYCLE_FULL, ONE_CYCLE_FAST, "the last validation accuracy"
    )


def _check_one_cycle_lrs(answer) -> str | None:
    lrs = np.asarray(answer, dtype=float)
    if lrs.ndim != 1 or len(lrs) < 10:
        return "expected the learning rate of every batch, e.g. one_cycle.recorder.lrs"
    peak = 3e-3
    if abs(lrs.max() - peak) > 0.02 * peak:
        return f"the highest learning rate is {lrs.max():.3g}; with lr_max=3e-3 it is 3e-3"
    if abs(lrs[0] - peak / 25) > 0.02 * peak / 25:
        return f"the first learning rate is {lrs[0]:.3g}; one-cycle starts at lr_max / 25 = 1.2e-4"
    if lrs[-1] > peak / 100:
        return f"the last learning rate is {lrs[-1]:.3g}; one-cycle anneals almost to zero"
    return None


def exercises(**_) -> tuple[Exercise, ...]:
    return numbered(
        make_exercise(
            "Find a learning rate",
            _check_lr_find,
            "Build a fresh Learner like the one above (a new build_model(), no fit) and call "
            "lr_find(); it returns suggestions, of which .valley is the default. Pass "
            "path=config.models_dir() so its temporary file lands in a git-ignored folder.",
            solution_code("""
                torch.manual_seed(recipe.seed)
                finder = Learner(dls, build_model(), loss_func=CrossEntropyLossFlat(),
                                 opt_func=adam, cbs=ChannelsLast(), path=config.models_dir())
                with finder.no_bar():  # from 1e-5 to 1, the range that matters for Adam
                    suggestion = finder.lr_find(start_lr=1e-5, end_lr=1, num_it=50)
                print(f"lr_find suggests {suggestion.valley:.1e}; the recipe's peak is "
                      f"{recipe.peak_learning_rate}")
                answer = suggestion.valley
            """),
            "the valley lies within a factor of about ten of the recipe's 3e-3: lr_find raises "
            "the rate batch by batch and picks one where the loss still falls fast.",
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
                )
                answer = summarize(strided_model)
            """)
        ),
        make_exercise(
            "fastai's way",
            _check_one_cycle,
            "A fresh Learner, then fit_one_cycle(recipe.epochs, lr_max=recipe.peak_learning_rate, "
            "cbs=[EpochLog(), RandomShift()]) instead of fit with the course's schedule. "
            "EpochLog appends to the global list history: empty it first.",
            solution_code("""
                torch.manual_seed(recipe.seed)
                history = []  # EpochLog appends here; the course's run is saved above already
                one_cycle = Learner(dls, build_model(), loss_func=CrossEntropyLossFlat(),
                                    opt_func=adam, metrics=accuracy, cbs=ChannelsLast(),
                                    path=config.models_dir())
                one_cycle.logger = lambda values: None
                with one_cycle.no_bar():
                    one_cycle.fit_one_cycle(recipe.epochs, lr_max=recipe.peak_learning_rate,
                                            cbs=[EpochLog(), RandomShift()])
                answer = history
            """),
            lambda: (
                "fastai's one-cycle schedule trains this model about as well as the course's ("
                + range_note(ONE_CYCLE_FULL, ONE_CYCLE_FAST)
                + "); compare its epochs with the course's above."
            ),
        ),
        make_exercise(
            "The one-cycle schedule",
            _check_one_cycle_lrs,
            "The Learner of the previous exercise recorded the learning rate of every batch "
            "in one_cycle.recorder.lrs.",
            solution_code("""
                answer = one_cycle.recorder.lrs
                print(f"first {answer[0]:.2e}, peak {max(answer):.2e}, last {answer[-1]:.2e}")
            """),
            "one-cycle starts at lr_max / 25, warms up along a cosine to lr_max over the first "
            "25% of the steps and anneals to almost zero; the course's schedule starts at 0, "
            "warms up linearly over 20% and ends at exactly 0.",
        ),
    )
