"""The exercises of notebook 04."""

from __future__ import annotations

import numpy as np

from .answers import finite_array, sequence, shape_of
from .core import Exercise, make_exercise, numbered, solution_code
from .features import dense_stack, features_off
from .summaries import as_summary, has_weight, output_off, parameters_off

FORWARD_SHAPES = [(32, 26, 26), (64, 24, 24), (64, 12, 12), (9216,), (128,), (10,)]


def _check_forward_shapes(answer) -> str | None:
    shapes = [shape_of(shape) for shape in sequence(answer, "a list of shapes")]
    if shapes and all(len(s) > 1 and s[0] == 1 for s in shapes):
        shapes = [s[1:] for s in shapes]  # a batch of one image
    if len(shapes) != len(FORWARD_SHAPES):
        return f"{len(shapes)} shapes recorded; forward has {len(FORWARD_SHAPES)} steps to record"
    for got, want in zip(shapes, FORWARD_SHAPES, strict=True):
        if got != want:
            return f"one step gives {got} where {want} (per image, channels first) is expected"
    return None


SHORTCUT_PARAMETERS = 1_201_994  # + 1 x 1 x 32 x 64 + 64 = 2,112


def _check_shortcut(answer) -> str | None:
    summary = as_summary(answer)
    if not has_weight(summary, (1, 1, 32, 64)):
        return "there is no 1 × 1 convolution from 32 to 64 channels for the shortcut"
    return parameters_off(summary, SHORTCUT_PARAMETERS) or output_off(summary)


def _check_saliency(answer) -> str | None:
    saliency = finite_array(answer, "the input's gradient, one value per pixel")
    if saliency.size != 28 * 28:
        return f"{saliency.size} values: the gradient has one per input pixel, 28 × 28 = 784"
    saliency = np.abs(saliency.reshape(28, 28))
    if not saliency.any():
        return "the gradient is 0 everywhere: did you call backward() on the digit's logit?"
    border = np.concatenate([saliency[:3].ravel(), saliency[-3:].ravel()])
    if saliency[8:20, 8:20].mean() <= border.mean():
        return (
            "the gradient is as large at the empty border as in the middle, where the digit is: "
            "take it with respect to a real test image, x = test_x[:1]"
        )
    return None


def exercises(fc2=None, **_) -> tuple[Exercise, ...]:
    """``fc2``: the trained model's last layer, ``[kernel (128, 10), bias]`` as NumPy arrays."""
    stack = None if fc2 is None else dense_stack(fc2)

    def check_features(answer) -> str | None:
        return features_off(answer, stack, (128,), 500, "fc1 and its ReLU")

    return numbered(
        make_exercise(
            "Shapes inside forward",
            _check_forward_shapes,
            "Subclass Net, copy its forward, and after each step append tuple(x.shape) to a "
            "list (self.shapes); skip the dropouts, which keep the shape. Run one image.",
            solution_code("""
                class TracedNet(Net):
                    def forward(self, x):
                        self.shapes = []
                        x = F.relu(self.conv1(x))
                        self.shapes.append(tuple(x.shape))
                        x = F.relu(self.conv2(x))
                        self.shapes.append(tuple(x.shape))
                        x = F.max_pool2d(x, 2)
                        self.shapes.append(tuple(x.shape))
                        x = torch.flatten(F.dropout(x, 0.25, training=self.training), 1)
                        self.shapes.append(tuple(x.shape))
                        x = F.relu(self.fc1(x))
                        self.shapes.append(tuple(x.shape))
                        x = self.fc2(F.dropout(x, 0.5, training=self.training))
                        self.shapes.append(tuple(x.shape))
                        return x


                traced = TracedNet().eval()
                with torch.inference_mode():
                    traced(torch.zeros(1, 1, 28, 28))
                print(traced.shapes)
                answer = traced.shapes
            """),
            "(1, 32, 26, 26) → (1, 64, 24, 24) → (1, 64, 12, 12) → (1, 9216) → (1, 128) → "
            "(1, 10): forward is plain Python, so a print or a list append goes anywhere in it.",
        ),
        make_exercise(
            "Which pixels matter",
            _check_saliency,
            "x = test_x[:1].clone().requires_grad_(); logits = model.eval()(x); "
            "logits[0, logits.argmax()].backward() fills x.grad with how much each pixel moves "
            "the winning logit. Outside inference_mode, since it needs the graph.",
            solution_code("""
                model.eval()
                x = test_x[:1].clone().requires_grad_()  # autograd tracks the input too
                logits = model(x)
                logits[0, logits.argmax()].backward()  # d(winning logit) / d(each pixel)
                answer = x.grad[0, 0].cpu().numpy()
                row, col = np.unravel_index(np.abs(answer).argmax(), answer.shape)
                print(f"the winning logit is most sensitive to pixel ({row}, {col})")
            """),
            "autograd differentiates with respect to any tensor that asks for it, the input "
            "included: the large gradients sit on and around the strokes, a saliency map, the "
            "simplest way to ask a network what it looked at.",
        ),
        make_exercise(
            "A projection shortcut",
            _check_shortcut,
            "conv2 maps 26 × 26 × 32 to 24 × 24 × 64. Cut the border off its input "
            "(x[:, :, 1:-1, 1:-1] is 24 × 24) and give it 64 channels with nn.Conv2d(32, 64, "
            "kernel_size=1); add that to conv2's output before the ReLU.",
            solution_code("""
                class ShortcutNet(Net):
                    def __init__(self):
                        super().__init__()
                        self.project = nn.Conv2d(32, 64, kernel_size=1)  # the shortcut's 1x1

                    def forward(self, x):
                        x = F.relu(self.conv1(x))  # 26x26x32
                        shortcut = self.project(x[:, :, 1:-1, 1:-1])  # 24x24x64
                        x = F.relu(self.conv2(x) + shortcut)  # 24x24x64
                        x = F.max_pool2d(x, 2)
                        x = torch.flatten(F.dropout(x, 0.25, training=self.training), 1)
                        x = F.dropout(F.relu(self.fc1(x)), 0.5, training=self.training)
                        return self.fc2(x)


                answer = summarize(ShortcutNet().to(device))
            """),
            "1,201,994 parameters, 2,112 for the 1 × 1 projection: the sizes of both paths "
            "must agree before they are added, which the slicing and the 1 × 1 convolution "
            "arrange. nn.Sequential cannot express this.",
        ),
        make_exercise(
            "Two things from forward",
            check_features,
            "Give forward a keyword argument, e.g. forward(self, x, features=False), and return "
            "the 128 values after fc1 and its ReLU when it is True. Load the trained weights "
            "with load_state_dict(model.state_dict()) and give (features, logits) of "
            "val_x[:500] as NumPy arrays.",
            solution_code("""
                class NetWithFeatures(Net):
                    def forward(self, x, features=False):
                        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
                        x = torch.flatten(F.dropout(x, 0.25, training=self.training), 1)
                        x = F.relu(self.fc1(x))
                        if features:
                            return x  # the 128 values the last layer classifies
                        return self.fc2(F.dropout(x, 0.5, training=self.training))


                with_features = NetWithFeatures().to(device, memory_format=torch.channels_last)
                with_features.load_state_dict(model.state_dict())  # same names, same weights
                with_features.eval()
                with torch.inference_mode():
                    answer = (
                        with_features(val_x[:500], features=True).cpu().numpy(),
                        with_features(val_x[:500]).cpu().numpy(),
                    )
                print(answer[0].shape)
            """),
            "the check ran fc2 on your 500 × 128 features in NumPy and got the logits back: "
            "one module, two outputs chosen by an argument; the state_dict loaded because the "
            "attribute names (conv1, conv2, fc1, fc2) did not change.",
        ),
    )
