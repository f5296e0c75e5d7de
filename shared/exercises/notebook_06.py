"""The exercises of notebook 06."""

from __future__ import annotations

import numpy as np

from .answers import Refusal, finite_array, finite_number, sequence
from .core import (
    Exercise,
    fresh_run_accuracy,
    in_range,
    make_exercise,
    numbered,
    own_run,
    range_note,
    solution_code,
)

LR_FIND_RANGE = (1e-4, 3e-2)


ONE_CYCLE_FULL, ONE_CYCLE_FAST = (0.985, 0.997), (0.80, 0.995)


def _check_lr_find(answer) -> str | None:
    what = "a pair, (suggestion.valley, finder.recorder.lrs)"
    items = sequence(answer, what)
    if len(items) != 2:
        raise Refusal(f"expected {what}, got {len(items)} values")
    lr = finite_number(getattr(items[0], "valley", items[0]), "the valley")
    lrs = finite_array(items[1], "the recorded learning rates")
    if lrs.ndim != 1 or len(lrs) < 10 or not (np.diff(lrs) > 0).all():
        return "expected the rising learning rates lr_find tried, finder.recorder.lrs"
    if not np.isclose(lrs, lr, rtol=1e-5, atol=0).any():
        return f"{lr:.3g} is not one of the rates lr_find tried: give its own suggestion.valley"
    low, high = LR_FIND_RANGE
    if not low <= lr <= high:
        return (
            f"{lr:.2g} is outside {low:g}-{high:g}, where lr_find's valley lands for this "
            "model in both modes; was the Learner fresh (untrained)?"
        )
    return None


def _check_preds_with_loss(answer) -> str | None:
    what = "the three arrays learn.get_preds(with_loss=True) returns, (preds, targets, losses)"
    items = sequence(answer, what)
    if len(items) != 3:
        raise Refusal(f"expected {what}, got {len(items)} values")
    preds, targets, losses = (finite_array(x, "one of the three arrays") for x in items)
    n = len(targets)
    if preds.shape != (n, 10) or losses.shape != (n,) or n < 100:
        return (
            f"shapes {preds.shape}, {targets.shape}, {losses.shape}: expected (N, 10), (N,), (N,)"
        )
    if not np.allclose(preds.sum(axis=1), 1, atol=1e-3):
        return "the predictions do not add up to 1 per image: get_preds gives probabilities"
    if not np.isin(targets, np.arange(10)).all():
        return "the targets should be the digits 0 to 9"
    cross_entropy = -np.log(np.clip(preds[np.arange(n), targets.astype(int)], 1e-30, None))
    if not np.allclose(cross_entropy, losses, rtol=1e-3, atol=1e-4):
        return "the losses are not -log(probability of the true digit) of these predictions"
    if np.ptp(losses) == 0:
        return "every image has the same loss: was the model trained?"
    return None


def _check_one_cycle_lrs(answer) -> str | None:
    lrs = finite_array(answer, "the learning rate of every batch")
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


def exercises(history=None, **_) -> tuple[Exercise, ...]:
    """``history``: the notebook's own run, which the one-cycle check refuses."""
    own = own_run(history)  # copied now: the learner may empty that history and reuse it

    def check_one_cycle(answer) -> str | None:
        accuracy = fresh_run_accuracy(answer, own=own)
        return in_range(accuracy, ONE_CYCLE_FULL, ONE_CYCLE_FAST, "the last validation accuracy")

    return numbered(
        make_exercise(
            "Find a learning rate",
            _check_lr_find,
            "Build a fresh Learner like the one above (a new build_model(), no fit) and call "
            "lr_find(); it returns suggestions, of which .valley is the default. Pass "
            "path=config.models_dir() so its temporary file lands in a git-ignored folder. "
            "Give (suggestion.valley, finder.recorder.lrs).",
            solution_code("""
                torch.manual_seed(recipe.seed)
                finder = Learner(dls, build_model(), loss_func=CrossEntropyLossFlat(),
                                 opt_func=adam, cbs=ChannelsLast(), path=config.models_dir())
                with finder.no_bar():  # from 1e-5 to 1, the range that matters for Adam
                    suggestion = finder.lr_find(start_lr=1e-5, end_lr=1, num_it=50)
                print(f"lr_find suggests {suggestion.valley:.1e}; the recipe's peak is "
                      f"{recipe.peak_learning_rate}")
                answer = (suggestion.valley, finder.recorder.lrs)
            """),
            "the valley lies within a factor of about ten of the recipe's 3e-3: lr_find raises "
            "the rate batch by batch and picks one where the loss still falls fast.",
        ),
        make_exercise(
            "Every image's loss",
            _check_preds_with_loss,
            "learn.get_preds(with_loss=True) runs the validation DataLoader through the trained "
            "model and returns the probabilities, the targets and each image's loss; .numpy() "
            "each of the three.",
            solution_code("""
                with learn.no_bar():
                    preds, targets, losses = learn.get_preds(with_loss=True)
                worst = losses.argmax().item()
                print(f"highest loss {losses[worst].item():.2f}: a {targets[worst].item()} "
                      f"the model took for a {preds[worst].argmax().item()}")
                answer = (preds.numpy(), targets.numpy(), losses.numpy())
            """),
            "each loss is -log of the probability given to the true digit, checked here in "
            "NumPy: the images with the highest losses are the model's most confident mistakes, "
            "what ClassificationInterpretation.plot_top_losses shows.",
        ),
        make_exercise(
            "fastai's way",
            check_one_cycle,
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
