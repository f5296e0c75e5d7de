"""The exercises of notebook 01."""

from __future__ import annotations

from .answers import Refusal, finite_number, sequence, whole_number
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
from .summaries import as_summary, first_dense_inputs, layer_kinds, output_off, parameters_off


def _check_half_filters(answer) -> str | None:
    summary = as_summary(answer)
    inputs = first_dense_inputs(summary)
    if summary["parameters"] == 1_190_506:
        return (
            "1,190,506 parameters: only the first convolution changed; the second needs 32 "
            "filters too"
        )
    if inputs and inputs != 4608:
        return (
            f"the first dense layer takes {inputs:,} inputs; with 32 filters: 12 × 12 × 32 = 4,608"
        )
    return parameters_off(summary, 596_042) or output_off(summary)


def _check_no_dropout_list(answer) -> str | None:
    summary = as_summary(answer)
    kinds = layer_kinds(summary)
    if not kinds:
        return "the summary has no 'layers': use the notebook's summarize(model)"
    dropouts = sum("dropout" in kind for kind in kinds)
    if dropouts:
        return f"{dropouts} dropout layer{'s are' if dropouts > 1 else ' is'} still in the list"
    if len(kinds) != 6:
        return f"the model has {len(kinds)} layers; without the two dropouts the list has 6"
    return parameters_off(summary, 1_199_882, ": dropout has no weights, the count stays")


AUGMENTED_FULL, AUGMENTED_FAST = (0.985, 0.997), (0.80, 0.995)

#: Rounding to bfloat16 (8 significant bits) moves logits by far more than float32 rounding
#: (about 1e-6) and by far less than a wrong model would.
BF16_DIFFERENCE = (1e-4, 2.0)
MIXED_IMAGES = 500


def _check_mixed_precision(answer) -> str | None:
    what = "a pair, (largest logit difference, number of predictions that differ)"
    items = sequence(answer, what)
    if len(items) != 2:
        raise Refusal(f"expected {what}, got {len(items)} values")
    difference = finite_number(items[0], "the largest difference")
    changed = whole_number(items[1], "the number of changed predictions")
    low, high = BF16_DIFFERENCE
    if difference < 0:
        return f"a largest absolute difference cannot be negative ({difference:g}): take np.abs"
    if difference < low:
        return (
            f"the logits differ by {difference:.2g} only, float32 rounding: the copy did not "
            "compute in bfloat16; build it while the 'mixed_bfloat16' policy is set"
        )
    if difference > high:
        return f"the logits differ by {difference:.3g}: more than rounding; same weights in both?"
    if not 0 <= changed <= MIXED_IMAGES:
        return f"{changed} changed predictions out of {MIXED_IMAGES} images is impossible"
    if changed > MIXED_IMAGES // 20:
        return f"{changed} of {MIXED_IMAGES} predictions changed: too many for rounding alone"
    return None


def exercises(history=None, **_) -> tuple[Exercise, ...]:
    """``history``: the notebook's own training run, which the augmentation check refuses."""
    own = own_run(history)  # copied now: the learner may empty that history and reuse it

    def check_augmentation_layer(answer) -> str | None:
        what = "a pair, (summarize(model), its fit(...).history)"
        items = sequence(answer, what)
        if len(items) != 2:
            raise Refusal(f"expected {what}, got {len(items)} values")
        summary = as_summary(items[0])
        if not any("translation" in kind for kind in layer_kinds(summary)):
            return "the model has no RandomTranslation layer"
        off = parameters_off(summary, 1_199_882, ": augmentation layers have no weights")
        accuracy = fresh_run_accuracy(items[1], own=own)
        what = "the last validation accuracy"
        return off or in_range(accuracy, AUGMENTED_FULL, AUGMENTED_FAST, what)

    return numbered(
        make_exercise(
            "Half the filters",
            _check_half_filters,
            "Change the two Conv2D filter counts to 16 and 32 in a copy of build_model. The "
            "first Dense layer's weights follow from its input, which Keras infers.",
            solution_code("""
                half = keras.Sequential(
                    [
                        keras.Input(shape=(28, 28, 1)),
                        layers.Conv2D(16, 3, activation="relu"),
                        layers.Conv2D(32, 3, activation="relu"),
                        layers.MaxPooling2D(2),
                        layers.Dropout(0.25),
                        layers.Flatten(),  # 12 x 12 x 32 = 4,608
                        layers.Dense(128, activation="relu"),
                        layers.Dropout(0.5),
                        layers.Dense(10),
                    ]
                )
                answer = summarize(half)
            """),
            "596,042 parameters, half of the course model's: the first Dense layer gets 4,608 "
            "values instead of 9,216, and it holds most of the weights.",
        ),
        make_exercise(
            "Mixed precision, Keras' way",
            _check_mixed_precision,
            "keras.config.set_dtype_policy('mixed_bfloat16') makes every layer built after it "
            "compute in bfloat16 and keep its weights in float32; build_model() then, and set "
            "the policy back to 'float32' at once. set_weights(model.get_weights()) copies the "
            "trained weights; compare predict on val_images[:500] for both.",
            solution_code("""
                keras.config.set_dtype_policy("mixed_bfloat16")
                try:
                    mixed = build_model()  # computes in bfloat16, keeps float32 weights
                finally:
                    keras.config.set_dtype_policy("float32")  # the rest of the notebook: float32
                mixed.set_weights(model.get_weights())
                print(mixed.layers[0].compute_dtype, mixed.layers[0].variable_dtype)
                exact = model.predict(val_images[:500], verbose=0)
                rounded = mixed.predict(val_images[:500], verbose=0).astype("float32")
                answer = (
                    float(np.abs(rounded - exact).max()),
                    int((rounded.argmax(axis=1) != exact.argmax(axis=1)).sum()),
                )
                print(answer)
            """),
            "bfloat16 keeps 8 significant bits, so the logits move in their second or third "
            "digit while nearly every prediction stays the same: on a GPU or a CPU with "
            "bfloat16 units that halves the memory traffic; on one without, it is emulated "
            "and slower.",
        ),
        make_exercise(
            "Edit the list",
            _check_no_dropout_list,
            "model.layers is a Python list of layer objects: keep those that are not "
            "isinstance(layer, layers.Dropout) and pass the rest to keras.Sequential, after a "
            "keras.Input.",
            solution_code("""
                kept = [x for x in build_model().layers if not isinstance(x, layers.Dropout)]
                no_dropout = keras.Sequential([keras.Input(shape=(28, 28, 1)), *kept])
                answer = summarize(no_dropout)
            """),
            "6 layers and still 1,199,882 parameters: dropout has no weights, it only switches "
            "values off while training.",
        ),
        make_exercise(
            "Augmentation as a layer",
            check_augmentation_layer,
            "layers.RandomTranslation(2 / 28, 2 / 28, fill_mode='constant', "
            "interpolation='nearest', fill_value=...) moves by up to 2 pixels; the background of "
            "a normalised image is (0 - pixel_mean) / pixel_std. Compile as above with a new "
            "Adam on the same schedule and call fit once for all epochs; the notebook's own "
            "history is refused, since it is not this model's run.",
            solution_code("""
                keras.utils.set_random_seed(recipe.seed)
                background = -recipe.pixel_mean / recipe.pixel_std  # a black pixel, normalised
                augmented = keras.Sequential(
                    [
                        keras.Input(shape=(28, 28, 1)),
                        layers.RandomTranslation(
                            2 / 28, 2 / 28, fill_mode="constant", interpolation="nearest",
                            fill_value=background,
                        ),
                        *build_model().layers,
                    ]
                )
                augmented.compile(
                    optimizer=keras.optimizers.Adam(
                        schedule, beta_1=recipe.adam_beta1, beta_2=recipe.adam_beta2,
                        epsilon=recipe.adam_epsilon,
                    ),
                    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    metrics=["accuracy"],
                )
                logs = augmented.fit(
                    data.normalize(train_digits, recipe), train_labels,
                    batch_size=recipe.batch_size, epochs=recipe.epochs,
                    validation_data=(val_images, splits.val_y), verbose=0,
                ).history
                print(f"validation accuracy {100 * logs['val_accuracy'][-1]:.2f}%")
                answer = (summarize(augmented), logs)
            """),
            lambda: (
                "the shifts now happen inside the model, on every batch, and the model "
                "learns as well as with the course's shifted arrays ("
                + range_note(AUGMENTED_FULL, AUGMENTED_FAST)
                + "); RandomTranslation is only active in fit, as dropout is."
            ),
        ),
    )
