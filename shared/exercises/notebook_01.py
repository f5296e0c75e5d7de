"""The exercises of notebook 01."""

from __future__ import annotations

from .core import (
    Exercise,
    as_summary,
    first_dense_inputs,
    in_range,
    last_val_accuracy,
    layer_kinds,
    make_exercise,
    numbered,
    output_off,
    parameters_off,
    range_note,
    solution_code,
    strided,
)


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


def _check_augmentation_layer(answer) -> str | None:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return "expected a pair: (summarize(model), its fit(...).history)"
    summary, history = as_summary(answer[0]), answer[1]
    kinds = layer_kinds(summary)
    if not any("translation" in kind for kind in kinds):
        return "the model has no RandomTranslation layer"
    off = parameters_off(summary, 1_199_882, ": augmentation layers have no weights")
    return off or in_range(
        last_val_accuracy(history), AUGMENTED_FULL, AUGMENTED_FAST, "the last validation accuracy"
    )


def exercises(**_) -> tuple[Exercise, ...]:
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
        strided(
            solution_code("""
                strided_model = keras.Sequential(
                    [
                        keras.Input(shape=(28, 28, 1)),
                        layers.Conv2D(32, 3, activation="relu"),  # -> 26x26x32
                        layers.Conv2D(64, 4, strides=2, activation="relu"),  # -> 12x12x64
                        layers.Dropout(0.25),
                        layers.Flatten(),  # -> 9216
                        layers.Dense(128, activation="relu"),
                        layers.Dropout(0.5),
                        layers.Dense(10),
                    ]
                )
                strided_model.summary()
                answer = summarize(strided_model)
            """)
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
            _check_augmentation_layer,
            "layers.RandomTranslation(2 / 28, 2 / 28, fill_mode='constant', "
            "interpolation='nearest', fill_value=...) moves by up to 2 pixels; the background of "
            "a normalised image is (0 - pixel_mean) / pixel_std. Compile as above with a new "
            "Adam on the same schedule and call fit once for all epochs.",
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
