"""Exercises a learner can check: every notebook ends with a few, each with ``check``, ``hint``
and ``solution``, and notebooks 00 and 07 end with a questionnaire.

In a notebook::

    from shared import exercises

    q1, q2, q3, q4 = exercises.for_notebook("03_pytorch_sequential")
    answer = None  # your code
    q1.check(answer)  # one sentence: correct, or what is off and by how much
    q1.hint()
    q1.solution()  # code that runs in the notebook, or a model answer

Everything here is plain Python and NumPy: no deep-learning framework is imported. A model is
checked through its *summary*, a dict that a few lines in each notebook (``summarize(model)``)
fill in for their framework::

    {
        "parameters": 1199882,
        "weights": [("conv1.weight", (32, 1, 3, 3)), ...],  # every weight tensor's shape
        "layers": [("Conv2D", (26, 26, 32)), ...],  # optional: each layer's output, one image
        "output": (10,),  # optional: the logits of one image
    }

Checks of a training run accept a range, not a point: one range for full mode and a wider,
stated one for fast mode (one epoch on 4,096 images, what the tests run).
"""

from __future__ import annotations

from .. import catalogue
from . import (
    notebook_00,
    notebook_01,
    notebook_02,
    notebook_03,
    notebook_04,
    notebook_05,
    notebook_06,
    notebook_07,
    notebook_08,
    notebook_09,
    quiz_00,
)
from .core import Exercise, Questionnaire
from .summaries import summary_from_layers

__all__ = ["Exercise", "Questionnaire", "for_notebook", "notebooks", "questionnaire"]
__all__ += ["summary_from_layers"]


def notebooks() -> tuple[str, ...]:
    """The notebooks that have exercises, in course order."""
    return tuple(nb.name for nb in catalogue.NOTEBOOKS if nb.name in _EXERCISES)


def for_notebook(name: str, **context) -> tuple[Exercise, ...]:
    """The exercises of a notebook, by name or number (``"03"``), in order. Notebook 07's checks
    compare your answers with the measurements, so it passes ``runs=`` (and ``bench=``)."""
    notebook = catalogue.find(name)
    if notebook.name not in _EXERCISES:
        raise ValueError(f"{notebook.name} has no exercises; these do: {', '.join(_EXERCISES)}.")
    return _EXERCISES[notebook.name](**context)


def questionnaire(name: str, **context) -> Questionnaire:
    """The questionnaire at the end of a notebook (00 and 07 have one). Notebook 07's answers
    come from the measurements: it may pass ``bench=`` and ``levers=`` (default: the course's)."""
    notebook = catalogue.find(name)
    if notebook.name not in _QUESTIONNAIRES:
        raise ValueError(
            f"{notebook.name} has no questionnaire; these do: {', '.join(_QUESTIONNAIRES)}."
        )
    return Questionnaire(_QUESTIONNAIRES[notebook.name](**context))


_EXERCISES = {
    "00_cnn_concepts": notebook_00.exercises,
    "01_keras_sequential": notebook_01.exercises,
    "02_keras_functional": notebook_02.exercises,
    "03_pytorch_sequential": notebook_03.exercises,
    "04_pytorch_functional": notebook_04.exercises,
    "05_tensorflow_raw": notebook_05.exercises,
    "06_fastai": notebook_06.exercises,
    "07_compare_backends": notebook_07.exercises,
    "08_same_network": notebook_08.exercises,
    "09_distributed": notebook_09.exercises,
}


_QUESTIONNAIRES = {
    "00_cnn_concepts": quiz_00.questionnaire,
    "07_compare_backends": notebook_07.questionnaire,
}
