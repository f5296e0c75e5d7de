"""The exercises of notebook 02."""

from __future__ import annotations

from .core import (
    Exercise,
    as_summary,
    make_exercise,
    numbered,
    parameters_off,
    same_dims,
    solution_code,
    strided,
)

RESIDUAL_PARAMETERS = 1_236_810  # + 3 x 3 x 64 x 64 + 64 = 36,928


def _check_residual(answer) -> str | None:
    summary = as_summary(answer)
    layers_ = summary.get("layers") or []
    adds = [shape for kind, shape in layers_ if str(kind).lower() == "add"]
    if not adds:
        return "there is no Add layer: the branch's output must be added to its input"
    if not any(same_dims(shape, (12, 12, 64)) for shape in adds):
        return f"the Add layer's output is {adds[0]}; after the pool it should be (12, 12, 64)"
    return parameters_off(summary, RESIDUAL_PARAMETERS, ": one extra 3 × 3 × 64 × 64 convolution")


def _check_two_heads(answer) -> str | None:
    summary = as_summary(answer)
    outputs = [shape for kind, shape in summary.get("layers") or [] if str(kind).lower() == "dense"]
    if not any(tuple(shape) == (1,) for shape in outputs):
        return "no Dense layer with one output: the second head answers 'even?' with one logit"
    return parameters_off(summary, 1_200_011, ": the new head is 128 weights and a bias")


def _check_feature_shape(answer) -> str | None:
    shape = tuple(int(d) for d in answer)
    if shape == (2000, 12, 12, 64):
        return "(2000, 12, 12, 64) is the pool's output; take the Flatten layer's output"
    if shape != (2000, 9216):
        return f"the features have shape {shape}; the flatten layer gives (2000, 9216)"
    return None


def exercises(**_) -> tuple[Exercise, ...]:
    return numbered(
        make_exercise(
            "A residual Add branch",
            _check_residual,
            "Keep the tensor x that leaves the max pool, compute branch = layers.Conv2D(64, 3, "
            "padding='same', activation='relu')(x) (12 × 12 × 64 again) and continue with "
            "layers.Add()([x, branch]).",
            solution_code("""
                def build_residual_model():
                    inputs = keras.Input(shape=(28, 28, 1))
                    x = layers.Conv2D(32, 3, activation="relu")(inputs)
                    x = layers.Conv2D(64, 3, activation="relu")(x)
                    x = layers.MaxPooling2D(2)(x)  # -> 12x12x64
                    branch = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
                    x = layers.Add()([x, branch])  # the shortcut: x + f(x), still 12x12x64
                    x = layers.Dropout(0.25)(x)
                    x = layers.Flatten()(x)
                    x = layers.Dense(128, activation="relu")(x)
                    x = layers.Dropout(0.5)(x)
                    return keras.Model(inputs, layers.Dense(10)(x), name="residual_cnn")


                residual = build_residual_model()
                answer = summarize(residual)
            """),
            "1,236,810 parameters (36,928 for the branch's convolution) and an Add of two "
            "12 × 12 × 64 tensors: the shortcut lets the input pass by unchanged, the idea that "
            "made ResNet's 152 layers trainable.",
        ),
        strided(
            solution_code("""
                inputs = keras.Input(shape=(28, 28, 1))
                x = layers.Conv2D(32, 3, activation="relu")(inputs)  # -> 26x26x32
                x = layers.Conv2D(64, 4, strides=2, activation="relu")(x)  # -> 12x12x64
                x = layers.Dropout(0.25)(x)
                x = layers.Flatten()(x)  # -> 9216
                x = layers.Dense(128, activation="relu")(x)
                x = layers.Dropout(0.5)(x)
                strided_model = keras.Model(inputs, layers.Dense(10)(x))
                answer = summarize(strided_model)
            """)
        ),
        make_exercise(
            "Two heads",
            _check_two_heads,
            "Call two Dense layers on the same 128-value tensor: Dense(10) for the digit and "
            "Dense(1) for 'is it even?', and pass both to keras.Model(inputs, [digit, even]).",
            solution_code("""
                inputs = keras.Input(shape=(28, 28, 1))
                x = layers.Conv2D(32, 3, activation="relu")(inputs)
                x = layers.Conv2D(64, 3, activation="relu")(x)
                x = layers.MaxPooling2D(2)(x)
                x = layers.Dropout(0.25)(x)
                x = layers.Flatten()(x)
                x = layers.Dense(128, activation="relu")(x)
                x = layers.Dropout(0.5)(x)
                digit = layers.Dense(10, name="digit")(x)
                even = layers.Dense(1, name="even")(x)  # one logit: is the digit even?
                two_heads = keras.Model(inputs, [digit, even])
                answer = summarize(two_heads)
            """),
            "1,200,011 parameters, 129 more than the course model: both heads share everything "
            "up to the 128 features, and compile would take one loss per head.",
        ),
        make_exercise(
            "The tensors have names",
            _check_feature_shape,
            "keras.Model(model.inputs, model.get_layer(name).output) is a new model that ends "
            "at any tensor of the graph; the Flatten layer's name is in model.summary().",
            solution_code("""
                flatten = next(layer for layer in model.layers if isinstance(layer, layers.Flatten))
                features = keras.Model(model.inputs, flatten.output)
                answer = features.predict(val_images, verbose=0).shape
                print(answer)
            """),
            "(2000, 9216): a model cut at the flatten layer gives the 9,216 features the dense "
            "layers classify, with the trained weights.",
        ),
    )
