"""The exercises of notebook 08."""

from __future__ import annotations

import numpy as np

from .answers import Refusal, finite_array
from .core import Exercise, make_exercise, number, numbered, solution_code

LOGIT_TOLERANCE = 1e-4  # the tolerance notebook 08 allows between two ports


def _logits(answer, reference, ports) -> np.ndarray:
    """The learner's logits, refused when they are one of the notebook's own arrays."""
    if reference is None:
        raise Refusal(
            "this check needs the notebook's logits: run the cell that makes q1 ... again"
        )
    for name, own in (ports or {}).items():
        if answer is own:
            raise Refusal(
                f"that is the notebook's own array ({name}): give the logits you computed"
            )
    logits = finite_array(answer, "the logits")
    if logits.shape != np.shape(reference):
        return_shape = np.shape(reference)
        raise Refusal(f"the logits have shape {logits.shape}, not {return_shape} (the test images)")
    return logits


def _same_logits(logits, reference) -> str | None:
    difference = float(np.abs(logits - reference).max())
    if difference > LOGIT_TOLERANCE:
        return (
            f"the logits differ by up to {difference:.2g}, more than the {LOGIT_TOLERANCE:g} "
            "allowed: some weights meet the wrong inputs (a kernel's axes, or the order of the "
            "dense rows)"
        )
    return None


def _scrambled(logits, reference, unordered) -> str | None:
    difference = float(np.abs(logits - reference).max())
    if difference <= LOGIT_TOLERANCE:
        return (
            f"a difference of {difference:.2g} is within the tolerance: this port is right, so "
            "the first kernel was transposed, not reshaped"
        )
    if unordered is not None and np.abs(logits - unordered).max() < 0.5:
        return (
            "these are (within rounding) the logits of the port without the dense rows' "
            "reordering, the one above; here the reordering stays and only the first kernel is "
            "reshaped"
        )
    if difference < 0.5:
        return f"the logits move by {difference:.2g} only: is the first kernel really reshaped?"
    if np.ptp(logits, axis=1).max() == 0:
        return "every image gets the same score for all ten digits: these are not a port's logits"
    if (logits.argmax(axis=1) == reference.argmax(axis=1)).all():
        return (
            "these logits give every image the same digit as the right port, as a shift or a "
            "scaling of its logits would: a reshaped first kernel changes what the network sees"
        )
    return None


def exercises(reference=None, ports=None, **_) -> tuple[Exercise, ...]:
    """``reference``: PyTorch's test logits; ``ports``: the notebook's own logits by name."""
    unordered = next((v for k, v in (ports or {}).items() if "not reordered" in k), None)

    def check_scrambled(answer) -> str | None:
        return _scrambled(_logits(answer, reference, ports), reference, unordered)

    def check_same(answer) -> str | None:
        return _same_logits(_logits(answer, reference, ports), reference)

    return numbered(
        make_exercise(
            "Where one input lands",
            number(64, why="Keras lines up all 64 channels of pixel (0, 0) before pixel (0, 1)"),
            "order[k] is the PyTorch input that Keras input k holds, so you are looking for the "
            "k with order[k] == 1; np.argsort(order) turns the question around.",
            solution_code("""
                answer = int(np.argsort(order)[1])  # the k with order[k] == 1
                print(f"PyTorch's input 1 (channel 0 of pixel (0, 1)) is Keras' input {answer}")
            """),
            "64: Keras reads all 64 channels of the top-left pixel first, so channel 0 of the "
            "next pixel comes 64th; np.argsort(order) is the reordering's inverse.",
        ),
        make_exercise(
            "Reshape instead of transpose",
            check_scrambled,
            "Copy keras_weights, put conv1_w.reshape(3, 3, 1, 32) in place of its first array, "
            "set it into a fresh build_keras_model() and give its logits on the test images.",
            solution_code("""
                scrambled = build_keras_model()
                scrambled.set_weights([conv1_w.reshape(3, 3, 1, 32), *keras_weights[1:]])
                scrambled_logits = scrambled.predict(images, batch_size=500, verbose=0)
                print(f"test accuracy {100 * accuracy(scrambled_logits):.2f}%")
                print(f"largest difference {np.abs(scrambled_logits - torch_logits).max():.2f}")
                answer = scrambled_logits
            """),
            "the shapes fit, Keras accepts the weights without a word, and the logits move by "
            "whole units: a reshape keeps the numbers in their order and only redraws the axes.",
        ),
        make_exercise(
            "Back to PyTorch",
            check_same,
            "Undo each step: kernels go back with transpose(3, 2, 0, 1), dense matrices with "
            ".T, and np.argsort(order) puts the first dense layer's rows back in PyTorch's "
            "order. The state_dict keys of the nn.Sequential are '0.weight', '2.weight', "
            "'7.weight' and '10.weight' (and their biases).",
            solution_code("""
                w1, b1, w2, b2, w3, b3, w4, b4 = keras_weights
                back = build_torch_model()
                back.load_state_dict(
                    {
                        name: torch.from_numpy(np.ascontiguousarray(array))
                        for name, array in {
                            "0.weight": w1.transpose(3, 2, 0, 1),
                            "0.bias": b1,
                            "2.weight": w2.transpose(3, 2, 0, 1),
                            "2.bias": b2,
                            "7.weight": w3[np.argsort(order)].T,  # rows back in PyTorch's order
                            "7.bias": b3,
                            "10.weight": w4.T,
                            "10.bias": b4,
                        }.items()
                    }
                )
                with torch.inference_mode():
                    back_logits = back.eval()(images_nchw).numpy()
                print(f"largest difference {np.abs(back_logits - keras_logits).max():.1e}")
                answer = back_logits
            """),
            "the round trip gives Keras' logits back within the tolerance: every transpose and "
            "the reordering have an inverse.",
        ),
        make_exercise(
            "Flatten like Keras",
            check_same,
            "A module whose forward returns x.permute(0, 2, 3, 1).flatten(1) flattens "
            "channels last; put it in place of model[6], the nn.Flatten, and give the first "
            "Linear the weight dense_kernel(fc1_w)[order].T.",
            solution_code("""
                class FlattenChannelsLast(nn.Module):
                    def forward(self, x):  # (N, C, H, W) -> (N, H, W, C) -> (N, 9216)
                        return x.permute(0, 2, 3, 1).flatten(1)


                like_keras = build_torch_model()
                like_keras[6] = FlattenChannelsLast()
                like_keras.load_state_dict(torch_model.state_dict())
                with torch.no_grad():  # the dense rows in Keras' order, as in keras_weights
                    like_keras[7].weight.copy_(torch.from_numpy(dense_kernel(fc1_w)[order].T.copy()))
                with torch.inference_mode():
                    like_keras_logits = like_keras.eval()(images_nchw).numpy()
                print(f"largest difference {np.abs(like_keras_logits - torch_logits).max():.1e}")
                answer = like_keras_logits
            """),
            "flattening channels last in PyTorch makes Keras' row order the right one: the "
            "trap is in the flatten, not in the dense layer.",
        ),
    )
