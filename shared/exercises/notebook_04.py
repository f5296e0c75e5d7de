"""The exercises of notebook 04."""

from __future__ import annotations

from .core import (
    Exercise,
    as_summary,
    has_weight,
    make_exercise,
    numbered,
    output_off,
    parameters_off,
    solution_code,
    strided,
)

FORWARD_SHAPES = [(32, 26, 26), (64, 24, 24), (64, 12, 12), (9216,), (128,), (10,)]


def _check_forward_shapes(answer) -> str | None:
    shapes = [tuple(int(d) for d in shape) for shape in answer]
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


def _check_embedding_shape(answer) -> str | None:
    shape = tuple(int(d) for d in answer)
    if shape == (2000, 10):
        return "(2000, 10) are the logits; the features are the 128 values before fc2"
    if shape != (2000, 128):
        return f"the features have shape {shape}; fc1 gives 128 values per image, (2000, 128)"
    return None


def exercises(**_) -> tuple[Exercise, ...]:
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
        strided(
            solution_code("""
                class StridedNet(nn.Module):
                    def __init__(self):
                        super().__init__()
                        self.conv1 = nn.Conv2d(1, 32, kernel_size=3)
                        self.conv2 = nn.Conv2d(32, 64, kernel_size=4, stride=2)
                        self.fc1 = nn.Linear(9216, 128)
                        self.fc2 = nn.Linear(128, 10)

                    def forward(self, x):
                        x = F.relu(self.conv1(x))  # -> 26x26x32
                        x = F.relu(self.conv2(x))  # -> 12x12x64, no max pool
                        x = F.dropout(x, 0.25, training=self.training)
                        x = torch.flatten(x, 1)  # -> 9216
                        x = F.dropout(F.relu(self.fc1(x)), 0.5, training=self.training)
                        return self.fc2(x)


                answer = summarize(StridedNet().to(device))
            """)
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
            _check_embedding_shape,
            "Give forward a keyword argument, e.g. forward(self, x, features=False), and return "
            "the 128 values after fc1 and its ReLU when it is True. Load the trained weights "
            "with load_state_dict(model.state_dict()).",
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
                    answer = tuple(with_features(val_x, features=True).shape)
                print(answer)
            """),
            "(2000, 128): one module, two outputs chosen by an argument; the state_dict loads "
            "because the attribute names (conv1, conv2, fc1, fc2) did not change.",
        ),
    )
