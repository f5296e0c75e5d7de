"""The exercises of notebook 05."""

from __future__ import annotations

import math

import numpy as np

from .core import Exercise, make_exercise, number, numbered, solution_code, strided


def _check_clip(answer) -> str | None:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return "expected a pair: (global norm before clipping, global norm after)"
    before, after = (float(x) for x in answer)
    if before <= 1.0:
        return f"the norm before clipping is {before:.3g}, already below 1.0: use a fresh model"
    if abs(after - before) < 1e-6 * before:
        return f"the norm is {before:.3g} before and after: nothing was clipped"
    if abs(after - 1.0) > 1e-3:
        return f"after clipping the global norm is {after:.4g}; scaled to 1.0 it would be 1.0"
    return None


def _check_he(answer) -> str | None:
    kernel = np.asarray(answer, dtype=float)
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
            "gradient by min(1, 1.0 / norm). tf.clip_by_global_norm does the same, to compare.",
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
                answer = (float(norm), float(tf.linalg.global_norm(clipped)))
                print(answer)
            """),
            "the gradients are scaled down together to a global norm of 1.0, so their "
            "direction stays the same; in train_step it goes between tape.gradient and "
            "optimizer.apply.",
        ),
        strided(
            solution_code("""
                class StridedCNN(CNN):
                    def __init__(self, seed):
                        super().__init__(seed)
                        rng = tf.random.Generator.from_seed(seed + 1)
                        self.conv2_w = glorot_uniform(rng, [4, 4, 32, 64], "conv2_w")

                    def __call__(self, x, training=False):
                        x = tf.nn.relu(tf.nn.conv2d(x, self.conv1_w, 1, "VALID") + self.conv1_b)
                        x = tf.nn.relu(tf.nn.conv2d(x, self.conv2_w, 2, "VALID") + self.conv2_b)
                        if training:  # 12x12x64, no max pool
                            x = tf.nn.dropout(x, rate=0.25)
                        x = tf.nn.relu(tf.reshape(x, [-1, 9216]) @ self.dense1_w + self.dense1_b)
                        if training:
                            x = tf.nn.dropout(x, rate=0.5)
                        return x @ self.dense2_w + self.dense2_b


                answer = summarize(StridedCNN(seed=recipe.seed))
            """)
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
