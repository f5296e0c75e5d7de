"""Force of CNN's helper package: what the notebooks import, and nothing else.

A reading map, one line per module (the notebook that explains it in brackets):

- ``catalogue``  the course's notebooks in reading order, with their roles (README syllabus)
- ``config``     the training recipe, fast/full mode, learning-rate schedule, seeds, paths (00)
- ``data``       download, verify, cache and parse MNIST; the validation/test split; shifts (00)
- ``concepts``   convolution, pooling and the layer table in plain NumPy, tested copies (00)
- ``plots``      every figure the notebooks draw (00, 01-06)
- ``report``     per-class accuracy, bias/variance, the results files (01-06, 07)
- ``exercises``  the exercises' checks, hints and solutions, a module per notebook (all)
- ``runtime``    what the setup cell prints: versions, tested ranges, GPU advice (every notebook)

No module imports TensorFlow, Keras or PyTorch: each notebook imports its own framework. The
course's own tools (runner, bench, levers) live in ``tools/``, outside this package.
"""

from . import catalogue, config, data, plots, report

__all__ = ["catalogue", "config", "data", "plots", "report"]
__version__ = "1.0.0"
