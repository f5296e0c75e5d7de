"""The exercises of notebook 02."""

from __future__ import annotations

from .answers import finite_number
from .core import Exercise, make_exercise, numbered, solution_code
from .features import dense_stack, features_off
from .summaries import as_summary, parameters_off, same_dims

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


#: Glorot uniform draws a weight's square with mean 2 / (fan_in + fan_out), so a fresh model's
#: squared dense kernels add up to about n_in n_out 2 / (n_in + n_out), for each dense layer.
L2_FACTOR = 1e-4
L2_DENSE = L2_FACTOR * sum(2 * i * o / (i + o) for i, o in ((9216, 128), (128, 10)))
L2_CONV = L2_FACTOR * sum(2 * n / (i + o) for i, o, n in ((9, 288, 288), (288, 576, 18432)))


def _check_l2_penalty(answer) -> str | None:
    penalty = finite_number(answer, "the penalty")
    if penalty <= 0:
        return f"{penalty:g}: the penalty is a sum of squares times 1e-4, a positive number"
    if abs(penalty - L2_DENSE) <= 0.02 * L2_DENSE:
        return None
    if abs(penalty - (L2_DENSE + L2_CONV)) <= 0.02 * L2_DENSE:
        return "that includes the convolutions: put the regularizer on the two Dense layers only"
    if abs(penalty - L2_DENSE / L2_FACTOR) <= 0.02 * L2_DENSE / L2_FACTOR:
        return "that is the sum of squares itself: L2(1e-4) multiplies it by 1e-4"
    return (
        f"{penalty:.4g} is {'above' if penalty > L2_DENSE else 'below'} what a freshly "
        "initialised model's two Dense kernels give with L2(1e-4): was the model fresh, with "
        "the regularizer on both Dense layers?"
    )


def exercises(dense=None, **_) -> tuple[Exercise, ...]:
    """``dense``: the trained model's dense weights, ``model.get_weights()[-4:]``."""
    stack = None if dense is None else dense_stack(dense)

    def check_features(answer) -> str | None:
        return features_off(answer, stack, (9216,), 500, "the Flatten layer")

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
        make_exercise(
            "A weight penalty, Keras' way",
            _check_l2_penalty,
            "Dense(..., kernel_regularizer=keras.regularizers.L2(1e-4)) on both Dense layers; "
            "a model built from them collects each layer's penalty in model.losses, and fit "
            "adds their sum to the loss. Build it fresh, without training.",
            solution_code("""
                inputs = keras.Input(shape=(28, 28, 1))
                x = layers.Conv2D(32, 3, activation="relu")(inputs)
                x = layers.Conv2D(64, 3, activation="relu")(x)
                x = layers.Dropout(0.25)(layers.MaxPooling2D(2)(x))
                x = layers.Flatten()(x)
                penalty = keras.regularizers.L2(1e-4)  # 1e-4 * sum of the kernel's squares
                x = layers.Dense(128, activation="relu", kernel_regularizer=penalty)(x)
                x = layers.Dropout(0.5)(x)
                outputs = layers.Dense(10, kernel_regularizer=penalty)(x)
                penalised = keras.Model(inputs, outputs)
                answer = float(sum(penalised.losses))
                print(f"penalty {answer:.5f}, added to every batch's loss by fit")
            """),
            "1e-4 times the sum of the squared dense weights, about 0.027 for freshly drawn "
            "Glorot weights: fit adds it to the loss, so every step also pulls the weights "
            "towards 0. That is L2 regularisation; notebook 05 writes its decoupled cousin, "
            "AdamW's weight decay, into the optimizer.",
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
            check_features,
            "keras.Model(model.inputs, model.get_layer(name).output) is a new model that ends "
            "at any tensor of the graph; the Flatten layer's name is in model.summary(). Give "
            "(features, model.predict(...)) for val_images[:500].",
            solution_code("""
                flatten = next(layer for layer in model.layers if isinstance(layer, layers.Flatten))
                features = keras.Model(model.inputs, flatten.output)
                answer = (
                    features.predict(val_images[:500], verbose=0),
                    model.predict(val_images[:500], verbose=0),
                )
                print(answer[0].shape)
            """),
            "the check ran the two dense layers on your 500 × 9,216 features in NumPy and got "
            "the model's logits back: a model cut at any tensor shares the trained weights, and "
            "what follows the cut is two matrix products and a ReLU.",
        ),
    )
