"""The exercises of notebook 05."""

from __future__ import annotations

import math

import numpy as np

from .answers import Refusal, finite_array, finite_number, numbers_of, sequence
from .core import Exercise, make_exercise, number, numbered, solution_code

PARAMETERS = 1_199_882
#: The shapes of the notebook's eight variables (conv1_w, conv1_b, ..., dense2_b).
VARIABLE_SHAPES = [
    (3, 3, 1, 32),
    (32,),
    (3, 3, 32, 64),
    (64,),
    (9216, 128),
    (128,),
    (128, 10),
    (10,),
]


def _check_clip(answer) -> str | None:
    what = "a pair, (global norm before clipping, the clipped gradients as NumPy arrays)"
    items = sequence(answer, what)
    if len(items) != 2:
        raise Refusal(f"expected {what}, got {len(items)} values")
    before = finite_number(items[0], "the norm before clipping")
    gradients = [finite_array(g, "a clipped gradient") for g in sequence(items[1], what)]
    sizes = sum(g.size for g in gradients)
    if sizes != PARAMETERS:
        return f"the clipped gradients hold {sizes:,} numbers; the model has {PARAMETERS:,}"
    shapes = sorted(g.shape for g in gradients)
    if shapes != sorted(VARIABLE_SHAPES):
        return (
            "give one clipped gradient per variable of the model, each with its variable's "
            f"shape ({len(VARIABLE_SHAPES)} arrays, conv1_w's {VARIABLE_SHAPES[0]} among them); "
            f"got {len(gradients)} array(s)"
        )
    after = float(np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in gradients)))
    if before <= 1.0:
        return f"the norm before clipping is {before:.3g}, already below 1.0: use a fresh model"
    if abs(after - before) < 1e-6 * before:
        return f"the norm is {before:.3g} before and after: nothing was clipped"
    if abs(after - 1.0) > 1e-3:
        return f"the clipped gradients' global norm is {after:.4g}; clipped to 1.0 it is 1.0"
    return None


#: A fresh CNN's kernels are Glorot uniform, biases 0: the squares add up to about
#: sum(n * 2 / (fan_in + fan_out)) = 315.6, a global norm of about 17.8.
FRESH_NORM = (16.5, 19.0)
DECAY_LR, DECAY = 1e-3, 0.1


def _check_decoupled_decay(answer) -> str | None:
    what = "a pair, (weight norm before the step, weight norm after)"
    before, after = numbers_of(answer, 2, what)
    low, high = FRESH_NORM
    if not low <= before <= high:
        return f"a global weight norm of {before:.4g}: a freshly built CNN's is {low}-{high}"
    ratio = after / before
    want = 1 - DECAY_LR * DECAY
    if abs(ratio - 1) < 1e-7:
        return "the weights did not change: the decay must shrink them even with zero gradients"
    if ratio < 1 - 10 * DECAY_LR * DECAY:
        return (
            f"the weights shrank by {1 - ratio:.2%}, far more than lr × decay = "
            f"{DECAY_LR * DECAY:g}: adding decay × w to the gradient (L2) lets Adam's "
            "normalisation turn it into a full step of lr for every weight; subtract "
            "lr × decay × w from the weight itself"
        )
    if abs(ratio - want) > 1e-6:
        return f"after / before is {ratio:.7f}; one decoupled step multiplies each weight by {want}"
    return None


def _check_he(answer) -> str | None:
    kernel = finite_array(answer, "conv2's kernel")
    if kernel.shape != (3, 3, 32, 64):
        return f"expected conv2's kernel, shape (3, 3, 32, 64), got {kernel.shape}"
    he, glorot = math.sqrt(6 / 288), math.sqrt(6 / (288 + 576))
    largest = np.abs(kernel).max()
    if largest > he * 1.001:
        return f"the largest |weight| is {largest:.4f}, above the He limit √(6 / 288) = {he:.4f}"
    if largest < 0.95 * he:
        extra = " (that is Glorot's limit)" if abs(largest - glorot) < 0.05 * glorot else ""
        return f"the largest |weight| is {largest:.4f}{extra}; He uniform reaches ±{he:.4f}"
    return None


def exercises(**_) -> tuple[Exercise, ...]:
    return numbered(
        make_exercise(
            "A custom gradient clip",
            _check_clip,
            "The global norm is √(sum of every gradient's squared entries); multiply every "
            "gradient by min(1, 1.0 / norm). tf.clip_by_global_norm does the same, to compare. "
            "Give (norm before, [g.numpy() for g in clipped]).",
            solution_code("""
                def clip_by_global_norm(gradients, clip_norm):
                    norm = tf.sqrt(sum(tf.reduce_sum(tf.square(g)) for g in gradients))
                    scale = tf.minimum(1.0, clip_norm / norm)
                    return [g * scale for g in gradients], norm


                fresh = CNN(seed=recipe.seed)  # a trained model's gradients are small
                x, y = next(iter(training_batches(data.normalize(train_digits, recipe), seed=0)))
                with tf.GradientTape() as tape:
                    logits = fresh(x, training=True)
                    loss = tf.reduce_mean(
                        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
                    )
                gradients = tape.gradient(loss, fresh.trainable_variables)
                clipped, norm = clip_by_global_norm(gradients, 1.0)
                reference, _ = tf.clip_by_global_norm(gradients, 1.0)
                assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(clipped, reference))
                print(f"global norm {float(norm):.3f} before, "
                      f"{float(tf.linalg.global_norm(clipped)):.3f} after")
                answer = (float(norm), [g.numpy() for g in clipped])
            """),
            "the gradients are scaled down together to a global norm of 1.0, so their "
            "direction stays the same; in train_step it goes between tape.gradient and "
            "optimizer.apply.",
        ),
        make_exercise(
            "Weight decay in the hand-written Adam",
            _check_decoupled_decay,
            "Subclass Adam: in apply, before the Adam update, subtract learning_rate × "
            "weight_decay × variable from each variable (decoupled, as AdamW does). On a fresh "
            "CNN, set the rate to 1e-3, apply zero gradients once with weight_decay=0.1, and "
            "measure the global norm of the weights before and after.",
            solution_code("""
                class AdamW(Adam):
                    def __init__(self, variables, weight_decay):
                        super().__init__(variables)
                        self.weight_decay = weight_decay

                    def apply(self, gradients):
                        for variable in self.params:  # decoupled: not through the gradient
                            variable.assign_sub(self.learning_rate * self.weight_decay * variable)
                        super().apply(gradients)


                def weight_norm(variables):
                    return float(tf.sqrt(sum(tf.reduce_sum(tf.square(v)) for v in variables)))


                fresh = CNN(seed=recipe.seed)
                decaying = AdamW(fresh.trainable_variables, weight_decay=0.1)
                decaying.learning_rate.assign(1e-3)
                before = weight_norm(fresh.trainable_variables)
                decaying.apply([tf.zeros_like(v) for v in fresh.trainable_variables])
                answer = (before, weight_norm(fresh.trainable_variables))
                print(answer)
            """),
            "with zero gradients Adam moves nothing and the decay alone multiplies every weight "
            "by 1 - lr × decay. Decoupled decay shrinks weights in proportion to their size; "
            "the same decay added to the gradient would be rescaled by Adam's √v into a step "
            "of about lr for every weight, whatever its size, which is why AdamW exists.",
        ),
        make_exercise(
            "He initialisation",
            _check_he,
            "Like glorot_uniform, but the limit is √(6 / fan_in), where fan_in = 3 × 3 × 32 "
            "for conv2's kernel.",
            solution_code("""
                def he_uniform(rng, shape, name):
                    fan_in = int(np.prod(shape[:-1]))  # 3 x 3 x 32 inputs per output
                    limit = np.sqrt(6 / fan_in)
                    return tf.Variable(rng.uniform(shape, -limit, limit), name=name)


                kernel = he_uniform(tf.random.Generator.from_seed(recipe.seed), [3, 3, 32, 64], "w")
                answer = kernel.numpy()
                print(f"largest |weight| {np.abs(answer).max():.4f}")
            """),
            "weights up to ±0.144 instead of Glorot's ±0.083: He initialisation keeps the "
            "variance of the signal steady through ReLUs, which zero half of it.",
        ),
        make_exercise(
            "What Adam remembers",
            number(
                2 * 1_199_882,
                why="one m and one v per weight, 2 × 1,199,882; the steps counter and the "
                "learning rate are single numbers",
            ),
            "optimizer.m and optimizer.v are lists of variables, one per model variable; "
            "tf.size(v) counts a variable's numbers. optimizer.variables would count the "
            "model's own weights too.",
            solution_code("""
                answer = sum(int(tf.size(v)) for v in optimizer.m + optimizer.v)
                print(f"{answer:,} numbers of optimizer state for {parameters:,} parameters")
            """),
            "2,399,764 numbers, twice the model: a checkpoint meant to resume training must "
            "store them too, three times as many numbers as the weights alone.",
        ),
    )
