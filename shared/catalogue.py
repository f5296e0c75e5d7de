"""The course's notebooks in reading order: the one list that everything else reads.

The README's syllabus, the course runner, the bench, the comparison notebook and the tests all
take their notebooks from ``NOTEBOOKS``. To add a backend, add its notebook here.
"""

from __future__ import annotations

import dataclasses

#: What a notebook is for: ``concepts`` (no framework), ``backend`` (trains the course's network
#: in one framework and writes ``results/<name>.json``) or ``comparison`` (reads the others).
ROLES = ("concepts", "backend", "comparison")


@dataclasses.dataclass(frozen=True)
class Notebook:
    name: str  # file name without .ipynb, e.g. "03_pytorch_sequential"
    role: str
    title: str  # e.g. "PyTorch (nn.Sequential)": a backend's name in tables and plots
    syllabus: str  # what it teaches, one line for the README

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"{self.name}: role {self.role!r} is not one of {ROLES}.")

    @property
    def file_name(self) -> str:
        return f"{self.name}.ipynb"


NOTEBOOKS = (
    Notebook(
        "00_cnn_concepts",
        "concepts",
        "CNN concepts",
        "How a CNN sees and learns: convolution, pooling, the layer table, softmax, backprop, "
        "Adam, bias and variance",
    ),
    Notebook(
        "01_keras_sequential",
        "backend",
        "Keras (Sequential)",
        "The network as a Keras `Sequential` stack; `compile` and `fit`",
    ),
    Notebook(
        "02_keras_functional",
        "backend",
        "Keras (Functional)",
        "The same with the Keras Functional API: layers called on tensors",
    ),
    Notebook(
        "03_pytorch_sequential",
        "backend",
        "PyTorch (nn.Sequential)",
        "PyTorch with `nn.Sequential`; a hand-written training loop",
    ),
    Notebook(
        "04_pytorch_functional",
        "backend",
        "PyTorch (nn.Module + functional)",
        "PyTorch with `nn.Module` and `torch.nn.functional`",
    ),
    Notebook(
        "05_tensorflow_raw",
        "backend",
        "TensorFlow (raw)",
        "TensorFlow without Keras: variables, `GradientTape`, `tf.function`, Adam",
    ),
    Notebook(
        "06_fastai",
        "backend",
        "fastai (Learner)",
        "fastai's `Learner`, callbacks and interpretation around the PyTorch model",
    ),
    Notebook(
        "07_compare_backends",
        "comparison",
        "The comparison",
        "All six side by side: accuracy, learning curves, speed",
    ),
    Notebook(
        "08_same_network",
        "comparison",
        "The same network",
        "One set of weights in PyTorch, Keras, raw TensorFlow and NumPy: kernel layouts, the "
        "flatten trap, the same logits",
    ),
    Notebook(
        "09_distributed",
        "comparison",
        "Several workers",
        "Data parallelism with each framework's own engine (DDP and torchrun, MirroredStrategy, "
        "MultiWorkerMirroredStrategy, Keras on JAX, fastai), proven equal to one worker",
    ),
)


def backends(notebooks=None) -> tuple[Notebook, ...]:
    """The notebooks that train the network, in reading order (of ``notebooks``, by default
    of ``NOTEBOOKS`` as it is when called)."""
    return tuple(nb for nb in notebooks or NOTEBOOKS if nb.role == "backend")


def backend_names(notebooks=None) -> tuple[str, ...]:
    return tuple(nb.name for nb in backends(notebooks))


def find(name: str, notebooks=None) -> Notebook:
    """The notebook called ``name`` (``03_pytorch_sequential``) or numbered ``name`` (``03``)."""
    notebooks = notebooks or NOTEBOOKS
    for nb in notebooks:
        if name in (nb.name, nb.file_name, nb.name[:2]):
            return nb
    valid = ", ".join(nb.name for nb in notebooks)
    raise ValueError(f"No notebook {name!r} in the course. Use a number or a name: {valid}.")
